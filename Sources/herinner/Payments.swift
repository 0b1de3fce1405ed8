import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerInput
import HerinnerLedger

struct Payments: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Bank statements: import them, list what did not match, settle those by hand.",
    subcommands: [
      PaymentsImport.self, PaymentsList.self, PaymentsUnmatched.self, PaymentsResolve.self,
    ])
}

struct PaymentsImport: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract:
      "Imports bank statements (CAMT.053, MT940, bank CSV; recognised by content) and matches incoming credits to invoices. Idempotent."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("Statement files.", valueName: "file")) var files: [String]

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    let ledger = try openLedger(config)
    let r = try ImportStatements(
      store: ledger, invoices: load.invoices, csvColumns: config.payments.columns,
      read: { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
    ).run(files)
    for l in r.lines { Console.out(l) }
    for p in r.problems { Console.error(p) }
    let unmatched = try ledger.payments(status: "unmatched").count
    if unmatched > 0, r.refused.isEmpty {
      Console.out("\(unmatched) payment(s) await a person: herinner payments unmatched")
    }
    return r.refused.isEmpty ? ExitStatus.ok : ExitStatus.invalid
  }
}

/// `herinner payments list [--json]`: every imported incoming credit, in statement order.
struct PaymentsList: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract:
      "Every imported incoming credit: date, amount, counterparty, text, reference, state and the invoices it paid."
  )

  @OptionGroup var common: CommonOptions
  @Flag(help: "One JSON array of objects.") var json = false

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let rows = try openLedgerForReading(config)?.payments() ?? []
    if json {
      Console.out(paymentsJSON(rows))
      return ExitStatus.ok
    }
    if rows.isEmpty {
      Console.out("no payments imported")
      return ExitStatus.ok
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
    return ExitStatus.ok
  }
}

/// The JSON of `payments list --json`: exactly the contract's keys, a missing value null.
func paymentsJSON(_ rows: [PaymentRecord]) -> String {
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
          out += "\\u" + h.leftPadded(to: 4)
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

struct PaymentsUnmatched: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "unmatched",
    abstract:
      "Incoming payments not matched with certainty; their customers get no reminders until resolved."
  )

  @OptionGroup var common: CommonOptions

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    guard let ledger = try openLedgerForReading(config) else {
      Console.out("no unmatched payments (no ledger yet)")
      return ExitStatus.ok
    }
    let rows = try ledger.payments(status: "unmatched")
    if rows.isEmpty {
      Console.out("no unmatched payments")
      return ExitStatus.ok
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
    return ExitStatus.ok
  }
}

struct PaymentsResolve: HerinnerCommand {
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

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    let ledger = try openLedger(config)
    Console.out(
      try ResolvePayment(store: ledger, invoices: load.invoices).run(id: id, invoice: invoice))
    return ExitStatus.ok
  }
}
