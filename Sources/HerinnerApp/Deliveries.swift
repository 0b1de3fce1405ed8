import HerinnerCore
import HerinnerInput

/// `resolve`: a person's verdict on an `unknown` delivery (delivered, or not: due again), or on
/// a `rejected` or `bounced` one (not sent: due again, e.g. after the address was corrected).
public struct ResolveDelivery {
  public let ledger: any LedgerStore
  public init(ledger: any LedgerStore) { self.ledger = ledger }

  /// The sentence to show; refuses when there was nothing of that kind to resolve.
  public func run(number: String, step: Step, sent: Bool) throws -> String {
    guard try ledger.resolve(invoice: number, step: step, sent: sent) > 0 else {
      let what = sent ? "unknown" : "unknown, rejected or bounced"
      throw AppError(.refused, "resolve \(number): no \(what) \(step.rawValue) delivery to resolve")
    }
    return
      "invoice \(number): the \(step.rawValue) reminder is now recorded as \(sent ? "sent" : "not sent (due again)")"
  }
}

/// `call N --note TEXT`: logs a phone call.
public struct LogCall {
  public let ledger: any LedgerStore
  public let invoices: [Invoice]
  public let invoiceFile: String
  public init(ledger: any LedgerStore, invoices: [Invoice], invoiceFile: String) {
    self.ledger = ledger
    self.invoices = invoices
    self.invoiceFile = invoiceFile
  }

  public func run(number: String, note: String, on today: CalendarDate) throws -> String {
    guard invoices.contains(where: { $0.number == number }) else {
      throw AppError(
        .refused, "invoice \(number): not found in \(InvoiceSource.display(invoiceFile))")
    }
    try ledger.recordCall(invoice: number, date: today, note: note)
    return "call logged for invoice \(number) on \(today.iso)"
  }
}

/// `history N`: every recorded step of one invoice, deliveries, calls and the returned mail
/// that answered its reminders, in the order they were recorded.
public struct InvoiceHistoryReport {
  public enum Entry: Sendable {
    case delivery(DeliveryRow)
    case call(CallRow)
    /// A delivery report (or auto-reply) that answered one of its reminders.
    case bounce(BounceRow, DeliveryRow?)
  }
  public let ledger: any LedgerStore
  public let bounces: (any BounceStore)?
  public init(ledger: any LedgerStore, bounces: (any BounceStore)? = nil) {
    self.ledger = ledger
    self.bounces = bounces
  }

  public func entries(number: String) throws -> [Entry] {
    let rows = try ledger.deliveries(invoice: number)
    let d = rows.map { ($0.createdAt, Entry.delivery($0)) }
    let c = try ledger.calls(invoice: number).map { ($0.createdAt, Entry.call($0)) }
    let b = try (bounces?.bounces(invoice: number) ?? []).map { row in
      (row.createdAt, Entry.bounce(row, rows.first { $0.messageKey == row.bounce.messageKey }))
    }
    return (d + c + b).enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
      .map(\.element.1)
  }
}

/// `reference N`: the invoice's betalingskenmerk, given or built from its number.
public struct PaymentReference {
  public let invoices: [Invoice]
  public init(invoices: [Invoice]) { self.invoices = invoices }

  public func run(number: String) throws -> String {
    guard let inv = invoices.first(where: { $0.number == number }) else {
      throw AppError(.refused, "invoice \(number): not found among the valid invoices")
    }
    if let r = inv.reference { return r }
    guard let r = Betalingskenmerk.generate(for: inv.number) else {
      throw AppError(
        .refused,
        "invoice \(number): its number has no digits (or more than 15) to build a betalingskenmerk from"
      )
    }
    return r
  }
}
