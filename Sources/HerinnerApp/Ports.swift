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
  /// Every allocation of a matched bank credit as a dated payment of its invoice (the
  /// dossier's art. 6:44 BW order needs the day).
  func datedPayments() throws -> [ConsumerClaims.Payment]
}

/// Statements waiting in `payments.importFrom`, imported at the start of a night.
public protocol StatementInbox: AnyObject {
  /// Imports the new files. A file that cannot be read is set aside (not retried every night,
  /// not lost) and named in `problems`; the night goes on.
  func importNew(invoices: [Invoice]) throws -> (lines: [String], problems: [String])
}

/// Opens connection `i` of the night on the thread that will use it; one that cannot be opened
/// is left out, and only when none opens does the night fail (nothing sent).
public typealias ConnectionOpener =
  @Sendable (_ index: Int) throws(TransportError) -> any MailTransport

/// Payments when there are none (no ledger yet, tests).
public final class NoPayments: PaymentsView {
  public init() {}
  public func latestStatementDate() throws -> CalendarDate? { nil }
  public func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  { invoices }
  public func appliedPayments() throws -> [String: [String]] { [:] }
  public func datedPayments() throws -> [ConsumerClaims.Payment] { [] }
}
