import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// One invoice's place on the ladder today, as `status` and `calls` show it.
struct StatusRow: Encodable {
  var number: String
  var customer: String
  var kind: String
  var email: String
  var phone: String?
  var outstanding: String
  var outstandingCents: Int64
  var currency: String
  var due: String
  var daysOverdue: Int
  var lastStep: String?
  var lastDate: String?
  var nextStep: String?
  var nextDate: String?
  var dueToday: String?
  var stopped: String?
  var stoppedReason: String?
  var needsAttention: Bool
  /// Paid so far (bookkeeping or matched bank payments).
  var paid: String
  /// The bank payments applied to this invoice: "2026-11-30 € 1.250,00 (invoice-number)".
  var payments: [String]

  enum CodingKeys: String, CodingKey {
    case number, customer, kind, email, phone, outstanding, outstandingCents, currency, due,
      daysOverdue, lastStep, lastDate, nextStep, nextDate, dueToday, stopped, stoppedReason,
      needsAttention, paid, payments
  }

  /// Every key always present (null when empty), so scripts can rely on the shape.
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(number, forKey: .number)
    try c.encode(customer, forKey: .customer)
    try c.encode(kind, forKey: .kind)
    try c.encode(email, forKey: .email)
    try c.encode(phone, forKey: .phone)
    try c.encode(outstanding, forKey: .outstanding)
    try c.encode(outstandingCents, forKey: .outstandingCents)
    try c.encode(currency, forKey: .currency)
    try c.encode(due, forKey: .due)
    try c.encode(daysOverdue, forKey: .daysOverdue)
    try c.encode(lastStep, forKey: .lastStep)
    try c.encode(lastDate, forKey: .lastDate)
    try c.encode(nextStep, forKey: .nextStep)
    try c.encode(nextDate, forKey: .nextDate)
    try c.encode(dueToday, forKey: .dueToday)
    try c.encode(stopped, forKey: .stopped)
    try c.encode(stoppedReason, forKey: .stoppedReason)
    try c.encode(needsAttention, forKey: .needsAttention)
    try c.encode(paid, forKey: .paid)
    try c.encode(payments, forKey: .payments)
  }
}

struct Overview {
  let config: Config
  let today: CalendarDate
  let invoices: [Invoice]
  let histories: [String: InvoiceHistory]
  /// Bank payments applied, per invoice, for display.
  var payments: [String: [String]] = [:]

  var ladder: Ladder { Ladder(policy: config.policy) }
  var calendar: BusinessCalendar {
    BusinessCalendar(liberationDayEveryYear: config.policy.liberationDayEveryYear)
  }

  func decision(_ inv: Invoice) -> Decision {
    ladder.decision(for: inv, history: histories[inv.number] ?? .empty, on: today)
  }

  /// The day a step will really go out: letters wait for a business day.
  func effectiveDate(_ step: Step, _ date: CalendarDate) -> CalendarDate {
    let d = max(date, today)
    guard step.isMessage, config.policy.businessDaysOnly else { return d }
    return calendar.businessDay(onOrAfter: d)
  }

  func row(_ inv: Invoice) -> StatusRow? {
    let d = decision(inv)
    if case .settled = d.reason { return nil }
    if case .status(let s) = d.reason, s == .paid || s == .credited { return nil }
    var r = StatusRow(
      number: inv.number, customer: inv.customer, kind: inv.kind.rawValue, email: inv.email,
      phone: inv.phone, outstanding: inv.outstanding.plain, outstandingCents: inv.outstanding.cents,
      currency: inv.currency, due: inv.due.iso, daysOverdue: max(0, inv.due.days(until: today)),
      lastStep: d.lastStep?.rawValue, lastDate: d.lastDate?.iso, nextStep: nil, nextDate: nil,
      dueToday: nil, stopped: nil, stoppedReason: nil,
      needsAttention: d.reason?.needsAttention ?? false,
      paid: inv.paid.plain, payments: payments[inv.number] ?? [])
    if let step = d.step {
      r.dueToday = step.rawValue
      r.nextStep = step.rawValue
      r.nextDate = effectiveDate(step, d.nextDate ?? today).iso
    } else if let reason = d.reason {
      if case .notYet = reason, let s = d.nextStep, let date = d.nextDate {
        r.nextStep = s.rawValue
        r.nextDate = effectiveDate(s, date).iso
      } else {
        r.stopped = reason.key
        r.stoppedReason = reason.text
      }
    }
    return r
  }

  static func load(_ common: CommonOptions) throws -> Overview {
    let config = try common.loadConfig()
    let load = try loadInvoices(config)
    let ledger = try openLedgerForReading(config)
    var histories: [String: InvoiceHistory] = [:]
    if let ledger {
      do { histories = try ledger.histories() } catch {
        Console.error(error.description)
        throw ExitCode(2)
      }
    }
    let invoices = try PaymentState.load(ledger, invoices: load.invoices).applied(
      load.invoices, &histories)
    var applied: [String: [String]] = [:]
    for p in (try? ledger?.payments()) ?? nil ?? [] {
      for (invoice, cents) in p.invoices.sorted(by: { $0.key < $1.key }) {
        applied[invoice, default: []].append(
          "\(p.bookingDate) \(Money(cents: cents, currency: p.amount.currency).dutch) (\(p.rule ?? "bank"))")
      }
    }
    return Overview(
      config: config, today: common.today(config), invoices: invoices, histories: histories,
      payments: applied)
  }
}

func table(_ header: [String], _ rows: [[String]]) -> String {
  var widths = header.map(\.count)
  for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
      .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
  }
  return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

/// `herinner status [--json]`.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Shows every unsettled invoice: outstanding, days overdue, last and next step, or why it is stopped."
  )

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print JSON (stable field names) instead of a table.") var json = false

  func run() throws {
    let o = try Overview.load(common)
    let rows = o.invoices.compactMap(o.row)
    if json {
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      Console.out(String(decoding: try enc.encode(rows), as: UTF8.self))
      return
    }
    Console.out("Status on \(o.today.iso): \(rows.count) unsettled invoice(s)")
    guard !rows.isEmpty else { return }
    Console.out(
      table(
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
  }
}

/// `herinner calls`: the invoices on the call list today.
struct Calls: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Lists the invoices to phone about, with phone numbers and what was sent so far.")

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let o = try Overview.load(common)
    let due = o.invoices.filter { o.decision($0).step == .call }
    if json {
      let rows = due.compactMap(o.row)
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      Console.out(String(decoding: try enc.encode(rows), as: UTF8.self))
      return
    }
    Console.out("Call list on \(o.today.iso): \(due.count) invoice(s)")
    guard !due.isEmpty else { return }
    Console.out(
      table(
        ["invoice", "customer", "contact", "phone", "outstanding", "sent so far"],
        due.map { inv in
          let sent = (o.histories[inv.number]?.deliveries ?? []).filter { $0.state == .sent }
            .map { "\($0.step.rawValue) \($0.date.iso)" }.joined(separator: ", ")
          return [
            inv.number, inv.customer, inv.contact ?? "-", inv.phone ?? "-", inv.outstanding.dutch,
            sent.isEmpty ? "-" : sent,
          ]
        }))
  }
}

/// `herinner call N --note TEXT`: records a phone call.
struct LogCall: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "call", abstract: "Logs a phone call about an invoice.")

  @OptionGroup var common: CommonOptions
  @Argument(help: "The invoice number.") var number: String
  @Option(help: "What was said.") var note: String

  func run() throws {
    let config = try common.loadConfig()
    let load = try loadInvoices(config, reportProblems: false)
    guard load.invoices.contains(where: { $0.number == number }) else {
      Console.error(
        "invoice \(number): not found in \(InvoiceSource.display(config.invoices.path))")
      throw ExitCode(2)
    }
    let ledger = try openLedger(config)
    let today = common.today(config)
    do { try ledger.recordCall(invoice: number, date: today, note: note) } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    Console.out("call logged for invoice \(number) on \(today.iso)")
  }
}

/// `herinner history N`: every recorded step of one invoice.
struct History: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Shows every recorded step of one invoice: sends with server replies and Message-IDs, calls, resends, archive paths."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: "The invoice number.") var number: String

  func run() throws {
    let config = try common.loadConfig()
    guard let ledger = try openLedgerForReading(config) else {
      Console.out("invoice \(number): nothing recorded yet (no ledger)")
      return
    }
    let deliveries: [DeliveryRow]
    let calls: [CallRow]
    do {
      deliveries = try ledger.deliveries(invoice: number)
      calls = try ledger.calls(invoice: number)
    } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    Console.out("History of invoice \(number)")
    if deliveries.isEmpty && calls.isEmpty {
      Console.out("  nothing recorded yet")
      return
    }
    enum Entry {
      case d(DeliveryRow)
      case c(CallRow)
    }
    let entries: [(String, Entry)] =
      deliveries.map { ($0.createdAt, .d($0)) } + calls.map { ($0.createdAt, .c($0)) }
    for (_, e) in entries.sorted(by: { $0.0 < $1.0 }) {
      switch e {
      case .d(let d):
        Console.out(
          "\(d.runDate.iso)  \(d.step.rawValue)\(d.isResend ? " (resend)" : "")  \(d.state.rawValue)  to \(d.recipients)"
        )
        Console.out("    Message-ID: \(d.messageID)")
        if let r = d.inReplyTo { Console.out("    In-Reply-To: \(r)") }
        if let deadline = d.deadline { Console.out("    deadline stated: \(deadline.iso)") }
        if let c = d.costs { Console.out("    collection costs stated: \(Money(cents: c).dutch)") }
        if let reply = d.reply { Console.out("    server: \(reply)") }
        if let a = d.archivePath { Console.out("    archive: \(a)") }
      case .c(let c):
        Console.out("\(c.date.iso)  call  \(c.note)")
      }
    }
  }
}
