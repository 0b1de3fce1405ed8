import HerinnerCore
import HerinnerInput

/// One invoice's place on the ladder today, as `status` and `calls` show it.
public struct InvoiceStatus: Encodable, Sendable {
  public var number: String
  public var customer: String
  public var kind: String
  public var email: String
  public var phone: String?
  public var outstanding: String
  public var outstandingCents: Int64
  public var currency: String
  public var due: String
  public var daysOverdue: Int
  public var lastStep: String?
  public var lastDate: String?
  public var nextStep: String?
  public var nextDate: String?
  public var dueToday: String?
  public var stopped: String?
  public var stoppedReason: String?
  public var needsAttention: Bool
  /// Paid so far (bookkeeping or matched bank payments).
  public var paid: String
  /// The bank payments applied to this invoice: "2026-11-30 € 1.250,00 (invoice-number)".
  public var payments: [String]

  enum CodingKeys: String, CodingKey {
    case number, customer, kind, email, phone, outstanding, outstandingCents, currency, due,
      daysOverdue, lastStep, lastDate, nextStep, nextDate, dueToday, stopped, stoppedReason,
      needsAttention, paid, payments
  }

  /// Every key always present (null when empty), so scripts can rely on the shape.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(number, forKey: .number)
    try c.encode(customer, forKey: .customer)
    try c.encode(kind, forKey: .kind)
    try c.encode(email, forKey: .email)
    try c.encode(phone, forKey: .phone)
    try c.encode(outstanding, forKey: .outstanding)
    try c.encode(outstandingCents, forKey: .outstandingCents)
    try c.encode(currency, forKey: .currency)
    try c.encode(due, forKey: .due)
    try c.encode(daysOverdue, forKey: .daysOverdue)
    try c.encode(lastStep, forKey: .lastStep)
    try c.encode(lastDate, forKey: .lastDate)
    try c.encode(nextStep, forKey: .nextStep)
    try c.encode(nextDate, forKey: .nextDate)
    try c.encode(dueToday, forKey: .dueToday)
    try c.encode(stopped, forKey: .stopped)
    try c.encode(stoppedReason, forKey: .stoppedReason)
    try c.encode(needsAttention, forKey: .needsAttention)
    try c.encode(paid, forKey: .paid)
    try c.encode(payments, forKey: .payments)
  }
}

/// The read model behind `status`, `calls` and `export`: every invoice with payments applied,
/// its history and today's decision.
public struct LadderOverview {
  public let policy: Policy
  public let today: CalendarDate
  public let invoices: [Invoice]
  public let histories: [String: InvoiceHistory]
  /// Bank payments applied, per invoice, for display.
  public let payments: [String: [String]]

  /// Reads what the ladder needs: a failed read of the ledger or the payments throws.
  public init(
    policy: Policy, invoices: [Invoice], ledger: any LedgerStore, payments: any PaymentsView,
    on today: CalendarDate
  ) throws {
    var histories = try ledger.histories()
    self.invoices = try payments.applied(invoices, histories: &histories)
    // A replacing 14-day letter's deadline governs the claims it listed again.
    self.histories =
      policy.onePerCustomer
      ? ConsumerClaims.coveredHistories(invoices: self.invoices, histories: histories) : histories
    self.payments = try payments.appliedPayments()
    self.policy = policy
    self.today = today
  }

  var ladder: Ladder { Ladder(policy: policy) }
  var calendar: BusinessCalendar {
    BusinessCalendar(liberationDayEveryYear: policy.liberationDayEveryYear)
  }

  public func decision(_ inv: Invoice) -> Decision {
    ladder.decision(for: inv, history: histories[inv.number] ?? .empty, on: today)
  }

  /// The day a step will really go out: letters wait for a business day.
  func effectiveDate(_ step: Step, _ date: CalendarDate) -> CalendarDate {
    let d = max(date, today)
    guard step.isMessage, policy.businessDaysOnly else { return d }
    return calendar.businessDay(onOrAfter: d)
  }

  /// Every unsettled invoice's row (`status`).
  public var statusRows: [InvoiceStatus] { invoices.compactMap(row) }

  /// The invoices due for a phone call today (`calls`), and those whose reminder bounced (phone,
  /// or send by post).
  public var callList: [Invoice] {
    invoices.filter {
      let d = decision($0)
      if case .bounced? = d.reason { return true }
      return d.step == .call
    }
  }

  /// The invoices ready for the collection agency today (`export`).
  public var readyForCollection: [Invoice] { invoices.filter { decision($0).step == .collection } }

  public func row(_ inv: Invoice) -> InvoiceStatus? {
    let d = decision(inv)
    if case .settled = d.reason { return nil }
    if case .status(let s) = d.reason, s == .paid || s == .credited { return nil }
    var r = InvoiceStatus(
      number: inv.number, customer: inv.customer, kind: inv.kind.rawValue, email: inv.email,
      phone: inv.phone, outstanding: inv.outstanding.plain, outstandingCents: inv.outstanding.cents,
      currency: inv.currency, due: inv.due.iso, daysOverdue: max(0, inv.due.days(until: today)),
      lastStep: d.lastStep?.rawValue, lastDate: d.lastDate?.iso, nextStep: nil, nextDate: nil,
      dueToday: nil, stopped: nil, stoppedReason: nil,
      needsAttention: d.reason?.needsAttention ?? false,
      paid: inv.paid.plain, payments: payments[inv.number] ?? [])
    if let step = d.step {
      r.dueToday = step.rawValue
      r.nextStep = step.rawValue
      r.nextDate = effectiveDate(step, d.nextDate ?? today).iso
    } else if let reason = d.reason {
      if case .notYet = reason, let s = d.nextStep, let date = d.nextDate {
        r.nextStep = s.rawValue
        r.nextDate = effectiveDate(s, date).iso
      } else {
        r.stopped = reason.key
        r.stoppedReason = reason.text(invoice: inv.number)
      }
    }
    return r
  }
}
