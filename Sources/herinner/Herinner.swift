import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLedger

@main
struct Herinner: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "herinner",
    abstract: "Sends Dutch payment reminders along the escalation ladder, and records every one.",
    discussion: """
      Exit codes: 0 all done; 1 ran, but something needs attention; 2 invalid config, template or
      invoice file, or a refused resend; 3 another send holds the lock; 4 SMTP unreachable, TLS or
      login failed before anything was sent; 64 usage error.
      """,
    version: "herinner 0.1.0",
    subcommands: [
      Send.self, Resend.self, Resolve.self, Check.self, Status.self, Export.self, Payments.self,
      Reference.self, Calls.self, LogCall.self, History.self, Bounces.self,
    ]
  )
}

/// `--config` and `--date`, shared by every command.
struct CommonOptions: ParsableArguments {
  @Option(name: .long, help: "The config file.")
  var config: String = "herinner.json"

  @Option(
    name: .long, help: "Run as if today were this date (YYYY-MM-DD), in the configured time zone.")
  var date: String?

  func validate() throws {
    if let date, CalendarDate(parsing: date) == nil {
      throw ValidationError("--date: not a date (YYYY-MM-DD): \(date)")
    }
  }

  /// Loads the config or exits 2 listing every problem.
  func loadConfig() throws -> Config {
    do {
      return try Config.load(path: config)
    } catch {
      for p in error.all { Console.error(p.description) }
      throw ExitCode(2)
    }
  }

  func today(_ config: Config) -> CalendarDate {
    date.flatMap(CalendarDate.init(parsing:)) ?? config.today()
  }
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

/// Loads the invoices; a file that cannot be read or lacks a required column exits 2.
func loadInvoices(_ config: Config, reportProblems: Bool = true) throws -> InvoiceLoad {
  do {
    let load = try InvoiceSource(config: config.invoices).load()
    if reportProblems {
      for p in load.problems { Console.error("skipped: \(p)") }
    }
    return load
  } catch {
    for p in error.all { Console.error(p.description) }
    throw ExitCode(2)
  }
}

func openLedgerForReading(_ config: Config) throws -> Ledger? {
  do {
    return try Ledger.openForReading(path: config.ledger)
  } catch {
    Console.error(error.description)
    throw ExitCode(2)
  }
}

func openLedger(_ config: Config) throws -> Ledger {
  do {
    try FileManager.default.createDirectory(
      atPath: (config.ledger as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true)
    return try Ledger(path: config.ledger)
  } catch let e as LedgerError {
    Console.error(e.description)
    throw ExitCode(2)
  }
}
