/// The deliveries as the use cases read and change them, beyond the night's recording
/// (`DeliveryLedger`). Semantics every implementation keeps (the port-level test suite in
/// Tests/HerinnerLedgerTests holds SQLite and the in-memory twin to them):
/// - rows come back in the order they were recorded;
/// - at most one live (`sending`, `sent`, `unknown`) original delivery per invoice and step;
/// - a read that fails throws: it never answers "nothing recorded".
public protocol DeliveryStore: DeliveryLedger {
  /// Every delivery, in order, or those of one invoice.
  func deliveries(invoice: String?) throws -> [DeliveryRow]
  /// The deliveries in one state, in order.
  func deliveries(state: DeliveryState) throws -> [DeliveryRow]
  /// Turns every `sending` left by an interrupted run into `unknown` and returns those rows.
  func markInterruptedAsUnknown() throws -> [DeliveryRow]
  /// A person's verdict on `unknown` (or, `sent: false`, `rejected`) deliveries of `step` for
  /// `invoice`. Returns how many rows changed.
  @discardableResult
  func resolve(invoice: String, step: Step, sent: Bool) throws -> Int
}

/// Logged phone calls.
public protocol CallLog: AnyObject {
  func recordCall(invoice: String, date: CalendarDate, note: String) throws
  /// Every call, in order, or those about one invoice.
  func calls(invoice: String?) throws -> [CallRow]
}

/// The whole ledger a use case works with.
public protocol LedgerStore: DeliveryStore, CallLog {
  /// Every invoice's history at once, for the nightly decisions.
  func histories() throws -> [String: InvoiceHistory]
}

extension DeliveryStore {
  public func deliveries() throws -> [DeliveryRow] { try deliveries(invoice: nil) }
}

extension LedgerStore {
  public func histories() throws -> [String: InvoiceHistory] {
    var out: [String: InvoiceHistory] = [:]
    for d in try deliveries(invoice: nil) {
      out[d.invoice, default: .empty].deliveries.append(d.record)
    }
    for c in try calls(invoice: nil) { out[c.invoice, default: .empty].calls.append(c.date) }
    return out
  }

  public func history(invoice: String) throws -> InvoiceHistory {
    InvoiceHistory(
      deliveries: try deliveries(invoice: invoice).map(\.record),
      calls: try calls(invoice: invoice).map(\.date))
  }
}

extension DeliveryLedger {
  /// One attempt as `sending`, durably.
  public func begin(_ attempt: NewAttempt) throws { try begin([attempt]) }
}

extension DeliveryStore {
  /// The messages an interrupted run left `sending`, one per message key in recorded order.
  public func interruptedDeliveries() throws -> [InterruptedDelivery] {
    var out: [InterruptedDelivery] = []
    var index: [String: Int] = [:]
    for row in try deliveries(state: .sending) {
      if let i = index[row.messageKey] {
        out[i].invoices.append(row.invoice)
      } else {
        index[row.messageKey] = out.count
        out.append(
          InterruptedDelivery(
            messageKey: row.messageKey, invoices: [row.invoice], step: row.step,
            archivePath: row.archivePath))
      }
    }
    return out
  }
}
