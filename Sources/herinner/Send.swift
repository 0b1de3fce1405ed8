import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerInput
import HerinnerLetters

func loadTemplates(_ config: Config) throws -> TemplateSet {
  try TemplateSet.load(folder: config.templates)
}

/// `herinner send`: the nightly batch.
struct Send: HerinnerCommand {
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
  @Option(
    name: .customLong("invoice"),
    help: ArgumentHelp("Only this invoice (repeatable).", valueName: "number"))
  var invoiceNumbers: [String] = []
  @Option(help: ArgumentHelp("At most this many messages.", valueName: "count"))
  var limit: Int?
  @Flag(help: "Print the summary as JSON.")
  var json = false

  func validate() throws {
    if eml && !dryRun { throw ValidationError("--eml goes with --dry-run") }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let templates = try loadTemplates(config)
    let load = try loadInvoices(config)
    let live = Live(config: config)
    let ports = try dryRun ? live.readingPorts() : live.writingPorts(progress: progressBar())
    let night = NightlySend(config: config, templates: templates, load: load, ports: ports)
    let options = NightlySend.Options(dryRun: dryRun, invoiceNumbers: invoiceNumbers, limit: limit)
    let bcc = config.smtp.bcc
    let report = try night.run(on: common.today(config), options: options) { p in
      if eml {
        FileHandle.standardOutput.write(Data(Mbox.entry(p.built.bytes, date: p.built.message.date)))
      } else {
        Console.out(Output.readable(p.built, index: p.index, of: p.total, step: p.step, bcc: bcc))
      }
    }
    for n in report.notices { Console.error(n) }
    if json {
      // With --eml stdout is the mbox: the summary goes to stderr, JSON or not.
      let summary = try Output.json(Output.NightSummary(report))
      if eml { Console.error(summary) } else { Console.out(summary) }
    } else if eml {
      Console.error(Output.summary(report))
    } else {
      Console.out(Output.summary(report))
    }
    for a in report.attention { Console.error("attention: \(a)") }
    return ExitStatus.code(needsAttention: report.needsAttention)
  }

  /// A progress bar on a terminal only: cron mail stays clean.
  func progressBar() -> ((Int, Int) -> Void)? {
    guard isatty(STDERR_FILENO) == 1 else { return nil }
    return { done, total in
      let width = 30
      let filled = total == 0 ? width : width * done / total
      FileHandle.standardError.write(
        Data(
          "\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)"
            .utf8))
      if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
  }
}
