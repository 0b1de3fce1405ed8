import Foundation
import HerinnerCore
import HerinnerLetters

/// One message the night will send: a step for one customer, covering one or more invoices.
public struct PlannedMessage: Sendable {
  public var step: Step
  public var letter: Letter
  public var recipients: [String]
  /// The Message-IDs this one threads to (the first reminder's, for a second).
  public var inReplyTo: String?
  public var references: [String]
  /// The invoices whose step this message takes (recorded in the ledger). A consumer's second
  /// letter may list more claims than it records: those already past their second step.
  public var recorded: [String]

  public init(
    step: Step, letter: Letter, recipients: [String], inReplyTo: String?, references: [String],
    recorded: [String]? = nil
  ) {
    self.step = step
    self.letter = letter
    self.recipients = recipients
    self.inReplyTo = inReplyTo
    self.references = references
    self.recorded = recorded ?? letter.invoices.map(\.number)
  }

  public var invoices: [Invoice] { letter.invoices }
  public var numbers: [String] { recorded }
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
  public var attention: [(invoice: String, reason: String)] = []
}

/// Decides tonight's messages from the invoices and their histories.
public struct Planner: Sendable {
  public var policy: Policy
  public var sender: Sender
  /// Messages whose attachments would exceed this are split (stable order). 0: no limit.
  public var maxMessageBytes: Int
  /// An attachment's size in bytes (nil when unknown).
  public var attachmentSize: @Sendable (String) -> Int?

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
    var groups: [String: Int] = [:]  // customer|step → index in plan.messages
    for inv in invoices {
      let history = histories[inv.number] ?? .empty
      let d = ladder.decision(for: inv, history: history, on: date)
      guard let step = d.step else {
        let reason = d.reason ?? .notYet
        plan.waiting[reason.key, default: 0] += 1
        if reason.needsAttention { plan.attention.append((inv.number, reason.text)) }
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
        let key =
          policy.onePerCustomer
          ? "\(inv.customerKey)|\(step.rawValue)" : "\(inv.number)|\(step.rawValue)"
        if let i = groups[key] {
          var m = plan.messages[i]
          var invs = m.letter.invoices
          invs.append(inv)
          let earliestFirst = [m.letter.firstSentOn, firstSent].compactMap { $0 }.min()
          m.letter = Letter.make(
            step: step, invoices: invs, sender: sender, policy: policy, date: date,
            firstSentOn: earliestFirst)
          m.recorded.append(inv.number)
          if step == .second {
            let ids = messageIDs(inv.number, .first)
            for id in ids where !m.references.contains(id) { m.references.append(id) }
          }
          plan.messages[i] = m
        } else {
          let letter = Letter.make(
            step: step, invoices: [inv], sender: sender, policy: policy, date: date,
            firstSentOn: firstSent)
          var refs: [String] = []
          if step == .second { refs = messageIDs(inv.number, .first) }
          groups[key] = plan.messages.count
          plan.messages.append(
            PlannedMessage(
              step: step, letter: letter, recipients: [inv.email], inReplyTo: refs.first,
              references: refs))
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
    for (i, m) in plan.messages.enumerated() where m.step == .second && m.letter.kind == .consumer {
      let key = m.letter.first.customerKey
      let extra = invoices.filter { inv in
        guard inv.customerKey == key, !m.recorded.contains(inv.number),
          let h = histories[inv.number], h.firstSent(.second) != nil
        else { return false }
        let d = ladder.decision(for: inv, history: h, on: plan.date)
        return d.step == .collection || d.reason == .notYet
      }
      guard !extra.isEmpty else { continue }
      var message = m
      message.letter = Letter.make(
        step: .second, invoices: m.letter.invoices + extra, sender: sender, policy: policy,
        date: plan.date,
        firstSentOn: m.letter.firstSentOn)
      plan.messages[i] = message
    }
  }

  /// Splits messages whose attachments exceed `maxMessageBytes`, keeping the invoice order.
  func split(_ plan: inout NightPlan) {
    var out: [PlannedMessage] = []
    for m in plan.messages {
      var chunks: [[Invoice]] = [[]]
      var size = 20_000
      for inv in m.letter.invoices {
        let s = encodedSize(inv)
        if !chunks[chunks.count - 1].isEmpty && size + s > maxMessageBytes {
          chunks.append([])
          size = 20_000
        }
        chunks[chunks.count - 1].append(inv)
        size += s
      }
      if chunks.count == 1 {
        out.append(m)
        continue
      }
      for chunk in chunks {
        let numbers = Set(chunk.map(\.number))
        let recorded = m.recorded.filter { numbers.contains($0) }
        guard !recorded.isEmpty else { continue }
        var part = m
        part.letter = Letter.make(
          step: m.step, invoices: chunk, sender: sender, policy: policy, date: plan.date,
          firstSentOn: m.letter.firstSentOn)
        // The costs of a consumer's claims stay computed over all of them.
        part.letter.costs = m.letter.costs
        part.recorded = recorded
        out.append(part)
      }
    }
    plan.messages = out
  }
}
