import Foundation
import HerinnerBatch
import HerinnerCore
import HerinnerInput
import HerinnerLetters

/// The night: import new statements, recover an interrupted run, plan, send (or, dry, build),
/// and report. Never prints, never exits: the report says what happened.
public struct NightlySend {
  public struct Options: Sendable {
    public var dryRun = false
    /// Only these invoices (empty: all).
    public var invoiceNumbers: [String] = []
    /// At most this many messages.
    public var limit: Int?
    public init(dryRun: Bool = false, invoiceNumbers: [String] = [], limit: Int? = nil) {
      self.dryRun = dryRun
      self.invoiceNumbers = invoiceNumbers
      self.limit = limit
    }
  }

  /// The ports the night works through; a dry run gets no transport, no lock and no archive.
  public struct Ports {
    public var ledger: any LedgerStore
    public var payments: any PaymentsView
    public var inbox: (any StatementInbox)?
    public var lock: (any RunLock)?
    public var archive: Archive?
    public var attachments: Attachments
    public var clock: WallClock
    /// The connections, opened one per sender thread (none for a dry run).
    public var connection: ConnectionOpener?
    /// The per-run journal of started and answered messages (the crash window), and this
    /// machine's boot: a journal of the same boot is trusted by the recovery, another is not.
    public var journal: (any JournalStore)?
    public var bootID: String?
    /// (done, total) after each group.
    public var progress: ((Int, Int) -> Void)?

    public init(
      ledger: any LedgerStore, payments: any PaymentsView, inbox: (any StatementInbox)? = nil,
      lock: (any RunLock)? = nil, archive: Archive? = nil, attachments: Attachments,
      clock: WallClock, connection: ConnectionOpener? = nil,
      journal: (any JournalStore)? = nil, bootID: String? = nil,
      progress: ((Int, Int) -> Void)? = nil
    ) {
      self.connection = connection
      self.journal = journal
      self.bootID = bootID
      self.ledger = ledger
      self.payments = payments
      self.inbox = inbox
      self.lock = lock
      self.archive = archive
      self.attachments = attachments
      self.clock = clock
      self.progress = progress
    }
  }

  public let config: Config
  public let templates: TemplateSet
  public let load: InvoiceLoad
  public let ports: Ports

  public init(config: Config, templates: TemplateSet, load: InvoiceLoad, ports: Ports) {
    self.config = config
    self.templates = templates
    self.load = load
    self.ports = ports
  }

  /// A message a dry run built: the exact bytes and what went into them.
  public struct Preview {
    public var index: Int
    public var total: Int
    public var step: Step
    public var built: MessageBuilder.Built
  }

  /// Runs the night of `today`. A dry run hands each message to `preview` as it is built (so
  /// memory stays bounded by one message) and writes nothing.
  public func run(
    on today: CalendarDate, options: Options, preview: (Preview) -> Void = { _ in }
  ) throws -> NightReport {
    var report = NightReport(date: today, dryRun: options.dryRun)
    report.invalidRows = load.badRows
    if let none = load.noInvoices {
      // An export that went wrong must not look like a quiet night.
      report.attention.append(none.description)
    }
    var invoices = load.invoices
    if !options.invoiceNumbers.isEmpty {
      let wanted = Set(options.invoiceNumbers)
      let known = Set(invoices.map(\.number))
      for n in options.invoiceNumbers where !known.contains(n) {
        report.notices.append("invoice \(n): not found among the valid invoices")
      }
      invoices = invoices.filter { wanted.contains($0.number) }
    }
    if options.dryRun {
      if config.payments.importFrom != nil {
        report.notices.append(
          "dry run: statements in payments.importFrom are not imported (a dry run writes nothing)")
      }
      try checkStatementAge(today)
      let plan = try nightPlan(invoices, on: today, limit: options.limit)
      report.take(plan)
      buildPreviews(plan, on: today, report: &report, preview: preview)
      return report
    }

    try ports.lock?.acquire()
    defer { ports.lock?.release() }
    if let inbox = ports.inbox {
      let (lines, problems) = try inbox.importNew(invoices: load.invoices)
      report.notices += lines.map { "payments: \($0)" }
      // A statement set aside needs a person, but the night goes on: `payments.required`
      // below still refuses when no fresh statement is left.
      report.attention += problems.map { "payments: \($0)" }
    }
    try checkStatementAge(today)
    try recover(into: &report)
    let plan = try nightPlan(invoices, on: today, limit: options.limit)
    report.take(plan)
    if !plan.messages.isEmpty, let open = ports.connection, let archive = ports.archive {
      let runner = NightRunner(
        builder: builder(), ledger: ports.ledger,
        connections: min(config.smtp.connections, plan.messages.count), open: open,
        envelopeFrom: config.smtp.envelopeFrom ?? config.company.email, bcc: config.smtp.bcc,
        maxPerMinute: config.smtp.maxPerMinute, archive: archive.write,
        unarchive: archive.remove, clock: { messageDate(for: today) })
      runner.flushArchive = archive.flush
      runner.tagEnvelope = config.smtp.tagEnvelope
      if let progress = ports.progress { runner.progress = progress }
      if let store = ports.journal, let boot = ports.bootID {
        runner.journal = try store.begin(bootID: boot)
      }
      report.tally = try nothingSentOnFailure { try runner.run(plan.messages) }
      // Every message of the night has its outcome recorded: the journal proves nothing more.
      try ports.journal?.discard()
    }
    report.attention += report.tally.attention.filter(\.needsAttention).map(\.description)
    report.notices += report.tally.attention.filter { !$0.needsAttention }.map(\.description)
    if let why = report.tally.stoppedEarly {
      report.attention.append("the SMTP server failed mid-batch (\(why)); the rest goes next run")
    }
    let pending = try ports.ledger.deliveries(state: .unknown)
    report.unknownPending = pending.count
    for u in pending
    where !report.attention.contains(where: {
      $0.contains("invoice \(u.invoice) (\(u.step.rawValue))")
    }) {
      report.attention.append(
        "invoice \(u.invoice) (\(u.step.rawValue)): delivery unknown since \(u.runDate.iso); `herinner resolve \(u.invoice) --stage \(u.step.rawValue) --sent|--not-sent`"
      )
    }
    return report
  }

  /// Settles what an interrupted run left `sending`: outcomes that had arrived are recorded,
  /// messages that never started are due again (their archive files removed), the rest are
  /// `unknown`. Without a journal (or after a reboot) everything interrupted is `unknown`.
  func recover(into report: inout NightReport) throws {
    guard let store = ports.journal else {
      for row in try ports.ledger.markInterruptedAsUnknown() {
        report.attention.append(
          Attention.interruptedUnknown(invoices: [row.invoice], step: row.step).description)
      }
      return
    }
    let recovery = try recoverInterruptedRun(
      ledger: ports.ledger, journal: store, currentBoot: ports.bootID,
      unarchive: { ports.archive?.remove($0) },
      // The archive stores `name` under its root (Archive.live).
      unarchiveName: { name in
        ports.archive?.remove((config.archive as NSString).appendingPathComponent(name))
      },
      recorded: { Set(try ports.ledger.deliveries().map(\.messageKey)) })
    report.attention += recovery.attention.map(\.description)
  }

  /// A transport failure that reaches here means nothing was sent (the runner reports a
  /// failure after the first message as `stoppedEarly` instead).
  func nothingSentOnFailure<T>(_ body: () throws -> T) throws -> T {
    try config.nothingSentOnFailure(body)
  }

  func builder() -> MessageBuilder {
    MessageBuilder(
      templates: templates, timeZone: config.timezone, readAttachment: ports.attachments.read)
  }

  func buildPreviews(
    _ plan: NightPlan, on today: CalendarDate, report: inout NightReport,
    preview: (Preview) -> Void
  ) {
    let builder = builder()
    let date = messageDate(for: today)
    for (i, m) in plan.messages.enumerated() {
      do {
        let built = try builder.build(
          m.letter, to: m.recipients, date: date, inReplyTo: m.inReplyTo, references: m.references)
        preview(Preview(index: i + 1, total: plan.messages.count, step: m.step, built: built))
      } catch {
        report.tally.notRendered += 1
        report.notices.append("not rendered: \(error)")
      }
    }
  }

  /// `payments.required`: refuse when the newest statement is older than `maxAgeDays`.
  func checkStatementAge(_ today: CalendarDate) throws {
    guard config.payments.required else { return }
    guard let latest = try ports.payments.latestStatementDate() else {
      throw AppError(
        .invalidInput,
        "payments.required: no bank statement has been imported yet (herinner payments import FILE); not sending"
      )
    }
    let age = latest.days(until: today)
    if age > config.payments.maxAgeDays {
      throw AppError(
        .invalidInput,
        "payments.required: the newest bank statement is of \(latest.iso), \(age) days before \(today.iso) (payments.maxAgeDays \(config.payments.maxAgeDays)); import today's statement first. Not sending"
      )
    }
  }

  /// Tonight's plan from the invoices, the ledger's histories and payments, within `limit`.
  func nightPlan(_ invoices: [Invoice], on today: CalendarDate, limit: Int?) throws -> NightPlan {
    var histories = try ports.ledger.histories()
    let applied = try ports.payments.applied(invoices, histories: &histories)
    var plan = planner().plan(invoices: applied, histories: histories, on: today) {
      number, step in
      (histories[number]?.deliveries ?? []).filter { $0.step == step && $0.state == .sent }
        .compactMap(\.messageID)
    }
    if let limit, plan.messages.count > limit { plan.messages = Array(plan.messages.prefix(limit)) }
    return plan
  }

  /// The night's planner: one letter per customer and step, split above `smtp.maxMessageBytes`.
  func planner() -> Planner {
    let size = ports.attachments.size
    return Planner(
      policy: config.policy, sender: config.company, maxMessageBytes: config.smtp.maxMessageBytes,
      attachmentSize: size)
  }

  /// The `Date` header's moment: now, or — when replaying another day with `--date` — that
  /// day at the current time of day.
  func messageDate(for day: CalendarDate) -> Date {
    config.messageDate(for: day, now: ports.clock.now())
  }
}

extension Config {
  func nothingSentOnFailure<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as TransportError {
      throw NothingSent(server: "\(smtp.host):\(smtp.port)", cause: e)
    }
  }

  /// The `Date` header's moment: `now`, or, on another day (`--date`), that day at now's time.
  public func messageDate(for day: CalendarDate, now: Date) -> Date {
    guard day != today(now: now) else { return now }
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = timezone
    let t = cal.dateComponents([.hour, .minute, .second], from: now)
    return cal.date(
      from: DateComponents(
        year: day.year, month: day.month, day: day.day, hour: t.hour, minute: t.minute,
        second: t.second)) ?? now
  }
}
