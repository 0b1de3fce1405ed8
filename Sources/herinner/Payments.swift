import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// The SHA-256 of a statement file (FIPS 180-4), hex: a file imported once is known again by
/// its content, whatever its name.
func contentHash(_ bytes: [UInt8]) -> String {
  let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]
  var h: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
    0x5be0_cd19,
  ]
  var message = bytes
  message.append(0x80)
  while message.count % 64 != 56 { message.append(0) }
  let bits = UInt64(bytes.count) &* 8
  for i in (0..<8).reversed() { message.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
  func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
  var w = [UInt32](repeating: 0, count: 64)
  for chunk in stride(from: 0, to: message.count, by: 64) {
    for t in 0..<16 {
      let b = chunk + t * 4
      w[t] =
        UInt32(message[b]) << 24 | UInt32(message[b + 1]) << 16 | UInt32(message[b + 2]) << 8
        | UInt32(message[b + 3])
    }
    for t in 16..<64 {
      let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
      let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
      w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
    }
    var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
    for t in 0..<64 {
      let t1 =
        hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
      let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
      (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
    }
    for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
  }
  return h.map { v in
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
  }.joined()
}

/// The hash herinner used before SHA-256 (two FNV-1a 64-bit hashes and the size): a file a
/// ledger knows by it was imported already and is not counted again after an upgrade.
func legacyContentHash(_ bytes: [UInt8]) -> String {
  var a: UInt64 = 0xcbf2_9ce4_8422_2325
  var b: UInt64 = 0x8422_2325_cbf2_9ce4
  for x in bytes {
    a = (a ^ UInt64(x)) &* 0x0000_0100_0000_01B3
    b = (b ^ UInt64(x)) &* 0x0000_0100_0000_01B3 &+ 1
  }
  return String(a, radix: 16) + String(b, radix: 16) + "-" + String(bytes.count)
}

/// Whether the ledger has imported this file before, by either hash.
func alreadyImported(_ bytes: [UInt8], in ledger: Ledger) throws(LedgerError) -> Bool {
  if try ledger.statementImported(fileHash: contentHash(bytes)) { return true }
  return try ledger.statementImported(fileHash: legacyContentHash(bytes))
}

extension PaymentState {
  /// Reads the payments from the ledger; a ledger that cannot be read is an error, never an
  /// empty list (that would remind customers who paid).
  static func load(_ ledger: Ledger?, invoices: [Invoice]) throws(LedgerError) -> PaymentState {
    guard let ledger else { return PaymentState() }
    let all = try ledger.payments()
    return PaymentState(
      allocated: try ledger.allocationTotals(),
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

struct Payments: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Bank statements: import them, list what did not match, settle those by hand.",
    subcommands: [
      PaymentsImport.self, PaymentsList.self, PaymentsUnmatched.self, PaymentsResolve.self,
    ])
}

/// What importing statement files did: `lines` for stdout, `problems` for stderr (files that
/// could not be read, with file, line and what is wrong), and which files were refused.
struct StatementImport {
  var lines: [String] = []
  var problems: [String] = []
  var refused: [String] = []
}

/// Imports statement files into the ledger, each whole or not at all; shared by
/// `payments import` and `send` (`payments.importFrom`).
func importStatementFiles(
  _ files: [String], config: Config, ledger: Ledger, invoices: [Invoice]
) -> StatementImport {
  var out = StatementImport()
  for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
      out.problems.append("\(file): cannot read the file; nothing imported")
      out.refused.append(file)
      continue
    }
    let bytes = [UInt8](data)
    let statement: StatementFile
    do {
      statement = try StatementFile.parse(
        bytes: bytes, file: file, csvColumns: config.payments.columns)
    } catch {
      out.problems += error.all.map(\.description)
      out.refused.append(file)
      continue
    }
    let baseState: PaymentState
    do {
      if try alreadyImported(bytes, in: ledger) {
        out.lines.append("\(file): already imported; nothing counted twice")
        continue
      }
      baseState = try PaymentState.load(ledger, invoices: invoices)
    } catch {
      out.problems.append("\(file): \(error.description); nothing imported")
      out.refused.append(file)
      continue
    }
    // Balances that do not add up: the file is read as the bank wrote it, and said so.
    out.problems += statement.warnings.map { "warning: \($0.description)" }
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
        out.lines.append("\(file): already imported; nothing counted twice")
        continue
      }
      out.lines.append(
        "\(file) (\(statement.format.rawValue)): \(result.credits) incoming credit(s), \(result.newCredits) new: \(result.matched) matched, \(result.unmatched) unmatched"
      )
      for o in result.overpaid {
        out.lines.append(
          "  overpaid: payment #\(o.payment) pays \(o.amount.dutch) more than invoice \(o.invoice) needs"
        )
      }
      for r in result.reversed {
        out.lines.append(
          "  reversed: payment #\(r.payment) was taken back by the bank"
            + (r.invoices.isEmpty
              ? "" : "; open again: invoice \(r.invoices.joined(separator: ", "))"))
      }
      for t in result.unplacedReversals {
        out.lines.append(
          "  a reversal of \(t.amount.dutch) on \(t.bookingDate.iso) undoes no single imported credit; nothing changed"
        )
      }
    } catch {
      out.problems.append("\(file): \(error.description); nothing imported")
      out.refused.append(file)
    }
  }
  return out
}

/// The old shape, for callers not yet moved to `importStatementFiles`.
func importStatements(_ files: [String], config: Config, ledger: Ledger, invoices: [Invoice]) -> (
  lines: [String], failed: Bool
) {
  let r = importStatementFiles(files, config: config, ledger: ledger, invoices: invoices)
  return (r.lines + r.problems, !r.refused.isEmpty)
}

/// `payments.importFrom`: imports the folder's statement files not imported before (known by
/// their content), oldest name first. A file that cannot be read is moved into `rejected/`
/// beside them, so that it is neither retried every night nor lost, and the night goes on;
/// the caller exits 1 when `rejected` is not empty.
func importFromFolder(_ folder: String, config: Config, ledger: Ledger, invoices: [Invoice])
  -> (lines: [String], problems: [String], rejected: [String])
{
  let fm = FileManager.default
  let names: [String]
  do { names = try fm.contentsOfDirectory(atPath: folder).sorted() } catch {
    return ([], ["payments.importFrom: cannot read the folder \(folder)"], [])
  }
  var fresh: [String] = []
  var problems: [String] = []
  for name in names where !name.hasPrefix(".") {
    let path = (folder as NSString).appendingPathComponent(name)
    var dir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &dir), !dir.boolValue else { continue }
    guard let data = fm.contents(atPath: path) else {
      problems.append("\(path): cannot read the file")
      continue
    }
    do {
      if try alreadyImported([UInt8](data), in: ledger) { continue }
    } catch {
      problems.append("\(path): \(error.description)")
      continue
    }
    fresh.append(path)
  }
  let r = importStatementFiles(fresh, config: config, ledger: ledger, invoices: invoices)
  problems += r.problems
  var rejected: [String] = []
  if !r.refused.isEmpty {
    let aside = (folder as NSString).appendingPathComponent("rejected")
    try? fm.createDirectory(atPath: aside, withIntermediateDirectories: true)
    for file in r.refused {
      var target = (aside as NSString).appendingPathComponent((file as NSString).lastPathComponent)
      var n = 1
      while fm.fileExists(atPath: target) {
        n += 1
        target =
          (aside as NSString).appendingPathComponent((file as NSString).lastPathComponent) + ".\(n)"
      }
      do {
        try fm.moveItem(atPath: file, toPath: target)
        problems.append("\(file): not imported, moved to \(target); fix or replace it")
      } catch {
        problems.append("\(file): not imported, and it could not be moved to \(aside)")
      }
      rejected.append(file)
    }
  }
  return (r.lines, problems, rejected)
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
    let r = importStatementFiles(files, config: config, ledger: ledger, invoices: load.invoices)
    for l in r.lines { Console.out(l) }
    for p in r.problems { Console.error(p) }
    let unmatched = (try? ledger.payments(status: "unmatched").count) ?? 0
    if unmatched > 0, r.refused.isEmpty {
      Console.out("\(unmatched) payment(s) await a person: herinner payments unmatched")
    }
    if !r.refused.isEmpty { throw ExitCode(2) }
  }
}

/// `herinner payments list [--json]`: every imported incoming credit, in statement order.
struct PaymentsList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract:
      "Every imported incoming credit: date, amount, counterparty, text, reference, state and the invoices it paid."
  )

  @OptionGroup var common: CommonOptions
  @Flag(help: "One JSON array of objects.") var json = false

  func run() throws {
    let config = try common.loadConfig()
    let rows: [Ledger.PaymentRow]
    do { rows = try openLedgerForReading(config)?.payments() ?? [] } catch let e as LedgerError {
      Console.error(e.description)
      throw ExitCode(2)
    }
    if json {
      Console.out(paymentsJSON(rows))
      return
    }
    if rows.isEmpty {
      Console.out("no payments imported")
      return
    }
    for p in rows {
      let applied = p.allocations.map {
        "\($0.invoice) \(Money(cents: $0.cents, currency: p.amount.currency).dutch)"
      }
      Console.out(
        "#\(p.id)  \(p.bookingDate)  \(p.amount.dutch)  \(p.amount.currency)  \(p.debtorName ?? "-")  \(p.debtorIBAN ?? "-")  \(p.state)"
          + (applied.isEmpty ? "" : "  → \(applied.joined(separator: ", "))"))
      if let t = p.remittance { Console.out("    text: \(t)") }
      if let r = p.structuredReference { Console.out("    reference: \(r)") }
    }
  }
}

/// The JSON of `payments list --json`: exactly the contract's keys, a missing value null.
func paymentsJSON(_ rows: [Ledger.PaymentRow]) -> String {
  func str(_ s: String?) -> String {
    guard let s else { return "null" }
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 || u.value == 0x7F || u.value == 0x2028 || u.value == 0x2029 {
          let h = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }
  let objects = rows.map { p -> String in
    let invoices = p.allocations.map {
      "{\"number\": \(str($0.invoice)), \"amount\": \(str(Money(cents: $0.cents, currency: p.amount.currency).plain))}"
    }
    return
      "  {\"id\": \(p.id), \"statement\": \(str(p.statement)), \"booked\": \(str(p.bookingDate)), "
      + "\"amount\": \(str(p.amount.plain)), \"currency\": \(str(p.amount.currency)), "
      + "\"name\": \(str(p.debtorName)), \"iban\": \(str(p.debtorIBAN)), "
      + "\"text\": \(str(p.remittance)), \"reference\": \(str(p.structuredReference)), "
      + "\"state\": \(str(p.state)), \"invoices\": [\(invoices.joined(separator: ", "))]}"
  }
  return objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]"
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
