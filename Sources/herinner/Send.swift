import ArgumentParser
import CHerinnerSystem
import Foundation
import HerinnerBatch
import HerinnerCore
import HerinnerInput
import HerinnerLedger
import HerinnerLetters

extension Config {
  var sender: Sender { company }

  /// The night's planner: one letter per customer and step, split above `smtp.maxMessageBytes`.
  var planner: Planner {
    let folder = invoices.attachments
    return Planner(
      policy: policy, sender: sender, maxMessageBytes: smtp.maxMessageBytes,
      attachmentSize: { name in
        (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int)
          ?? nil
      })
  }

  /// The `Date` header's moment: now, or — when replaying another day with `--date` — that
  /// day at the current time of day.
  func messageDate(for day: CalendarDate, now: Date = Date()) -> Date {
    guard day != today(now: now) else { return now }
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = timezone
    let t = cal.dateComponents([.hour, .minute, .second], from: now)
    return cal.date(
      from: DateComponents(
        year: day.year, month: day.month, day: day.day, hour: t.hour, minute: t.minute,
        second: t.second)) ?? now
  }

  /// Reads attachments only from inside the attachments folder (the row checks already refused
  /// escapes; this is the second line of defence, enforced by the kernel where it can be:
  /// openat2 with RESOLVE_BENEATH; else, or for an absolute symlink that stays inside, the
  /// resolved path must lie under the folder).
  var attachmentReader: @Sendable (String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: invoices.attachments).resolvingSymlinksInPath().path
    // Open for the life of the process: every read of the night resolves beneath it.
    let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    return { relative in
      var fd: Int32 = -1
      var why = ENOSYS
      if rootFD >= 0 && !relative.hasPrefix("/") {
        fd = herinner_open_beneath(rootFD, relative)
        if fd < 0 { why = errno }
      }
      if fd < 0 && (why == ENOSYS || why == EXDEV) {
        let full = URL(fileURLWithPath: root).appendingPathComponent(relative)
          .resolvingSymlinksInPath().path
        guard full.hasPrefix(root + "/") else {
          throw MessageBuilder.BuildError(
            description: "attachment \(relative) leaves the attachments folder")
        }
        fd = open(full, O_RDONLY | O_CLOEXEC)
        if fd < 0 { why = errno }
      }
      guard fd >= 0 else {
        throw MessageBuilder.BuildError(
          description: "cannot read \(root)/\(relative): \(String(cString: strerror(why)))")
      }
      defer { close(fd) }
      do { return try FileBytes.read(fd) } catch {
        throw MessageBuilder.BuildError(description: "cannot read \(relative): \(error)")
      }
    }
  }
}

func loadTemplates(_ config: Config) throws -> TemplateSet {
  do { return try TemplateSet.load(folder: config.templates) } catch {
    for p in error.all { Console.error(p.description) }
    throw ExitCode(2)
  }
}

/// mboxrd: a `From ` line before each message, `>` added to any line that starts with `>*From `.
enum Mbox {
  static func entry(_ bytes: [UInt8], date: Date) -> [UInt8] {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "EEE MMM dd HH:mm:ss yyyy"
    var out = Array("From herinner@localhost \(f.string(from: date))\n".utf8)
    out.reserveCapacity(bytes.count + 200)
    // Copy line by line; quote lines that start with >*From (mboxrd).
    var i = 0
    let from = Array("From ".utf8)
    while i < bytes.count {
      var end = i
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      if end < bytes.count { end += 1 }
      var j = i
      while j < end && bytes[j] == UInt8(ascii: ">") { j += 1 }
      if end - j >= 5 && bytes[j..<j + 5].elementsEqual(from) { out.append(UInt8(ascii: ">")) }
      out.append(contentsOf: bytes[i..<end])
      i = end
    }
    if out.last != 0x0A { out += [0x0D, 0x0A] }
    out += [0x0D, 0x0A]
    return out
  }
}

/// `herinner send`: the nightly batch.
struct Send: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Renders, sends and records every due first and second reminder (the nightly batch).")

  @OptionGroup var common: CommonOptions
  @Flag(
    name: .customLong("dry-run"),
    help: "Print the messages that would be sent; send nothing, write nothing.")
  var dryRun = false
  @Flag(
    help: "With --dry-run: print the exact bytes as an mbox (mboxrd); the summary goes to stderr.")
  var eml = false
  @Option(name: .customLong("invoice"), help: "Only these invoices (repeatable).")
  var invoiceNumbers: [String] = []
  @Option(help: "At most this many messages.")
  var limit: Int?
  @Flag(help: "Print the summary as JSON.")
  var json = false

  func validate() throws {
    if eml && !dryRun { throw ValidationError("--eml goes with --dry-run") }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  func run() throws {
    let config = try common.loadConfig()
    let templates = try loadTemplates(config)
    var load = try loadInvoices(config)
    let today = common.today(config)
    if !invoiceNumbers.isEmpty {
      let wanted = Set(invoiceNumbers)
      let known = Set(load.invoices.map(\.number))
      for n in invoiceNumbers where !known.contains(n) {
        Console.error("invoice \(n): not found among the valid invoices")
      }
      load.invoices = load.invoices.filter { wanted.contains($0.number) }
    }
    if dryRun {
      try runDry(config: config, templates: templates, load: load, today: today)
    } else {
      try runLive(config: config, templates: templates, load: load, today: today)
    }
  }

  func runDry(config: Config, templates: TemplateSet, load: InvoiceLoad, today: CalendarDate) throws
  {
    let ledger = try openLedgerForReading(config)
    try checkStatementAge(
      config: config, latest: (try? ledger?.latestStatementDate()) ?? nil, today: today)
    if config.payments.importFrom != nil {
      Console.error(
        "dry run: statements in payments.importFrom are not imported (a dry run writes nothing)")
    }
    let plan = try nightPlan(config: config, ledger: ledger, load: load, today: today)
    let builder = MessageBuilder(
      templates: templates, timeZone: config.timezone, readAttachment: config.attachmentReader)
    let date = config.messageDate(for: today)
    var failures = 0
    for (i, m) in plan.messages.enumerated() {
      do {
        let built = try builder.build(
          m.letter, to: m.recipients, date: date, inReplyTo: m.inReplyTo, references: m.references)
        if eml {
          FileHandle.standardOutput.write(Data(Mbox.entry(built.bytes, date: date)))
        } else {
          Console.out(
            Self.readable(
              built, index: i + 1, of: plan.messages.count, step: m.step, bcc: config.smtp.bcc))
        }
      } catch {
        failures += 1
        Console.error("not rendered: \(error)")
      }
    }
    let summary = Self.summary(
      plan: plan, invalid: load.problems.count, failed: failures, dryRun: true)
    if eml { Console.error(summary) } else { Console.out(summary) }
    if !load.problems.isEmpty || failures > 0 || !plan.attention.isEmpty { throw ExitCode(1) }
  }

  /// Tonight's plan from the invoices, the ledger's histories and payments, within `--limit`.
  func nightPlan(config: Config, ledger: Ledger?, load: InvoiceLoad, today: CalendarDate) throws
    -> NightPlan
  {
    var histories: [String: InvoiceHistory] = [:]
    var sentIDs: [String: [String]] = [:]
    if let ledger {
      do {
        histories = try ledger.histories()
        for d in try ledger.deliveries(state: .sent) {
          sentIDs["\(d.invoice)|\(d.step.rawValue)", default: []].append(d.messageID)
        }
      } catch {
        Console.error(error.description)
        throw ExitCode(2)
      }
    }
    let invoices = try PaymentState.load(ledger, invoices: load.invoices).applied(
      load.invoices, &histories)
    var plan = config.planner.plan(invoices: invoices, histories: histories, on: today) {
      sentIDs["\($0)|\($1.rawValue)"] ?? []
    }
    if let limit, plan.messages.count > limit { plan.messages = Array(plan.messages.prefix(limit)) }
    return plan
  }

  /// `payments.required`: refuse (exit 2) when the newest statement is older than maxAgeDays.
  func checkStatementAge(config: Config, latest: CalendarDate?, today: CalendarDate) throws {
    guard config.payments.required else { return }
    guard let latest else {
      Console.error(
        "payments.required: no bank statement has been imported yet (herinner payments import FILE); not sending"
      )
      throw ExitCode(2)
    }
    let age = latest.days(until: today)
    if age > config.payments.maxAgeDays {
      Console.error(
        "payments.required: the newest bank statement is of \(latest.iso), \(age) days before \(today.iso) (payments.maxAgeDays \(config.payments.maxAgeDays)); import today's statement first. Not sending"
      )
      throw ExitCode(2)
    }
  }

  func runLive(config: Config, templates: TemplateSet, load: InvoiceLoad, today: CalendarDate)
    throws
  {
    try runLiveBatch(config: config, templates: templates, load: load, today: today)
  }

  static func readable(
    _ b: MessageBuilder.Built, index: Int, of total: Int, step: Step, bcc: [String]
  ) -> String {
    let m = b.message
    var s = "=== message \(index) of \(total): \(step.rawValue) ===\n"
    s += "From: \(m.from.name.map { "\($0) " } ?? "")<\(m.from.address)>\n"
    s +=
      "To: \(m.to.map { "\($0.name.map { "\($0) " } ?? "")<\($0.address)>" }.joined(separator: ", "))\n"
    if let r = m.replyTo { s += "Reply-To: <\(r.address)>\n" }
    if !bcc.isEmpty { s += "Bcc (envelope only): \(bcc.joined(separator: ", "))\n" }
    s += "Subject: \(m.subject)\n"
    s += "Message-ID: \(m.messageID)\n"
    if let r = m.inReplyTo { s += "In-Reply-To: \(r)\n" }
    for a in m.attachments {
      s += "Attachment: \(a.filename) (application/pdf, \(a.data.count) bytes)\n"
    }
    s += "Size: \(b.bytes.count) bytes\n\n"
    s += b.rendered.text
    return s
  }

  static func summary(
    plan: NightPlan, invalid: Int, failed: Int, dryRun: Bool, outcomes: [String: Int] = [:]
  ) -> String {
    var lines: [String] = []
    let invoiceCount = plan.messages.reduce(0) { $0 + $1.invoiceCount }
    if let closed = plan.closed {
      lines.append(
        "\(plan.date.iso) is not a business day (\(closed)): nothing is sent today; the next business day's run catches up."
      )
    }
    if dryRun {
      let firsts = plan.messages.reduce(0) { $0 + ($1.step == .first ? 1 : 0) }
      lines.append(
        "dry run for \(plan.date.iso): \(plan.messages.count) message(s) would be sent for \(invoiceCount) invoice(s) (first \(firsts), second \(plan.messages.count - firsts)); nothing was sent or written."
      )
    } else {
      lines.append(
        "send \(plan.date.iso): "
          + ["sent", "deferred", "rejected", "unknown"].map { "\($0) \(outcomes[$0] ?? 0)" }.joined(
            separator: ", ") + " (messages)")
    }
    if failed > 0 { lines.append("not rendered: \(failed)") }
    lines.append("call list: \(plan.calls.count); ready for collection: \(plan.collection.count)")
    var skipped = plan.waiting
    if invalid > 0 { skipped["invalid-row"] = invalid }
    if !skipped.isEmpty {
      lines.append(
        "skipped: "
          + skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", "))
    }
    for a in plan.attention { lines.append("needs attention: invoice \(a.invoice): \(a.reason)") }
    return lines.joined(separator: "\n")
  }
}
