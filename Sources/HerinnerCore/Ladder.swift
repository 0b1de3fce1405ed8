/// The steps of the Dutch escalation ladder that herinner takes (the invoice itself is the
/// user's bookkeeping's). `call` and `collection` are listings, not emails.
public enum Step: String, Sendable, Codable, CaseIterable, Comparable {
  case first, call, second, collection

  public static func < (a: Step, b: Step) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  /// Steps that are sent as an email.
  public var isMessage: Bool { self == .first || self == .second }
}

/// A delivery's state in the ledger.
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
  /// Recorded durably before the message is handed to the server.
  case sending
  /// The server's final reply was 2xx.
  case sent
  /// 4xx, or the connection was lost before DATA completed: retried next run.
  case deferred
  /// 5xx: not retried.
  case rejected
  /// A `sending` left behind by a crash: never resent automatically.
  case unknown
  /// A person's verdict (`resolve --not-sent`) on an unknown or rejected delivery: the step is
  /// due again.
  case notSent = "not-sent"
  /// Sent, but a delivery status notification reported a final failure (RFC 3464): the
  /// reminder did not reach the customer.
  case bounced
}

/// One recorded delivery of a step for one invoice, as the engine sees it.
public struct DeliveryRecord: Sendable, Hashable {
  public var step: Step
  public var state: DeliveryState
  /// The calendar day of the run that sent it.
  public var date: CalendarDate
  public var isResend: Bool
  /// The payment deadline the letter stated, if any.
  public var deadline: CalendarDate?
  public var reply: String?
  /// The message's Message-ID, which a later step threads to (`In-Reply-To`).
  public var messageID: String?
  /// Who it went to, as recorded ("a@b.nl, c@d.nl"): a rejection holds only while the invoice
  /// still names that address.
  public var recipients: String?

  public init(
    step: Step, state: DeliveryState, date: CalendarDate, isResend: Bool = false,
    deadline: CalendarDate? = nil, reply: String? = nil, messageID: String? = nil,
    recipients: String? = nil
  ) {
    self.recipients = recipients
    self.step = step
    self.state = state
    self.date = date
    self.isResend = isResend
    self.deadline = deadline
    self.reply = reply
    self.messageID = messageID
  }
}

/// What the ledger knows of one invoice: its deliveries and logged calls.
public struct InvoiceHistory: Sendable, Hashable {
  public var deliveries: [DeliveryRecord]
  public var calls: [CalendarDate]
  /// Why the invoice is held apart from its status (an unmatched payment of this customer).
  public var hold: String?

  public init(deliveries: [DeliveryRecord] = [], calls: [CalendarDate] = [], hold: String? = nil) {
    self.deliveries = deliveries
    self.calls = calls
    self.hold = hold
  }

  public static let empty = InvoiceHistory()

  /// The first successful non-resend send of `step` (later steps count from it).
  public func firstSent(_ step: Step) -> DeliveryRecord? {
    deliveries.filter { $0.step == step && $0.state == .sent && !$0.isResend }
      .min { $0.date < $1.date }
  }

  /// The latest sent letter of `step`, original or resend.
  public func latestSent(_ step: Step) -> DeliveryRecord? {
    deliveries.filter { $0.step == step && $0.state == .sent }.max { $0.date < $1.date }
  }
}

/// Why an invoice takes no step tonight.
public enum WaitReason: Sendable, Hashable {
  /// Its status stops the ladder (paid, credited, disputed, payment-plan, on-hold).
  case status(InvoiceStatus)
  /// Nothing (or less than the minimum) is outstanding.
  case settled
  case belowMinimum(Money)
  /// Not yet: the next step comes on a later day.
  case notYet
  /// `waitForCall`: the second reminder waits for a logged call.
  case awaitingCall
  /// A delivery of `step` is `unknown`: a person must `resolve` it first.
  case unknown(Step)
  /// A delivery of `step` was rejected by the server: a person must fix and resend.
  case rejected(Step, String?)
  /// A delivery of `step` bounced: it never reached the customer (phone, or send by post).
  case bounced(Step, String?)
  /// Held for another reason (an unmatched incoming payment of this customer).
  case held(String)
  /// All steps done: listed for the collection agency.
  case done

  /// Reasons that wait for a person (`status` says so); only an unknown delivery keeps `send`'s
  /// exit status at 1 (`blocksNight`), an earlier rejection is shown but does not.
  public var blocksNight: Bool {
    switch self {
    case .unknown, .bounced: return true
    default: return false
    }
  }

  public var needsAttention: Bool {
    switch self {
    case .unknown, .rejected, .bounced: return true
    default: return false
    }
  }

  public var text: String { text(invoice: "N") }

  /// What it means and what to do, naming the invoice in the commands it suggests.
  public func text(invoice n: String) -> String {
    switch self {
    case .status(let s): return "status \(s.rawValue)"
    case .settled: return "settled"
    case .belowMinimum(let m): return "outstanding below minimum (\(m.dutch))"
    case .notYet: return "not yet due"
    case .awaitingCall: return "waiting for a logged call (policy.waitForCall)"
    case .unknown(let s):
      return
        "\(s.rawValue) delivery unknown (it may have arrived): check with the customer, then `herinner resolve \(n) --stage \(s.rawValue) --sent` or `--not-sent`"
    case .rejected(let s, let r):
      return "\(s.rawValue) rejected by the server" + (r.map { ": \($0)" } ?? "")
        + "; correct the e-mail address in the invoice file (it is then sent again, once), or `herinner resolve \(n) --stage \(s.rawValue) --not-sent`"
    case .bounced(let s, let r):
      return
        "bounced: phone, or send by post — the \(s.rawValue) reminder did not reach the customer"
        + (r.map { " (\($0))" } ?? "")
        + "; a corrected e-mail address in the invoice file sends it again (once), or `herinner resolve \(n) --stage \(s.rawValue) --not-sent`"
    case .held(let why): return "held: \(why)"
    case .done: return "handed to collection"
    }
  }

  /// A short machine key for summaries and JSON.
  public var key: String {
    switch self {
    case .status(let s): return s.rawValue
    case .settled: return "settled"
    case .belowMinimum: return "below-minimum"
    case .notYet: return "not-yet-due"
    case .awaitingCall: return "awaiting-call"
    case .unknown: return "unknown"
    case .rejected: return "rejected"
    case .bounced: return "bounced"
    case .held: return "held"
    case .done: return "collection"
    }
  }
}

/// The engine's verdict for one invoice on one day.
public struct Decision: Sendable, Hashable {
  /// The step to take today, if any.
  public var step: Step?
  /// Why there is no step today (nil when `step` is set).
  public var reason: WaitReason?
  /// The next step and the day it becomes due, where there is one.
  public var nextStep: Step?
  public var nextDate: CalendarDate?
  /// The last step taken (sent or listed) and when.
  public var lastStep: Step?
  public var lastDate: CalendarDate?

  public static func take(_ step: Step, last: DeliveryRecord?) -> Decision {
    Decision(
      step: step, reason: nil, nextStep: step, nextDate: nil, lastStep: last?.step,
      lastDate: last?.date)
  }
}

/// The pure rule engine: `(invoice, history, policy, date) → decision`. Reads no clock.
///
/// Rules: one step per invoice per day; steps are never
/// skipped; a later step counts from the first successful send of the step before; a resend never
/// shifts the schedule, except that `collection` never comes before the day after the deadline of
/// the latest `second` sent; delays are calendar days and a step is due on the day its delay ends.
public struct Ladder: Sendable {
  public var policy: Policy

  public init(policy: Policy) { self.policy = policy }

  public func decision(for invoice: Invoice, history: InvoiceHistory, on today: CalendarDate)
    -> Decision
  {
    let lastSent = history.deliveries.filter { $0.state == .sent }.max { $0.date < $1.date }
    var d = Decision(step: nil, reason: nil, lastStep: lastSent?.step, lastDate: lastSent?.date)
    if let call = history.calls.max(), lastSent == nil || call > lastSent!.date {
      d.lastStep = .call
      d.lastDate = call
    }
    guard invoice.status == .open else {
      d.reason = .status(invoice.status)
      return d
    }
    if invoice.outstanding.cents <= 0 {
      d.reason = .settled
      return d
    }
    if invoice.outstanding < policy.minimumOutstanding {
      d.reason = .belowMinimum(invoice.outstanding)
      return d
    }
    if let why = history.hold {
      d.reason = .held(why)
      return d
    }

    func blocked(_ step: Step) -> WaitReason? {
      let originals = history.deliveries.filter { $0.step == step && !$0.isResend }
      // The latest original attempt decides: deferred and not-sent are due again.
      guard let latest = originals.max(by: { $0.date < $1.date }) else { return nil }
      if originals.contains(where: { $0.state == .unknown || $0.state == .sending }) {
        return .unknown(step)
      }
      if latest.state == .rejected || latest.state == .bounced {
        // A corrected address in the invoice file makes the step due again, once: the next
        // attempt goes to the new address, and its own rejection or bounce holds again.
        if let to = latest.recipients,
          !to.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == invoice.email.lowercased()
          })
        {
          return nil
        }
        return latest.state == .bounced
          ? .bounced(step, latest.reply) : .rejected(step, latest.reply)
      }
      return nil
    }

    func due(_ step: Step, on date: CalendarDate) -> Decision {
      var r = d
      if today >= date {
        r.step = step
        r.nextStep = step
        r.nextDate = date
      } else {
        r.reason = .notYet
        r.nextStep = step
        r.nextDate = date
      }
      return r
    }

    /// `collection` counts from the first `second`, and never comes before the day after the
    /// deadline of the latest 14-day letter (or resend) that listed the claim.
    func collection(after second: DeliveryRecord) -> Decision {
      var collectionDate = second.date.adding(days: policy.collectionDaysAfterSecond)
      if let latest = history.latestSent(.second) {
        let deadline =
          latest.deadline ?? policy.secondDeadline(sentOn: latest.date, kind: invoice.kind)
        collectionDate = max(collectionDate, deadline.adding(days: 1))
      }
      var r = due(.collection, on: collectionDate)
      if r.step == .collection {
        r.reason = nil
      }
      return r
    }

    // A consumer's 14-day letter may have covered this claim before its own first reminder
    // (art. 6:96 lid 7 BW: all claims in one letter): its second step is then taken, and the
    // first is not sent any more.
    if let covered = history.firstSent(.second), history.firstSent(.first) == nil {
      return collection(after: covered)
    }

    guard let first = history.firstSent(.first) else {
      // A covering 14-day letter that bounced, was rejected or is unknown holds the claim as
      // well: no first reminder to the address that just failed.
      if let b = blocked(.first) ?? blocked(.second) {
        d.reason = b
        return d
      }
      return due(.first, on: invoice.due.adding(days: policy.firstReminderDaysAfterDue))
    }

    guard let second = history.firstSent(.second) else {
      if let b = blocked(.second) {
        d.reason = b
        return d
      }
      let secondDate = first.date.adding(days: policy.secondReminderDaysAfterFirst)
      let callDate = first.date.adding(days: policy.callDaysAfterFirst)
      let called = history.calls.contains { $0 >= first.date }
      // With waitForCall the second reminder waits on the call list until a call is logged.
      if policy.waitForCall && !called { return due(.call, on: callDate) }
      if today >= secondDate { return due(.second, on: secondDate) }
      if !called && callDate < secondDate { return due(.call, on: callDate) }
      return due(.second, on: secondDate)
    }

    return collection(after: second)
  }
}
