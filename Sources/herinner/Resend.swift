import ArgumentParser
import CurlSMTP
import Foundation
import HerinnerBatch
import HerinnerCore
import HerinnerInput
import HerinnerLedger
import HerinnerLetters

enum MessageStage: String, ExpressibleByArgument, CaseIterable {
  case first, second
  var step: Step { self == .first ? .first : .second }
}

/// `herinner resend N`: the latest (or named) reminder again, re-rendered for today.
struct Resend: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Sends an invoice's latest (or the named) reminder again now: re-rendered for today, threaded to the original, recorded as a resend."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: "The invoice number.") var number: String
  @Option(help: "first or second (default: the latest sent).") var stage: MessageStage?
  @Option(help: "Send to this address instead of the invoice's.") var to: String?
  @Flag(name: .customLong("dry-run"), help: "Print the message; send nothing, write nothing.")
  var dryRun = false
  @Flag(help: "Resend even when the invoice is no longer open.") var force = false

  func validate() throws {
    if let to, !EmailAddress.isValid(to) {
      throw ValidationError("--to: not a valid email address: \(to)")
    }
  }

  func refuse(_ why: String) -> ExitCode {
    Console.error("resend \(number): \(why)")
    return ExitCode(2)
  }

  func run() throws {
    let config = try common.loadConfig()
    let templates = try loadTemplates(config)
    let load = try loadInvoices(config, reportProblems: false)
    let today = common.today(config)
    guard let invoice = load.invoices.first(where: { $0.number == number }) else {
      throw refuse(
        "not found among the valid invoices of \(InvoiceSource.display(config.invoices.path))")
    }
    guard let reader = try openLedgerForReading(config) else {
      throw refuse("nothing was ever sent (no ledger)")
    }
    let rows: [DeliveryRow]
    do { rows = try reader.deliveries() } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    let sent = rows.filter { $0.invoice == number && $0.state == .sent }
    let step: Step
    if let stage {
      step = stage.step
    } else {
      guard let latest = sent.max(by: { ($0.step, $0.id) < ($1.step, $1.id) }) else {
        throw refuse("no reminder was ever sent for this invoice")
      }
      step = latest.step
    }
    guard let original = sent.filter({ $0.step == step }).max(by: { $0.id < $1.id }) else {
      throw refuse("the \(step.rawValue) reminder was never sent for this invoice")
    }
    let ladder = Ladder(policy: config.policy)
    let d = ladder.decision(for: invoice, history: try reader.history(invoice: number), on: today)
    if !force {
      switch d.reason {
      case .status(let s)?:
        throw refuse("the invoice is \(s.rawValue), no longer open (use --force to send anyway)")
      case .settled?, .belowMinimum?:
        throw refuse("the invoice is settled (use --force to send anyway)")
      default: break
      }
    }
    // The message that covered this invoice covered these (one letter per customer).
    let covered = rows.filter { $0.messageKey == original.messageKey }.map(\.invoice)
    let invoices = covered.compactMap { n in load.invoices.first { $0.number == n } }
    let firstRows = rows.filter {
      covered.contains($0.invoice) && $0.step == .first && $0.state == .sent && !$0.isResend
    }
    let letter = Letter.make(
      step: step, invoices: invoices.isEmpty ? [invoice] : invoices, sender: config.sender,
      policy: config.policy,
      date: today, firstSentOn: firstRows.map(\.runDate).min(), isResend: true,
      costsOverride: original.costs.map { Money(cents: $0, currency: invoice.currency) })
    var references: [String] = []
    if step == .second, let f = firstRows.first { references.append(f.messageID) }
    if !references.contains(original.messageID) { references.append(original.messageID) }
    let planned = PlannedMessage(
      step: step, letter: letter, recipients: [to ?? invoice.email], inReplyTo: original.messageID,
      references: references)

    if dryRun {
      let builder = MessageBuilder(
        templates: templates, timeZone: config.timezone, readAttachment: config.attachmentReader)
      let built = try builder.build(
        letter, to: planned.recipients, date: config.messageDate(for: today),
        inReplyTo: planned.inReplyTo,
        references: planned.references, autoSubmitted: false)
      Console.out(Send.readable(built, index: 1, of: 1, step: step, bcc: config.smtp.bcc))
      Console.out(
        "dry run: resend of the \(step.rawValue) reminder for \(letter.numbersText) would be sent; nothing was sent or written."
      )
      return
    }
    let lock = try RunLock(path: config.lockFile)
    defer { _ = lock }
    let ledger = try openLedger(config)
    let transports = try config.openTransports(count: 1)
    let runner = NightRunner(
      builder: MessageBuilder(
        templates: templates, timeZone: config.timezone, readAttachment: config.attachmentReader),
      ledger: ledger, transports: transports,
      envelopeFrom: config.smtp.envelopeFrom ?? config.company.email,
      bcc: config.smtp.bcc, maxPerMinute: 0, archive: config.archiveWriter,
      unarchive: { try? FileManager.default.removeItem(atPath: $0) },
      clock: { config.messageDate(for: today) })
    runner.flushArchive = config.archiveFlush
    let tally: RunTally
    do { tally = try runner.run([planned], resend: true) } catch let e as TransportError {
      Console.error(
        "SMTP \(config.smtp.host):\(config.smtp.port): \(e.message); nothing sent, nothing marked")
      throw ExitCode(4)
    } catch {
      Console.error("resend stopped: \(error)")
      throw ExitCode(1)
    }
    if tally.sent == 1 {
      Console.out(
        "resent the \(step.rawValue) reminder for \(letter.numbersText) to \(planned.recipients[0]) (deadline \(letter.deadline.iso))"
      )
    } else {
      for p in tally.problems { Console.error(p) }
      throw ExitCode(1)
    }
  }
}

/// `herinner resolve N --stage S (--sent | --not-sent)`.
struct Resolve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Records a person's verdict on an unknown delivery: --sent (it arrived) or --not-sent (send it again)."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: "The invoice number.") var number: String
  @Option(help: "first or second.") var stage: MessageStage
  @Flag(help: "The message did arrive.") var sent = false
  @Flag(
    name: .customLong("not-sent"), help: "The message did not arrive: the step becomes due again.")
  var notSent = false

  func validate() throws {
    if sent == notSent { throw ValidationError("give exactly one of --sent and --not-sent") }
  }

  func run() throws {
    let config = try common.loadConfig()
    guard FileManager.default.fileExists(atPath: config.ledger) else {
      Console.error("resolve \(number): nothing recorded yet (no ledger)")
      throw ExitCode(2)
    }
    let ledger = try openLedger(config)
    let changed: Int
    do { changed = try ledger.resolve(invoice: number, step: stage.step, sent: sent) } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    guard changed > 0 else {
      Console.error("resolve \(number): no unknown \(stage.rawValue) delivery to resolve")
      throw ExitCode(2)
    }
    Console.out(
      "invoice \(number): the \(stage.rawValue) reminder is now recorded as \(sent ? "sent" : "not sent (due again)")"
    )
  }
}
