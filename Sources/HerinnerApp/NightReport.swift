import HerinnerBatch
import HerinnerCore

/// What a night did, or a dry run would do: the summary's figures, and everything a person
/// should look at. `needsAttention` decides the exit status (1).
public struct NightReport: Sendable {
  public var date: CalendarDate
  public var dryRun: Bool
  /// Why nothing is sent today (a weekend or public holiday with `businessDaysOnly`).
  public var closed: String?
  public var messages = 0
  public var invoices = 0
  public var firsts = 0
  public var seconds = 0
  public var callList = 0
  public var readyForCollection = 0
  /// Invoices that wait or are stopped, by reason key.
  public var waiting: [String: Int] = [:]
  public var invalidRows = 0
  /// What the sending did (a dry run counts only messages it could not render).
  public var tally = RunTally()
  /// `unknown` deliveries in the ledger after the run (this run's and earlier ones).
  public var unknownPending = 0
  /// Things a person must act on, one line each.
  public var attention: [String] = []
  /// Invoices the plan stopped for a person (unknown or rejected deliveries).
  public var planAttention: [(invoice: String, reason: WaitReason)] = []
  /// Remarks that are not failures of this run (an invoice asked for that does not exist,
  /// statements imported, a dry run that imports nothing).
  public var notices: [String] = []

  public init(date: CalendarDate, dryRun: Bool) {
    self.date = date
    self.dryRun = dryRun
  }

  mutating func take(_ plan: NightPlan) {
    closed = plan.closed
    messages = plan.messages.count
    invoices = plan.messages.reduce(0) { $0 + $1.invoiceCount }
    firsts = plan.messages.reduce(0) { $0 + ($1.step == .first ? 1 : 0) }
    seconds = messages - firsts
    callList = plan.calls.count
    readyForCollection = plan.collection.count
    waiting = plan.waiting
    planAttention = plan.attention
  }

  /// Skipped invoices by reason, invalid rows included.
  public var skipped: [String: Int] {
    var s = waiting
    if invalidRows > 0 { s["invalid-row"] = invalidRows }
    return s
  }

  public var needsAttention: Bool {
    invalidRows > 0 || !attention.isEmpty || tally.needsAttention
      || planAttention.contains { $0.reason.blocksNight }
      || (dryRun && tally.notRendered > 0)
  }
}
