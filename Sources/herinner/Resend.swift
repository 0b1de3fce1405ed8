import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerInput

enum MessageStage: String, ExpressibleByArgument, CaseIterable {
  case first, second
  var step: Step { self == .first ? .first : .second }
}

/// `herinner resend N`: the latest (or named) reminder again, re-rendered for today.
struct Resend: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Sends an invoice's latest (or the named) reminder again now: re-rendered for today, threaded to the original, recorded as a resend."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("The invoice number.", valueName: "number")) var number: String
  @Option(help: "The reminder to send again (default: the latest sent).") var stage: MessageStage?
  @Option(
    help: ArgumentHelp("Send to this address instead of the invoice's.", valueName: "address"))
  var to: String?
  @Flag(name: .customLong("dry-run"), help: "Print the message; send nothing, write nothing.")
  var dryRun = false
  @Flag(help: "Resend even when the invoice is no longer open.") var force = false

  func validate() throws {
    if let to, !EmailAddress.isValid(to) {
      throw ValidationError("--to: not a valid email address: \(to)")
    }
  }

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let templates = try loadTemplates(config)
    let load = try loadInvoices(config, reportProblems: false)
    let live = Live(config: config)
    let ports = try dryRun ? live.readingPorts() : live.writingPorts()
    let resend = ResendReminder(
      config: config, templates: templates, invoices: load.invoices, ports: ports)
    let request = ResendReminder.Request(
      number: number, step: stage?.step, to: to, force: force, dryRun: dryRun)
    switch try resend.run(request, on: common.today(config)) {
    case .preview(let built, let step, let letter):
      Console.out(Output.readable(built, index: 1, of: 1, step: step, bcc: config.smtp.bcc))
      Console.out(
        "dry run: resend of the \(step.rawValue) reminder for \(letter.numbersText) would be sent; nothing was sent or written."
      )
      return ExitStatus.ok
    case .sent(let step, let letter, let to):
      Console.out(
        "resent the \(step.rawValue) reminder for \(letter.numbersText) to \(to) (deadline \(letter.deadline.iso))"
      )
      return ExitStatus.ok
    case .notSent(let tally):
      for p in tally.problems { Console.error(p) }
      if let why = tally.stoppedEarly { Console.error("resend \(number): not sent: \(why)") }
      return ExitStatus.attention
    }
  }
}

/// `herinner resolve N --stage S (--sent | --not-sent)`.
struct Resolve: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Records a person's verdict on an unknown delivery (--sent: it arrived; --not-sent: send it again), or on a rejected or bounced one (--not-sent, after the address was corrected)."
  )

  @OptionGroup var common: CommonOptions
  @Argument(help: ArgumentHelp("The invoice number.", valueName: "number")) var number: String
  @Option(help: "The reminder the verdict is about.") var stage: MessageStage
  @Flag(help: "The message did arrive.") var sent = false
  @Flag(
    name: .customLong("not-sent"), help: "The message did not arrive: the step becomes due again.")
  var notSent = false

  func validate() throws {
    if sent == notSent { throw ValidationError("give exactly one of --sent and --not-sent") }
  }

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    guard FileManager.default.fileExists(atPath: config.ledger) else {
      throw AppError(.refused, "resolve \(number): nothing recorded yet (no ledger)")
    }
    let ledger = try openLedger(config)
    Console.out(
      try ResolveDelivery(ledger: ledger).run(number: number, step: stage.step, sent: sent))
    return ExitStatus.ok
  }
}
