import HerinnerCore
import HerinnerInput

extension PaymentState {
  /// Reads the payments from the store; a store that cannot be read is an error, never an
  /// empty list (that would remind customers who paid).
  public static func load(from store: any PaymentStore, invoices: [Invoice]) throws
    -> PaymentState
  {
    let all = try store.payments()
    return PaymentState(
      allocated: try store.allocationTotals(),
      unmatched: all.filter { $0.state == "unmatched" }.map {
        PaymentState.Unmatched(
          id: $0.id, amount: $0.amount, bookingDate: $0.bookingDate, suspects: $0.suspects)
      },
      matched: all.filter { $0.state == "matched" }.map {
        ($0.debtorIBAN, Array($0.invoices.keys))
      },
      invoices: invoices)
  }
}

/// Whether the store has imported this file before, by its SHA-256 or the hash used before it.
public func alreadyImported(_ bytes: [UInt8], in store: any PaymentStore) throws -> Bool {
  if try store.statementImported(fileHash: contentHash(bytes)) { return true }
  return try store.statementImported(fileHash: legacyContentHash(bytes))
}

/// The night's and the reports' view of the payments, from the ledger's payments tables.
public final class LedgerPayments: PaymentsView {
  let store: any PaymentStore
  public init(store: any PaymentStore) { self.store = store }

  public func latestStatementDate() throws -> CalendarDate? { try store.latestStatementDate() }

  public func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  {
    try PaymentState.load(from: store, invoices: invoices).applied(invoices, &histories)
  }

  /// Every allocation of a matched bank credit as a dated payment of its invoice.
  public func datedPayments() throws -> [ConsumerClaims.Payment] {
    var out: [ConsumerClaims.Payment] = []
    for p in try store.payments() {
      guard let date = CalendarDate(parsing: p.bookingDate) else { continue }
      for (invoice, cents) in p.invoices.sorted(by: { $0.key < $1.key }) {
        out.append(
          ConsumerClaims.Payment(
            date: date, amount: Money(cents: cents, currency: p.amount.currency), claim: invoice))
      }
    }
    return out
  }

  public func appliedPayments() throws -> [String: [String]] {
    var applied: [String: [String]] = [:]
    for p in try store.payments() {
      for (invoice, cents) in p.invoices.sorted(by: { $0.key < $1.key }) {
        applied[invoice, default: []].append(
          "\(p.bookingDate) \(Money(cents: cents, currency: p.amount.currency).dutch) (\(p.rule ?? "bank"))"
        )
      }
    }
    return applied
  }
}

/// `payments import` (and `payments.importFrom` at the start of a night): each statement file
/// read, recognised by content, imported whole or not at all, its credits matched.
public struct ImportStatements {
  /// `lines` for stdout; `problems` for stderr (with file, line and what is wrong); the files
  /// that were refused.
  public struct Report: Sendable {
    public var lines: [String] = []
    public var problems: [String] = []
    public var refused: [String] = []
  }

  public let store: any PaymentStore
  public let invoices: [Invoice]
  public let csvColumns: [String: String]
  /// Reads a file's bytes; nil when it cannot be read.
  public let read: (String) -> [UInt8]?

  public init(
    store: any PaymentStore, invoices: [Invoice], csvColumns: [String: String],
    read: @escaping (String) -> [UInt8]?
  ) {
    self.store = store
    self.invoices = invoices
    self.csvColumns = csvColumns
    self.read = read
  }

  public func run(_ files: [String]) throws -> Report {
    try run(files.map { ($0, read($0)) })
  }

  /// The same for files already read (each file is read and hashed once per run);
  /// `quietWhenKnown`: a file imported before is passed over without a word (a folder that
  /// keeps its old statements).
  /// A ledger that cannot be read or written throws: the import stops, the file is not to blame.
  public func run(_ files: [(name: String, bytes: [UInt8]?)], quietWhenKnown: Bool = false)
    throws -> Report
  {
    var out = Report()
    for (file, bytes) in files {
      guard let bytes else {
        out.problems.append("\(file): cannot read the file; nothing imported")
        out.refused.append(file)
        continue
      }
      // Known before it is parsed: a file imported by an earlier herinner is never refused
      // (and set aside) by a stricter reader now.
      let hash = contentHash(bytes)
      if try store.statementImported(fileHash: hash)
        || store.statementImported(fileHash: legacyContentHash(bytes))
      {
        if !quietWhenKnown { out.lines.append("\(file): already imported; nothing counted twice") }
        continue
      }
      let statement: StatementFile
      do {
        statement = try StatementFile.parse(bytes: bytes, file: file, csvColumns: csvColumns)
      } catch {
        out.problems += error.all.map(\.description)
        out.refused.append(file)
        continue
      }
      let base = try PaymentState.load(from: store, invoices: invoices)
      // Balances that do not add up: the file is read as the bank wrote it, and said so.
      out.problems += statement.warnings.map { "warning: \($0.description)" }
      let result = try store.importStatement(
        fileHash: hash, file: file, format: statement.format.rawValue,
        latestBooking: statement.latestBooking, transactions: statement.transactions
      ) { t, allocated in
        var state = base
        state.allocated = allocated
        return PaymentMatcher(invoices: invoices.map(state.apply), knownIBANs: base.knownIBANs)
          .match(t)
      }
      out.lines += Self.lines(file, statement.format.rawValue, result)
    }
    return out
  }

  static func lines(_ file: String, _ format: String, _ r: StatementImportResult) -> [String] {
    if r.alreadyImported { return ["\(file): already imported; nothing counted twice"] }
    var lines = [
      "\(file) (\(format)): \(r.credits) incoming credit(s), \(r.newCredits) new: \(r.matched) matched, \(r.unmatched) unmatched"
    ]
    for o in r.overpaid {
      lines.append(
        "  overpaid: payment #\(o.payment) pays \(o.amount.dutch) more than invoice \(o.invoice) needs"
      )
    }
    for p in r.reversed {
      lines.append(
        "  reversed: payment #\(p.payment) was taken back by the bank"
          + (p.invoices.isEmpty
            ? "" : "; open again: invoice \(p.invoices.joined(separator: ", "))"))
    }
    for t in r.unplacedReversals {
      lines.append(
        "  a reversal of \(t.amount.dutch) on \(t.bookingDate.iso) undoes no single imported credit; nothing changed"
      )
    }
    return lines
  }
}

/// `payments resolve ID (--invoice N | --set-aside)`: a person's verdict on an unmatched credit.
public struct ResolvePayment {
  public let store: any PaymentStore
  /// The valid invoices: a credit may only be given to an open one of them.
  public let invoices: [Invoice]
  public init(store: any PaymentStore, invoices: [Invoice]) {
    self.store = store
    self.invoices = invoices
  }

  public func run(id: Int64, invoice: String?) throws -> String {
    // A mistyped number would release the hold on the customer who really paid.
    if let invoice, !invoices.contains(where: { $0.number == invoice && $0.status == .open }) {
      throw AppError(
        .refused, "payment #\(id): invoice \(invoice) is not an open invoice of the invoice file")
    }
    guard try store.resolvePayment(id: id, invoice: invoice, amount: nil) else {
      throw AppError(.refused, "payment #\(id): no unmatched payment with that id")
    }
    return "payment #\(id): " + (invoice.map { "allocated to invoice \($0)" } ?? "set aside")
  }
}
