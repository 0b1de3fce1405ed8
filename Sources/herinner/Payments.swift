import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// A content hash for statement files (idempotent imports): two FNV-1a 64-bit hashes and the size.
func contentHash(_ bytes: [UInt8]) -> String {
  var a: UInt64 = 0xcbf2_9ce4_8422_2325
  var b: UInt64 = 0x8422_2325_cbf2_9ce4
  for x in bytes {
    a = (a ^ UInt64(x)) &* 0x0000_0100_0000_01B3
    b = (b ^ UInt64(x)) &* 0x0000_0100_0000_01B3 &+ 1
  }
  return String(a, radix: 16) + String(b, radix: 16) + "-" + String(bytes.count)
}

/// Payments the ledger knows, applied to the invoices before any decision.
struct PaymentState {
  var allocated: [String: Int64] = [:]
  var unmatched: [Ledger.PaymentRow] = []
  var knownIBANs: [String: Set<String>] = [:]

  static func load(_ ledger: Ledger?, invoices: [Invoice]) -> PaymentState {
    guard let ledger else { return PaymentState() }
    var s = PaymentState()
    // A ledger from before the payments schema has none (read-only opens do not migrate).
    s.allocated = (try? ledger.allocationTotals()) ?? [:]
    let all = (try? ledger.payments()) ?? []
    s.unmatched = all.filter { $0.status == "unmatched" }
    let byNumber = Dictionary(invoices.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    for p in all where p.status != "unmatched" {
      guard let iban = p.debtorIBAN?.replacingOccurrences(of: " ", with: "").uppercased() else {
        continue
      }
      for n in p.invoices.keys {
        if let inv = byNumber[n] { s.knownIBANs[inv.customerKey, default: []].insert(iban) }
      }
    }
    return s
  }

  /// The invoice with matched bank payments counted on top of the export's `paid`. Should the
  /// bookkeeping already include an imported payment, it is counted twice and the reminder
  /// errs on the side of not reminding someone who paid (the product's first promise).
  func apply(_ inv: Invoice) -> Invoice {
    guard let a = allocated[inv.number], a > 0 else { return inv }
    var i = inv
    i.paid = Money(cents: inv.paid.cents + a, currency: inv.currency)
    return i
  }

  /// Customers with an unmatched incoming payment: held from reminders until it is resolved.
  func holds(_ invoices: [Invoice]) -> [String: String] {
    let byNumber = Dictionary(invoices.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    var out: [String: String] = [:]
    for p in unmatched {
      for n in p.suspects {
        if let inv = byNumber[n] {
          out[inv.customerKey] =
            "unmatched payment #\(p.id) of \(p.amount.dutch) on \(p.bookingDate) (herinner payments unmatched)"
        }
      }
    }
    return out
  }

  /// Applies payments and holds to invoices and histories.
  func applied(_ invoices: [Invoice], _ histories: inout [String: InvoiceHistory]) -> [Invoice] {
    // Without bank payments the invoices are shared as they are, not copied.
    guard !allocated.isEmpty || !unmatched.isEmpty else { return invoices }
    let held = holds(invoices)
    let out = invoices.map(apply)
    for inv in out {
      if let why = held[inv.customerKey] { histories[inv.number, default: .empty].hold = why }
    }
    return out
  }
}

struct Payments: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Bank statements: import them, list what did not match, settle those by hand.",
    subcommands: [PaymentsImport.self, PaymentsUnmatched.self, PaymentsResolve.self])
}

/// Imports statement files into the ledger; shared by `payments import` and `send` (importFrom).
func importStatements(_ files: [String], config: Config, ledger: Ledger, invoices: [Invoice]) -> (
  lines: [String], failed: Bool
) {
  var lines: [String] = []
  var failed = false
  for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
      lines.append("\(file): cannot read the file")
      failed = true
      continue
    }
    let bytes = [UInt8](data)
    let statement: StatementFile
    do {
      statement = try StatementFile.parse(bytes: bytes, file: file, csvColumns: config.payments.columns)
    } catch {
      lines += error.all.map(\.description)
      failed = true
      continue
    }
    let baseState = PaymentState.load(ledger, invoices: invoices)
    do {
      let result = try ledger.importStatement(
        fileHash: contentHash(bytes), file: file, format: statement.format.rawValue,
        latestBooking: statement.latestBooking,
        transactions: statement.transactions
      ) { t, allocated in
        var state = baseState
        state.allocated = allocated
        return PaymentMatcher(invoices: invoices.map(state.apply), knownIBANs: baseState.knownIBANs)
          .match(t)
      }
      if result.alreadyImported {
        lines.append("\(file): already imported; nothing counted twice")
      } else {
        lines.append(
          "\(file) (\(statement.format.rawValue)): \(result.credits) incoming credit(s), \(result.newCredits) new: \(result.matched) matched, \(result.unmatched) unmatched"
        )
        for o in result.overpaid {
          lines.append(
            "  overpaid: payment #\(o.payment) pays \(o.amount.dutch) more than invoice \(o.invoice) needs"
          )
        }
      }
    } catch {
      lines.append("\(file): \(error.description); nothing imported")
      failed = true
    }
  }
  return (lines, failed)
}

struct PaymentsImport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract:
      "Imports bank statements (CAMT.053, MT940, bank CSV; recognised by content) and matches incoming credits to invoices. Idempotent."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: "Statement files.") var files: [String]

  func run() throws {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    let ledger = try openLedger(config)
    let (lines, failed) = importStatements(
      files, config: config, ledger: ledger, invoices: load.invoices)
    for l in lines { Console.out(l) }
    let unmatched = (try? ledger.payments(status: "unmatched").count) ?? 0
    if unmatched > 0 {
      Console.out("\(unmatched) payment(s) await a person: herinner payments unmatched")
    }
    if failed { throw ExitCode(2) }
  }
}

struct PaymentsUnmatched: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "unmatched",
    abstract:
      "Incoming payments not matched with certainty; their customers get no reminders until resolved."
  )

  @OptionGroup var common: CommonOptions

  func run() throws {
    let config = try common.loadConfig()
    guard let ledger = try openLedgerForReading(config) else {
      Console.out("no unmatched payments (no ledger yet)")
      return
    }
    let rows = (try? ledger.payments(status: "unmatched")) ?? []
    if rows.isEmpty {
      Console.out("no unmatched payments")
      return
    }
    Console.out("\(rows.count) unmatched payment(s):")
    for p in rows {
      Console.out(
        "#\(p.id)  \(p.bookingDate)  \(p.amount.dutch)  \(p.debtorName ?? "?")  \(p.debtorIBAN ?? "")"
      )
      if let r = p.remittance { Console.out("    text: \(r)") }
      Console.out(
        "    why: \(p.reason ?? "")"
          + (p.suspects.isEmpty ? "" : "; holds: \(p.suspects.joined(separator: ", "))"))
    }
    Console.out("settle with: herinner payments resolve ID --invoice N  (or --set-aside)")
  }
}

struct PaymentsResolve: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resolve",
    abstract: "A person's verdict on an unmatched payment: it pays invoice N, or it is set aside.")

  @OptionGroup var common: CommonOptions
  @Argument(help: "The payment's id (from payments unmatched).") var id: Int64
  @Option(help: "The invoice it pays.") var invoice: String?
  @Flag(name: .customLong("set-aside"), help: "It pays no invoice of ours.") var setAside = false

  func validate() throws {
    if (invoice == nil) == !setAside { throw ValidationError("give --invoice N or --set-aside") }
  }

  func run() throws {
    let config = try common.loadConfig()
    let ledger = try openLedger(config)
    let ok: Bool
    do { ok = try ledger.resolvePayment(id: id, invoice: invoice, amount: nil) } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    guard ok else {
      Console.error("payment #\(id): no unmatched payment with that id")
      throw ExitCode(2)
    }
    Console.out("payment #\(id): " + (invoice.map { "allocated to invoice \($0)" } ?? "set aside"))
  }
}
