import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerInput
import HerinnerLedger

@main
struct Herinner: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "herinner",
    abstract: "Sends Dutch payment reminders along the escalation ladder, and records every one.",
    discussion: """
      Exit codes:
        0   all done
        1   it ran, but something needs attention (stderr, herinner status)
        2   invalid config, template or input file, or a refused command
        3   another send holds the lock
        4   mail server unreachable, TLS or login failed, or sender refused
        64  usage error
      """,
    version: "herinner 0.1.0",
    subcommands: [
      Send.self, Resend.self, Resolve.self, Check.self, Status.self, Export.self, Payments.self,
      Reference.self, Calls.self, LogCallCommand.self, History.self, Bounces.self,
    ]
  )
}

extension Herinner {
  /// Parses and runs one command; every error the commands throw is printed on stderr in plain
  /// words and mapped to its exit status in `ExitStatus`, the one place that decides them.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let e where ExitStatus.handles(e) {
      for line in ExitStatus.lines(for: e) { Console.error(line) }
      Foundation.exit(ExitStatus.code(for: e))
    } catch {
      exit(withError: error)
    }
  }
}

extension CalendarDate: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

/// `--config` and `--date`, shared by every command.
struct CommonOptions: ParsableArguments {
  @Option(name: .long, help: "The config file.")
  var config: String = "herinner.json"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Run as if today were this date (YYYY-MM-DD), in the configured time zone.",
      valueName: "yyyy-mm-dd"))
  var date: CalendarDate?

  func loadConfig() throws -> Config { try Config.load(path: config) }

  func today(_ config: Config) -> CalendarDate { date ?? config.today() }
}

/// stdout for results, stderr for logs and problems.
enum Console {
  static func out(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
  }
  static func error(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
  }
}

/// Loads the invoices; a file that cannot be read or lacks a required column throws `Problems`.
func loadInvoices(_ config: Config, reportProblems: Bool = true) throws -> InvoiceLoad {
  let load = try InvoiceSource(config: config.invoices).load()
  if reportProblems {
    for p in load.problems { Console.error("skipped: \(p)") }
  }
  return load
}

func openLedgerForReading(_ config: Config) throws -> SQLiteLedger? {
  try SQLiteLedger.openForReading(path: config.ledger)
}

func openLedger(_ config: Config) throws -> SQLiteLedger {
  try? FileManager.default.createDirectory(
    atPath: (config.ledger as NSString).deletingLastPathComponent,
    withIntermediateDirectories: true)
  return try SQLiteLedger(path: config.ledger)
}
