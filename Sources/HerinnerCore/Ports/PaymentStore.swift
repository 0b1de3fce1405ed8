/// The bank payments as the ledger keeps them: statements imported once (known by content),
/// incoming credits, their allocations to invoices, reversals.
///
/// Semantics: a statement is imported whole or not at all; a credit known by its entry key is
/// never counted twice; a failed read throws (never "no payments": that would remind people who
/// paid).
public protocol PaymentStore: AnyObject {
  /// Whether a statement with this content hash was imported before.
  func statementImported(fileHash: String) throws -> Bool
  /// Imports a statement's transactions in one transaction; `match` decides each new credit,
  /// given the allocations so far.
  func importStatement(
    fileHash: String, file: String, format: String, latestBooking: CalendarDate?,
    transactions: [BankTransaction], match: (BankTransaction, [String: Int64]) -> PaymentMatch
  ) throws -> StatementImportResult
  /// Cents allocated per invoice (reversed credits left out).
  func allocationTotals() throws -> [String: Int64]
  /// Every credit, or those in one status, in import order.
  func payments(status: String?) throws -> [PaymentRecord]
  /// A person's verdict on an unmatched credit: it pays `invoice`, or (nil) it is set aside.
  /// False when there is no unmatched credit with that id.
  func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws -> Bool
  /// The newest imported statement's own date (its latest booking).
  func latestStatementDate() throws -> CalendarDate?
}

extension PaymentStore {
  public func payments() throws -> [PaymentRecord] { try payments(status: nil) }
}

/// What importing one statement file did.
public struct StatementImportResult: Sendable {
  public var alreadyImported = false
  public var credits = 0
  public var newCredits = 0
  public var matched = 0
  public var unmatched = 0
  public var overpaid: [(payment: Int64, invoice: String, amount: Money)] = []
  /// Credits undone by a reversal in this file, with the invoices that are open again.
  public var reversed: [(payment: Int64, invoices: [String])] = []
  /// Reversals that could not be tied to exactly one earlier credit: a person looks.
  public var unplacedReversals: [BankTransaction] = []
  public init() {}
}

/// One imported incoming credit.
public struct PaymentRecord: Sendable {
  public var id: Int64
  public var bookingDate: String
  public var amount: Money
  public var debtorName: String?
  public var debtorIBAN: String?
  public var remittance: String?
  public var status: String
  public var rule: String?
  public var reason: String?
  public var suspects: [String]
  public var overpaid: Int64
  /// What counts now: empty for a reversed payment.
  public var invoices: [String: Int64]
  /// The statement file's name (without its folder).
  public var statement: String = ""
  public var structuredReference: String?
  public var endToEndID: String?
  /// The reversal's booking date, when a reversal undid this credit.
  public var reversedOn: String?
  /// Every allocation made, in order, reversed or not.
  public var allocations: [(invoice: String, cents: Int64)] = []

  public init(
    id: Int64, bookingDate: String, amount: Money, debtorName: String?, debtorIBAN: String?,
    remittance: String?, status: String, rule: String?, reason: String?, suspects: [String],
    overpaid: Int64, invoices: [String: Int64], statement: String = "",
    structuredReference: String? = nil, endToEndID: String? = nil, reversedOn: String? = nil,
    allocations: [(invoice: String, cents: Int64)] = []
  ) {
    self.id = id
    self.bookingDate = bookingDate
    self.amount = amount
    self.debtorName = debtorName
    self.debtorIBAN = debtorIBAN
    self.remittance = remittance
    self.status = status
    self.rule = rule
    self.reason = reason
    self.suspects = suspects
    self.overpaid = overpaid
    self.invoices = invoices
    self.statement = statement
    self.structuredReference = structuredReference
    self.endToEndID = endToEndID
    self.reversedOn = reversedOn
    self.allocations = allocations
  }

  /// `matched`, `unmatched`, `set-aside` or `reversed`.
  public var state: String {
    if reversedOn != nil { return "reversed" }
    switch status {
    case "matched": return "matched"
    case "resolved": return rule == "set-aside" ? "set-aside" : "matched"
    default: return "unmatched"
    }
  }
}
