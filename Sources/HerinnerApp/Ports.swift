import HerinnerCore

/// What a use case needs of the bank payments: backed by the ledger's payments tables.
///
/// Semantics: a failed read throws — it never answers "no payments", since that would remind
/// people who paid.
public protocol PaymentsView: AnyObject {
  /// The newest imported statement's own date (its latest booking date), nil when none.
  func latestStatementDate() throws -> CalendarDate?
  /// The invoices with matched bank payments counted, and the histories of customers with an
  /// unmatched payment held.
  func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  /// The bank payments applied, per invoice, as `status` shows them.
  func appliedPayments() throws -> [String: [String]]
}

/// Statements waiting in `payments.importFrom`, imported at the start of a night.
public protocol StatementInbox: AnyObject {
  /// Imports the new files; what each did, in words, and whether one had to be refused.
  func importNew(invoices: [Invoice]) throws -> (lines: [String], refused: Bool)
}

/// Opens the night's connections: `count` at most; those that cannot be opened are left out.
/// Throws (nothing sent) only when none opens.
public typealias TransportFactory = (_ count: Int) throws -> [any MailTransport]

/// Payments when there are none (no ledger yet, tests).
public final class NoPayments: PaymentsView {
  public init() {}
  public func latestStatementDate() throws -> CalendarDate? { nil }
  public func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  { invoices }
  public func appliedPayments() throws -> [String: [String]] { [:] }
}
