import Foundation
import HerinnerBatch
import HerinnerCore
import HerinnerInput
import HerinnerLetters

/// `resend`: an invoice's latest (or named) reminder again, re-rendered for today (new
/// deadline, same costs), threaded to the original and recorded as a resend — never a new step.
public struct ResendReminder {
  public struct Request: Sendable {
    public var number: String
    public var step: Step?
    public var to: String?
    public var force = false
    public var dryRun = false
    public init(
      number: String, step: Step? = nil, to: String? = nil, force: Bool = false,
      dryRun: Bool = false
    ) {
      self.number = number
      self.step = step
      self.to = to
      self.force = force
      self.dryRun = dryRun
    }
  }

  public enum Outcome {
    /// A dry run: the message that would go out.
    case preview(MessageBuilder.Built, step: Step, letter: Letter)
    case sent(step: Step, letter: Letter, to: String)
    /// It did not go out; what the run said.
    case notSent(RunTally)
  }

  public let config: Config
  public let templates: TemplateSet
  public let invoices: [Invoice]
  public let ports: NightlySend.Ports

  public init(config: Config, templates: TemplateSet, invoices: [Invoice], ports: NightlySend.Ports)
  {
    self.config = config
    self.templates = templates
    self.invoices = invoices
    self.ports = ports
  }

  func refuse(_ number: String, _ why: String) -> AppError {
    AppError(.refused, "resend \(number): \(why)")
  }

  /// The reminder to send again: which original, which invoices it covered, which references.
  public func planned(_ r: Request, on today: CalendarDate) throws -> PlannedMessage {
    guard let invoice = invoices.first(where: { $0.number == r.number }) else {
      throw refuse(
        r.number,
        "not found among the valid invoices of \(InvoiceSource.display(config.invoices.path))")
    }
    let rows = try ports.ledger.deliveries()
    guard !rows.isEmpty else { throw refuse(r.number, "nothing was ever sent (no ledger)") }
    let sent = rows.filter { $0.invoice == r.number && $0.state == .sent }
    let bounced = rows.filter { $0.invoice == r.number && $0.state == .bounced }
    let step: Step
    if let s = r.step {
      step = s
    } else {
      guard let latest = (sent + bounced).max(by: { ($0.step, $0.id) < ($1.step, $1.id) }) else {
        throw refuse(r.number, "no reminder was ever sent for this invoice")
      }
      step = latest.step
    }
    // The latest reminder bounced: never silently an older one instead of it.
    if let b = bounced.filter({ $0.step == step }).max(by: { $0.id < $1.id }),
      !sent.contains(where: { $0.step == step && $0.id > b.id })
    {
      throw refuse(
        r.number,
        "the \(step.rawValue) reminder bounced: correct the e-mail address in the invoice file, or `herinner resolve \(r.number) --stage \(step.rawValue) --not-sent` (it is then sent again by the night)"
      )
    }
    guard let original = sent.filter({ $0.step == step }).max(by: { $0.id < $1.id }) else {
      throw refuse(r.number, "the \(step.rawValue) reminder was never sent for this invoice")
    }
    var histories = try ports.ledger.histories()
    let applied = try ports.payments.applied([invoice], histories: &histories)
    let d = Ladder(policy: config.policy).decision(
      for: applied[0], history: histories[r.number] ?? .empty, on: today)
    if !r.force {
      switch d.reason {
      case .status(let s)?:
        throw refuse(
          r.number, "the invoice is \(s.rawValue), no longer open (use --force to send anyway)")
      case .settled?, .belowMinimum?:
        throw refuse(r.number, "the invoice is settled (use --force to send anyway)")
      default: break
      }
    }
    // The message that covered this invoice covered these (one letter per customer); a
    // consumer's 14-day letter also listed the open claims it covered again.
    let covered: [String]
    var pool = invoices
    let costs = original.costs.map { Money(cents: $0, currency: invoice.currency) }
    var replaces: [CalendarDate] = []
    var costsOverride = costs
    if step == .second, invoice.kind == .consumer, config.policy.onePerCustomer {
      let consumer = invoices.filter {
        ConsumerClaims.consumerKey($0) == ConsumerClaims.consumerKey(invoice)
      }
      let consumerApplied = try ports.payments.applied(consumer, histories: &histories)
      let all = ConsumerClaims.coveredHistories(invoices: consumerApplied, histories: histories)
      let listed = Set(
        ConsumerClaims.listed(by: original.messageID, invoices: consumerApplied, covered: all))
      // A resend lists what is still open of them (and the invoice asked for, even if --force).
      let open = consumerApplied.filter {
        listed.contains($0.number)
          && ($0.number == r.number || ConsumerClaims.isOpen($0, history: histories[$0.number]))
      }
      covered = open.map(\.number)
      pool = consumerApplied
      // It replaces every earlier 14-day letter that listed one of them (art. 6:96 lid 7 BW).
      replaces = Array(
        Set(
          covered.flatMap { n in
            (all[n]?.deliveries ?? []).filter { $0.step == .second && $0.state == .sent }.map(
              \.date)
          })
      ).sorted()
      // The same costs, but never more than the scale over what is still open.
      let principal = open.map(\.outstanding).reduce(
        Money(cents: 0, currency: invoice.currency), +)
      let scale = CollectionCosts.wik(
        principal: principal, addVAT: config.policy.collectionCostsIncludeVAT)
      costsOverride = costs.map { $0.cents <= scale.cents ? $0 : scale } ?? scale
    } else {
      covered = rows.filter { $0.messageKey == original.messageKey }.map(\.invoice)
    }
    let coveredInvoices = covered.compactMap { n in pool.first { $0.number == n } }
    let firstRows = rows.filter {
      covered.contains($0.invoice) && $0.step == .first && $0.state == .sent && !$0.isResend
    }
    var remindedOn: [String: CalendarDate] = [:]
    for f in firstRows {
      remindedOn[f.invoice] = min(remindedOn[f.invoice] ?? f.runDate, f.runDate)
    }
    let letter = Letter.make(
      step: step, invoices: coveredInvoices.isEmpty ? [invoice] : coveredInvoices,
      sender: config.company, policy: config.policy, date: today,
      firstSentOn: firstRows.map(\.runDate).min(),
      remindedOn: coveredInvoices.count > 1 ? remindedOn : [:], replaces: replaces,
      isResend: true, costsOverride: costsOverride)
    var references: [String] = []
    if step == .second, let f = firstRows.first { references.append(f.messageID) }
    if !references.contains(original.messageID) { references.append(original.messageID) }
    return PlannedMessage(
      step: step, letter: letter, recipients: [r.to ?? invoice.email],
      inReplyTo: original.messageID, references: references)
  }

  public func run(_ r: Request, on today: CalendarDate) throws -> Outcome {
    let planned = try planned(r, on: today)
    let builder = MessageBuilder(
      templates: templates, timeZone: config.timezone, readAttachment: ports.attachments.read)
    let date = config.messageDate(for: today, now: ports.clock.now())
    if r.dryRun {
      let built = try builder.build(
        planned.letter, to: planned.recipients, date: date, inReplyTo: planned.inReplyTo,
        references: planned.references, autoSubmitted: false)
      return .preview(built, step: planned.step, letter: planned.letter)
    }
    guard let open = ports.connection, let archive = ports.archive else {
      throw AppError(.failed, "resend \(r.number): no mail transport configured")
    }
    try ports.lock?.acquire()
    defer { ports.lock?.release() }
    let runner = NightRunner(
      builder: builder, ledger: ports.ledger, connections: 1, open: open,
      envelopeFrom: config.smtp.envelopeFrom ?? config.company.email, bcc: config.smtp.bcc,
      maxPerMinute: 0, archive: archive.write, unarchive: archive.remove, clock: { date })
    runner.flushArchive = archive.flush
    runner.tagEnvelope = config.smtp.tagEnvelope
    let tally = try config.nothingSentOnFailure { try runner.run([planned], resend: true) }
    guard tally.sent == 1 else { return .notSent(tally) }
    return .sent(step: planned.step, letter: planned.letter, to: planned.recipients[0])
  }
}
