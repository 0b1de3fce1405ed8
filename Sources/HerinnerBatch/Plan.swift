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

  public init(step: Step, letter: Letter, recipients: [String], inReplyTo: String?, references: [String]) {
    self.step = step
    self.letter = letter
    self.recipients = recipients
    self.inReplyTo = inReplyTo
    self.references = references
  }

  public var invoices: [Invoice] { letter.invoices }
  public var numbers: [String] { letter.invoices.map(\.number) }
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

  public init(policy: Policy, sender: Sender) {
    self.policy = policy
    self.sender = sender
  }

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
        let key = policy.onePerCustomer ? "\(inv.customerKey)|\(step.rawValue)" : "\(inv.number)|\(step.rawValue)"
        if let i = groups[key] {
          var m = plan.messages[i]
          var invs = m.letter.invoices
          invs.append(inv)
          let earliestFirst = [m.letter.firstSentOn, firstSent].compactMap { $0 }.min()
          m.letter = Letter.make(step: step, invoices: invs, sender: sender, policy: policy, date: date, firstSentOn: earliestFirst)
          if step == .second {
            let ids = messageIDs(inv.number, .first)
            for id in ids where !m.references.contains(id) { m.references.append(id) }
          }
          plan.messages[i] = m
        } else {
          let letter = Letter.make(step: step, invoices: [inv], sender: sender, policy: policy, date: date, firstSentOn: firstSent)
          var refs: [String] = []
          if step == .second { refs = messageIDs(inv.number, .first) }
          groups[key] = plan.messages.count
          plan.messages.append(
            PlannedMessage(step: step, letter: letter, recipients: [inv.email], inReplyTo: refs.first, references: refs))
        }
      }
    }
    return plan
  }
}
