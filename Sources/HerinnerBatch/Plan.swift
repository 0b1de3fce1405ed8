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
    init(inReplyTo: String?, references: [String], recipients: [String]?) {
      self.inReplyTo = inReplyTo
      self.references = references
      self.recipients = recipients
    }

    static func make(_ inReplyTo: String?, _ references: [String], _ recipients: [String]?)
      -> Extra?
    {
      inReplyTo == nil && references.isEmpty && recipients == nil
        ? nil : Extra(inReplyTo: inReplyTo, references: references, recipients: recipients)
    }
  }

  /// The Message-ID this one answers (the first reminder's, for a second).
  public var inReplyTo: String? {
    get { extra?.inReplyTo }
    set { extra = Extra.make(newValue, references, recipientsOverride) }
  }

  /// The Message-IDs this one threads to.
  public var references: [String] {
    get { extra?.references ?? [] }
    set { extra = Extra.make(inReplyTo, newValue, recipientsOverride) }
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
        policy: basis.policy, date: basis.date, firstSentOn: firstSentOn,
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
      coverConsumerClaims(&plan, invoices: invoices, histories: histories)
    }
    if maxMessageBytes > 0 { split(&plan) }
    return plan
  }

  /// Art. 6:96 lid 7 BW: several claims on one consumer belong in one letter, the WIK costs over
  /// their sum. A consumer's second letter therefore also lists the claims already past their
  /// second step (open, not settled), without recording a new step for them.
  func coverConsumerClaims(
    _ plan: inout NightPlan, invoices: [Invoice], histories: [String: InvoiceHistory]
  ) {
    let ladder = Ladder(policy: policy)
    // The consumers who get a second letter tonight, and their other claims past their second.
    var seconds: [GroupKey: Int] = [:]
    for (i, m) in plan.messages.enumerated() where m.step == .second {
      guard case .planned(let b, let indices, _, _, _) = m.source,
        b.invoices[Int(indices.first)].kind == .consumer
      else { continue }
      seconds[GroupKey(b.invoices[Int(indices.first)], step: .second, perCustomer: true)] = i
    }
    guard !seconds.isEmpty else { return }
    var extra: [Int: [Int32]] = [:]
    for (index, inv) in invoices.enumerated() {
      guard let i = seconds[GroupKey(inv, step: .second, perCustomer: true)],
        let h = histories[inv.number], h.firstSent(.second) != nil,
        case .planned(_, let indices, _, _, _) = plan.messages[i].source,
        !indices.contains(index)
      else { continue }
      let d = ladder.decision(for: inv, history: h, on: plan.date)
      if d.step == .collection || d.reason == .notYet { extra[i, default: []].append(Int32(index)) }
    }
    for (i, more) in extra {
      guard case .planned(let b, let indices, let n, let first, let costs) = plan.messages[i].source
      else { continue }
      plan.messages[i].source = .planned(
        b, indices: Positions(indices.all + more), recorded: n, firstSentOn: first, costs: costs)
    }
  }

  /// Splits messages whose attachments exceed `maxMessageBytes`, keeping the invoice order.
  func split(_ plan: inout NightPlan) {
    // Only the messages that need it are split, in place of themselves; a night where none
    // does is left as it is (copying the whole plan was a quarter of its memory at the peak).
    var parts: [(at: Int, with: [PlannedMessage])] = []
    for (at, m) in plan.messages.enumerated() {
      guard case .planned(let b, let positions, let recordedCount, let first, _) = m.source,
        positions.count > 1
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
