import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerInput

extension LadderOverview {
  /// Today's overview for a reporting command: reads, never writes.
  static func load(_ common: CommonOptions) throws -> (LadderOverview, Config) {
    let config = try common.loadConfig()
    let load = try loadInvoices(config)
    let ports = try Live(config: config).readingPorts()
    return (
      try LadderOverview(
        policy: config.policy, invoices: load.invoices, ledger: ports.ledger,
        payments: ports.payments, on: common.today(config)), config
    )
  }
}

/// `herinner status [--json]`.
struct Status: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Shows every unsettled invoice: outstanding, days overdue, last and next step, or why it is stopped."
  )

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print JSON (stable field names) instead of a table.") var json = false

  func execute() throws -> Int32 {
    let (o, _) = try LadderOverview.load(common)
    let rows = o.statusRows
    if json {
      Console.out(try Output.json(rows))
      return ExitStatus.ok
    }
    Console.out("Status on \(o.today.iso): \(rows.count) unsettled invoice(s)")
    guard !rows.isEmpty else { return ExitStatus.ok }
    Console.out(
      Output.table(
        ["invoice", "customer", "outstanding", "overdue", "last step", "next step"],
        rows.map { r in
          let money = Money(cents: r.outstandingCents, currency: r.currency).dutch
          let last = r.lastStep.map { "\($0) \(r.lastDate ?? "")" } ?? "-"
          let next: String
          if let s = r.nextStep {
            next = (r.dueToday != nil ? "\(s) due now" : "\(s) \(r.nextDate ?? "")")
          } else {
            next = "stopped: \(r.stoppedReason ?? "")"
          }
          return [r.number, r.customer, money, "\(r.daysOverdue) d", last, next]
        }))
    return ExitStatus.ok
  }
}

/// `herinner calls`: the invoices on the call list today.
struct Calls: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract: "Lists the invoices to phone about, with phone numbers and what was sent so far.")

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print JSON.") var json = false

  func execute() throws -> Int32 {
    let (o, _) = try LadderOverview.load(common)
    let due = o.callList
    if json {
      Console.out(try Output.json(due.compactMap(o.row)))
      return ExitStatus.ok
    }
    Console.out("Call list on \(o.today.iso): \(due.count) invoice(s)")
    guard !due.isEmpty else { return ExitStatus.ok }
    Console.out(
      Output.table(
        ["invoice", "customer", "contact", "phone", "outstanding", "sent so far"],
        due.map { inv in
          let sent = (o.histories[inv.number]?.deliveries ?? []).filter { $0.state == .sent }
            .map { "\($0.step.rawValue) \($0.date.iso)" }.joined(separator: ", ")
          return [
            inv.number, inv.customer, inv.contact ?? "-", inv.phone ?? "-", inv.outstanding.dutch,
            sent.isEmpty ? "-" : sent,
          ]
        }))
    return ExitStatus.ok
  }
}

/// `herinner call N --note TEXT`: records a phone call.
struct LogCallCommand: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "call", abstract: "Logs a phone call about an invoice.")

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("The invoice number.", valueName: "number")) var number: String
  @Option(help: "What was said.") var note: String

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    let ledger = try openLedger(config)
    Console.out(
      try LogCall(ledger: ledger, invoices: load.invoices, invoiceFile: config.invoices.path)
        .run(number: number, note: note, on: common.today(config)))
    return ExitStatus.ok
  }
}

/// `herinner history N`: every recorded step of one invoice.
struct History: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Shows every recorded step of one invoice: sends with server replies and Message-IDs, calls, resends, archive paths."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("The invoice number.", valueName: "number")) var number: String

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    guard let ledger = try openLedgerForReading(config) else {
      Console.out("invoice \(number): nothing recorded yet (no ledger)")
      return ExitStatus.ok
    }
    let entries = try InvoiceHistoryReport(ledger: ledger, bounces: ledger).entries(number: number)
    Console.out("History of invoice \(number)")
    if entries.isEmpty {
      Console.out("  nothing recorded yet")
      return ExitStatus.ok
    }
    for e in entries {
      switch e {
      case .delivery(let d):
        Console.out(
          "\(d.runDate.iso)  \(d.step.rawValue)\(d.isResend ? " (resend)" : "")  \(d.state.rawValue)  to \(d.recipients)"
        )
        Console.out("    Message-ID: \(d.messageID)")
        if let r = d.inReplyTo { Console.out("    In-Reply-To: \(r)") }
        if let deadline = d.deadline { Console.out("    deadline stated: \(deadline.iso)") }
        if let c = d.costs { Console.out("    collection costs stated: \(Money(cents: c).dutch)") }
        if let reply = d.reply { Console.out("    server: \(reply)") }
        if let a = d.archivePath { Console.out("    archive: \(a)") }
      case .call(let c):
        Console.out("\(c.date.iso)  call  \(c.note)")
      case .bounce(let b, let d):
        let r = b.bounce
        let day = r.reportDate?.iso ?? String(b.createdAt.prefix(10))
        let what = d.map { " on the \($0.step.rawValue) reminder of \($0.runDate.iso)" } ?? ""
        Console.out(
          "\(day)  returned mail: \(r.kind.rawValue)\(r.status.map { " \($0)" } ?? "")\(what)"
            + (r.recipient.map { " for \($0)" } ?? ""))
        if b.countedAsHard {
          Console.out("    soft reports on several days: counted as not delivered")
        }
        if let diag = r.diagnostic { Console.out("    server: \(diag)") }
        Console.out("    read from: \(r.source)")
      }
    }
    return ExitStatus.ok
  }
}

/// `herinner reference N`: the invoice's betalingskenmerk.
struct Reference: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Prints the invoice's betalingskenmerk (16 digits, mod-11 check digit) to print on the invoice."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("The invoice number.", valueName: "number")) var number: String

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    Console.out(try PaymentReference(invoices: load.invoices).run(number: number))
    return ExitStatus.ok
  }
}
