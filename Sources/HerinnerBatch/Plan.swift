import Foundation
import HerinnerCore
import HerinnerLetters

/// One message the night will send: a step for one customer, covering one or more invoices.
///
/// Small on purpose (memory must not grow with the night beyond the invoice records): a planned
/// message holds the positions of its invoices in the night's shared invoice array, and its
/// letter is made when it is asked for (when the message is built), not kept for the whole night.
public struct PlannedMessage: Sendable {
  public var step: Step
  var source: Source
  /// What few messages have: the threading of a second letter, a resend's recipients. Boxed,
  /// so that a night of first reminders carries one pointer for it.
  private var extra: Extra?

  final class Extra: Sendable {
    let inReplyTo: String?
    let references: [String]
    let recipients: [String]?
    /// A bundled second letter's per-invoice first-reminder dates.
    let remindedOn: [String: CalendarDate]
    /// The dates of the earlier 14-day letters a consumer's letter replaces.
    let replaces: [CalendarDate]
    init(
      inReplyTo: String?, references: [String], recipients: [String]?,
      remindedOn: [String: CalendarDate] = [:], replaces: [CalendarDate] = []
    ) {
      self.inReplyTo = inReplyTo
      self.references = references
      self.recipients = recipients
      self.remindedOn = remindedOn
      self.replaces = replaces
    }

    static func make(
      _ inReplyTo: String?, _ references: [String], _ recipients: [String]?,
      remindedOn: [String: CalendarDate] = [:], replaces: [CalendarDate] = []
    ) -> Extra? {
      inReplyTo == nil && references.isEmpty && recipients == nil && remindedOn.isEmpty
        && replaces.isEmpty
        ? nil
        : Extra(
          inReplyTo: inReplyTo, references: references, recipients: recipients,
          remindedOn: remindedOn, replaces: replaces)
    }
  }

  /// The Message-ID this one answers (the first reminder's, for a second).
  public var inReplyTo: String? {
    get { extra?.inReplyTo }
    set { extra = remake(inReplyTo: newValue) }
  }

  /// The Message-IDs this one threads to.
  public var references: [String] {
    get { extra?.references ?? [] }
    set { extra = remake(references: newValue) }
  }

  /// Per invoice, the day its own first reminder was sent (a bundled second names each).
  public var remindedOn: [String: CalendarDate] {
    get { extra?.remindedOn ?? [:] }
    set { extra = remake(remindedOn: newValue) }
  }

  /// The dates of the earlier 14-day letters this one replaces.
  public var replaces: [CalendarDate] {
    get { extra?.replaces ?? [] }
    set { extra = remake(replaces: newValue) }
  }

  private func remake(
    inReplyTo: String?? = nil, references: [String]? = nil,
    remindedOn: [String: CalendarDate]? = nil, replaces: [CalendarDate]? = nil
  ) -> Extra? {
    Extra.make(
      inReplyTo ?? self.inReplyTo, references ?? self.references, recipientsOverride,
      remindedOn: remindedOn ?? self.remindedOn, replaces: replaces ?? self.replaces)
  }

  var recipientsOverride: [String]? { extra?.recipients }

  enum Source: Sendable {
    /// A letter made elsewhere (a resend). Boxed: a Letter is several hundred bytes and an
    /// enum is as large as its largest case.
    indirect case letter(Letter, recorded: [String])
    /// Invoices `indices` of the night; the first `recorded` of them take this step (a
    /// consumer's second letter may list more claims than it records).
    case planned(
      PlanBasis, indices: Positions, recorded: Int, firstSentOn: CalendarDate?, costs: Int64?)
  }

  public init(
    step: Step, letter: Letter, recipients: [String], inReplyTo: String?, references: [String],
    recorded: [String]? = nil
  ) {
    self.step = step
    self.source = .letter(letter, recorded: recorded ?? letter.invoices.map(\.number))
    self.extra = Extra.make(inReplyTo, references, recipients)
  }

  init(
    step: Step, basis: PlanBasis, index: Int, firstSentOn: CalendarDate?, inReplyTo: String?,
    references: [String]
  ) {
    self.step = step
    self.source = .planned(
      basis, indices: Positions(index), recorded: 1, firstSentOn: firstSentOn, costs: nil)
    self.extra = Extra.make(inReplyTo, references, nil)
  }

  /// The letter, made now from the night's values.
  public var letter: Letter {
    switch source {
    case .letter(let l, _): return l
    case .planned(let basis, let indices, _, let firstSentOn, let costs):
      return Letter.make(
        step: step, invoices: indices.all.map { basis.invoices[Int($0)] }, sender: basis.sender,
        policy: basis.policy, date: basis.date, firstSentOn: firstSentOn, remindedOn: remindedOn,
        replaces: replaces,
        costsOverride: costs.map {
          Money(cents: $0, currency: basis.invoices[Int(indices.first)].currency)
        })
    }
  }

  public var recipients: [String] {
    if let recipientsOverride { return recipientsOverride }
    switch source {
    case .letter(let l, _): return [l.first.email]
    case .planned(let basis, let indices, _, _, _):
      return [basis.invoices[Int(indices.first)].email]
    }
  }

  public var invoices: [Invoice] {
    switch source {
    case .letter(let l, _): return l.invoices
    case .planned(let basis, let indices, _, _, _):
      return indices.all.map { basis.invoices[Int($0)] }
    }
  }

  /// The invoices whose step this message takes (recorded in the ledger).
  public var recorded: [String] {
    switch source {
    case .letter(_, let r): return r
    case .planned(let basis, let indices, let n, _, _):
      return indices.all.prefix(n).map { basis.invoices[Int($0)].number }
    }
  }

  public var numbers: [String] { recorded }

  /// How many invoices the letter lists (without making the list).
  public var invoiceCount: Int {
    switch source {
    case .letter(let l, _): return l.invoices.count
    case .planned(_, let indices, _, _, _): return indices.count
    }
  }
}

/// What every planned message of a night shares: the invoices (one array, not a copy per
/// message), the sender, the policy and the date.
public final class PlanBasis: Sendable {
  public let invoices: [Invoice]
  public let sender: Sender
  public let policy: Policy
  public let date: CalendarDate
  init(invoices: [Invoice], sender: Sender, policy: Policy, date: CalendarDate) {
    self.invoices = invoices
    self.sender = sender
    self.policy = policy
    self.date = date
  }
}

/// What tonight holds: the messages, the call list, the invoices ready for collection, and why
/// the rest waits. Pure: built from values, reads no clock and no file.
public struct NightPlan: Sendable {
  public var date: CalendarDate
  /// Why nothing is sent tonight (a weekend or public holiday with `businessDaysOnly`).
  public var closed: String?
  public var messages: [PlannedMessage] = []
  public var calls: [Invoice] = []
  public var collection: [Invoice] = []
  /// Invoices that wait or are stopped, by reason key.
  public var waiting: [String: Int] = [:]
  /// Invoices that need a person (unknown or rejected deliveries), with the reason.
  public var attention: [(invoice: String, reason: WaitReason)] = []
}

/// Decides tonight's messages from the invoices and their histories.
public struct Planner: Sendable {
  public var policy: Policy
  public var sender: Sender
  /// Messages whose attachments would exceed this are split (stable order). 0: no limit.
  public var maxMessageBytes: Int
  /// An attachment's size in bytes (nil when unknown).
  public var attachmentSize: @Sendable (String) -> Int?
  /// Replaces the grouping hash (tests: every key colliding must still group correctly).
  var groupHash: (@Sendable (GroupKey) -> Int)? = nil

  public init(
    policy: Policy, sender: Sender, maxMessageBytes: Int = 0,
    attachmentSize: @escaping @Sendable (String) -> Int? = { _ in nil }
  ) {
    self.policy = policy
    self.sender = sender
    self.maxMessageBytes = maxMessageBytes
    self.attachmentSize = attachmentSize
  }

  /// Base64 plus headers: what an attachment adds to a message.
  func encodedSize(_ inv: Invoice) -> Int { (attachmentSize(inv.pdf) ?? 0) * 4 / 3 + 2_000 }

  /// - Parameters:
  ///   - messageIDs: the Message-IDs of an invoice's sent deliveries of a step (oldest first), for threading.
  public func plan(
    invoices: [Invoice], histories: [String: InvoiceHistory], on date: CalendarDate,
    messageIDs: (String, Step) -> [String]
  ) -> NightPlan {
    var plan = NightPlan(date: date)
    let calendar = BusinessCalendar(liberationDayEveryYear: policy.liberationDayEveryYear)
    if policy.businessDaysOnly, let why = calendar.closedReason(date) {
      plan.closed = why
    }
    let ladder = Ladder(policy: policy)
    let basis = PlanBasis(invoices: invoices, sender: sender, policy: policy, date: date)
    var groups = Groups()  // customer + step → index in plan.messages
    if let groupHash { groups.hash = groupHash }
    // The claims a replacing 14-day letter listed without recording them count as covered.
    let histories =
      policy.onePerCustomer
      ? ConsumerClaims.coveredHistories(invoices: invoices, histories: histories) : histories
    // At most one message per invoice; pages never written are never resident.
    plan.messages.reserveCapacity(invoices.count)
    for (index, inv) in invoices.enumerated() {
      let history = histories[inv.number] ?? .empty
      let d = ladder.decision(for: inv, history: history, on: date)
      guard let step = d.step else {
        let reason = d.reason ?? .notYet
        plan.waiting[reason.key, default: 0] += 1
        if reason.needsAttention { plan.attention.append((inv.number, reason)) }
        continue
      }
      switch step {
      case .call:
        plan.calls.append(inv)
      case .collection:
        plan.collection.append(inv)
      case .first, .second:
        if plan.closed != nil {
          plan.waiting["closed-today", default: 0] += 1
          continue
        }
        let firstSent = history.firstSent(.first)?.date
        let key = GroupKey(inv, step: step, perCustomer: policy.onePerCustomer)
        if let i = groups.find(key, in: plan.messages) {
          guard
            case .planned(let b, var indices, let n, let earlier, let costs) = plan.messages[i]
              .source
          else { continue }
          indices.append(index)
          let earliestFirst = [earlier, firstSent].compactMap { $0 }.min()
          plan.messages[i].source = .planned(
            b, indices: indices, recorded: n + 1, firstSentOn: earliestFirst, costs: costs)
          if step == .second {
            let ids = messageIDs(inv.number, .first)
            for id in ids where !plan.messages[i].references.contains(id) {
              plan.messages[i].references.append(id)
            }
          }
        } else {
          var refs: [String] = []
          if step == .second { refs = messageIDs(inv.number, .first) }
          groups.insert(key, plan.messages.count)
          plan.messages.append(
            PlannedMessage(
              step: step, basis: basis, index: index, firstSentOn: firstSent,
              inReplyTo: refs.first, references: refs))
        }
      }
    }
    if policy.onePerCustomer {
      coverConsumerClaims(&plan, invoices: invoices, histories: histories, messageIDs: messageIDs)
    }
    remindersPerInvoice(&plan, histories: histories)
    if maxMessageBytes > 0 { split(&plan) }
    return plan
  }

  /// Art. 6:96 lid 7 BW: the claims on one consumer for which a 14-day letter can be sent go in
  /// one letter, the WIK costs computed once over their summed principal. A consumer's second
  /// letter tonight therefore lists every claim of that consumer (same currency) that is past
  /// its due date and open, whatever step it reached:
  /// - a claim without a second yet takes its second in this letter (recorded): its first
  ///   reminder, if due tonight or not sent, is not sent any more, and its call is not needed;
  /// - a claim an earlier 14-day letter covered is listed again (not recorded: the replacing
  ///   letter's deadline reaches it through `ConsumerClaims.coveredHistories`), and leaves
  ///   tonight's collection list: it moves on after this letter's deadline.
  /// The letter names the dates of the earlier letters it replaces.
  func coverConsumerClaims(
    _ plan: inout NightPlan, invoices: [Invoice], histories: [String: InvoiceHistory],
    messageIDs: (String, Step) -> [String]
  ) {
    var seconds: [String: Int] = [:]
    for (i, m) in plan.messages.enumerated() where m.step == .second {
      guard case .planned(let b, let indices, _, _, _) = m.source,
        let key = ConsumerClaims.consumerKey(b.invoices[Int(indices.first)])
      else { continue }
      seconds[key] = i
    }
    guard !seconds.isEmpty else { return }
    // Where each consumer invoice of tonight's first letters is: (message, position).
    var inFirst: [Int: Int] = [:]
    for (i, m) in plan.messages.enumerated() where m.step == .first {
      guard case .planned(let b, let indices, _, _, _) = m.source,
        ConsumerClaims.consumerKey(b.invoices[Int(indices.first)]).map({ seconds[$0] != nil })
          == true
      else { continue }
      for x in indices.all { inFirst[Int(x)] = i }
    }
    let ladder = Ladder(policy: policy)
    var taken: [Int: [Int32]] = [:]  // second message → invoices that take their second in it
    var listed: [Int: [Int32]] = [:]  // second message → invoices listed again
    var dropFirst: [Int: Set<Int32>] = [:]
    var leaving = Set<String>()  // leave tonight's calls and collection
    for (index, inv) in invoices.enumerated() {
      guard let key = ConsumerClaims.consumerKey(inv), let i = seconds[key],
        case .planned(_, let indices, _, _, _) = plan.messages[i].source,
        !indices.contains(index), inv.due < plan.date,
        ConsumerClaims.isOpen(inv, history: histories[inv.number])
      else { continue }
      let h = histories[inv.number] ?? .empty
      if h.firstSent(.second) != nil {
        listed[i, default: []].append(Int32(index))
      } else {
        let d = ladder.decision(for: inv, history: h, on: plan.date)
        // An unknown or refused delivery waits for a person before anything else is sent.
        if d.reason?.needsAttention == true { continue }
        // Below `policy.minimumOutstanding` a claim is not pursued on its own either.
        if case .belowMinimum = d.reason { continue }
        taken[i, default: []].append(Int32(index))
        if let f = inFirst[index] {
          dropFirst[f, default: []].insert(Int32(index))
        } else {
          if d.step == nil, let reason = d.reason {
            plan.waiting[reason.key, default: 0] -= 1
            if plan.waiting[reason.key] == 0 { plan.waiting[reason.key] = nil }
          }
        }
      }
      leaving.insert(inv.number)
    }
    for i in Set(seconds.values) {
      guard case .planned(let b, let indices, let n, let first, let costs) = plan.messages[i].source
      else { continue }
      let more = taken[i] ?? []
      let again = listed[i] ?? []
      guard !more.isEmpty || !again.isEmpty else { continue }
      // Recorded invoices first: the first `recorded` positions take the step.
      plan.messages[i].source = .planned(
        b,
        indices: Positions(Array(indices.all.prefix(n)) + more + indices.all.dropFirst(n) + again),
        recorded: n + more.count, firstSentOn: first, costs: costs)
      for x in more {
        for id in messageIDs(b.invoices[Int(x)].number, .first)
        where !plan.messages[i].references.contains(id) {
          plan.messages[i].references.append(id)
        }
      }
    }
    // The replaced letters: every earlier 14-day letter that listed one of tonight's claims.
    for i in Set(seconds.values) {
      var dates = Set<CalendarDate>()
      for inv in plan.messages[i].invoices {
        for r in histories[inv.number]?.deliveries ?? []
        where r.step == .second && r.state == .sent && r.date < plan.date {
          dates.insert(r.date)
        }
      }
      if !dates.isEmpty { plan.messages[i].replaces = dates.sorted() }
    }
    plan.calls.removeAll { leaving.contains($0.number) }
    plan.collection.removeAll { leaving.contains($0.number) }
    guard !dropFirst.isEmpty else { return }
    var emptied = Set<Int>()
    for (f, gone) in dropFirst {
      guard case .planned(let b, let indices, _, let first, let costs) = plan.messages[f].source
      else { continue }
      let rest = indices.all.filter { !gone.contains($0) }
      if rest.isEmpty {
        emptied.insert(f)
      } else {
        plan.messages[f].source = .planned(
          b, indices: Positions(rest), recorded: rest.count, firstSentOn: first, costs: costs)
      }
    }
    if !emptied.isEmpty {
      plan.messages = plan.messages.enumerated().filter { !emptied.contains($0.offset) }.map(
        \.element)
    }
  }

  /// A second letter over several invoices names each one's own first reminder date.
  func remindersPerInvoice(_ plan: inout NightPlan, histories: [String: InvoiceHistory]) {
    for i in plan.messages.indices where plan.messages[i].step == .second {
      guard case .planned = plan.messages[i].source, plan.messages[i].invoiceCount > 1 else {
        continue
      }
      var dates: [String: CalendarDate] = [:]
      for inv in plan.messages[i].invoices {
        if let f = histories[inv.number]?.firstSent(.first)?.date { dates[inv.number] = f }
      }
      if !dates.isEmpty { plan.messages[i].remindedOn = dates }
    }
  }

  /// Splits messages whose attachments exceed `maxMessageBytes`, keeping the invoice order.
  func split(_ plan: inout NightPlan) {
    // Only the messages that need it are split, in place of themselves; a night where none
    // does is left as it is, not copied (the plan is the night's largest structure).
    var parts: [(at: Int, with: [PlannedMessage])] = []
    for (at, m) in plan.messages.enumerated() {
      guard case .planned(let b, let positions, let recordedCount, let first, _) = m.source,
        positions.count > 1,
        // A consumer's claims go in one 14-day letter (art. 6:96 lid 7 BW): never split.
        !(m.step == .second && b.invoices[Int(positions.first)].kind == .consumer)
      else { continue }
      let indices = positions.all
      var chunks: [ArraySlice<Int32>] = []
      var begin = 0
      var size = 20_000
      for (k, index) in indices.enumerated() {
        let s = encodedSize(b.invoices[Int(index)])
        if k > begin && size + s > maxMessageBytes {
          chunks.append(indices[begin..<k])
          begin = k
          size = 20_000
        }
        size += s
      }
      chunks.append(indices[begin...])
      guard chunks.count > 1 else { continue }
      // The costs of a consumer's claims stay computed over all of them.
      let costs = m.letter.costs?.cents
      var with: [PlannedMessage] = []
      for chunk in chunks {
        // Recorded invoices come first: those of this chunk are its first ones.
        let recorded = max(0, min(chunk.endIndex, recordedCount) - chunk.startIndex)
        guard recorded > 0 else { continue }
        var part = m
        part.source = .planned(
          b, indices: Positions(Array(chunk)), recorded: recorded, firstSentOn: first, costs: costs)
        with.append(part)
      }
      parts.append((at, with))
    }
    if parts.count <= 64 {
      // Back to front, so the earlier positions stay valid.
      for (at, with) in parts.reversed() {
        plan.messages.replaceSubrange(at...at, with: with)
      }
      return
    }
    // Many splits: one pass instead of shifting the tail for each.
    var out: [PlannedMessage] = []
    out.reserveCapacity(plan.messages.count + parts.reduce(0) { $0 + $1.with.count - 1 })
    var next = 0
    for (at, m) in plan.messages.enumerated() {
      if next < parts.count && parts[next].at == at {
        out += parts[next].with
        next += 1
      } else {
        out.append(m)
      }
    }
    plan.messages = out
  }
}

/// Groups invoices into one letter per customer and step without building a key string per
/// invoice: `customer_id` where given, else the lower-cased address plus kind.
struct GroupKey: Hashable {
  var id: String?
  var email: String?
  var kind: CustomerKind
  var currency: String
  var step: Step
  var number: String?

  /// A consumer never shares a letter with business invoices, whatever `customer_id` says (a
  /// consumer's 14-day letter must not turn into a business letter), and a letter covers one
  /// currency (its total is a sum).
  init(_ inv: Invoice, step: Step, perCustomer: Bool) {
    self.step = step
    kind = inv.kind
    currency = inv.currency
    if !perCustomer {
      number = inv.number
    } else if let id = inv.customerID, !id.isEmpty {
      self.id = id
    } else {
      email = inv.email.lowercased()
    }
  }
}

/// A message's invoices, as positions in the night's invoice array: the first inline, so the
/// common one-invoice letter allocates nothing.
struct Positions: Sendable {
  var first: Int32
  var rest: [Int32] = []
  init(_ i: Int) { first = Int32(i) }
  init(_ all: [Int32]) {
    first = all[0]
    rest = Array(all.dropFirst())
  }
  var all: [Int32] { [first] + rest }
  var count: Int { 1 + rest.count }
  mutating func append(_ i: Int) { rest.append(Int32(i)) }
  func contains(_ i: Int) -> Bool { first == Int32(i) || rest.contains(Int32(i)) }
}

/// The planner's map from a group key to its message, kept small for a night of 100,000
/// letters: by the key's hash (8 bytes, no key strings kept), verified against the group's
/// first invoice; the rare key whose hash another group already holds goes to a second map.
struct Groups {
  private var byHash: [Int: Int] = [:]
  private var collided: [GroupKey: Int] = [:]
  /// The hash used (a test makes every key collide).
  var hash: (GroupKey) -> Int = { $0.hashValue }

  func find(_ key: GroupKey, in messages: [PlannedMessage]) -> Int? {
    if let i = collided[key] { return i }
    guard let i = byHash[hash(key)],
      case .planned(let b, let positions, _, _, _) = messages[i].source,
      GroupKey(b.invoices[Int(positions.first)], like: key) == key
    else { return nil }
    return i
  }

  mutating func insert(_ key: GroupKey, _ index: Int) {
    let h = hash(key)
    if byHash[h] == nil {
      byHash[h] = index
    } else {
      collided[key] = index
    }
  }
}

extension GroupKey {
  /// The key of `inv` built the way `key` was (same step and grouping).
  init(_ inv: Invoice, like key: GroupKey) {
    self.init(inv, step: key.step, perCustomer: key.number == nil)
  }
}
