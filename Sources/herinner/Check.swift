import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLetters

/// `herinner check`: every problem in config, invoice source and attachments, with its place.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Validates config, templates, invoice source and attachments; exit 0 when all is well, else 2."
  )

  @OptionGroup var common: CommonOptions

  /// Counts rows, not problems: a row with three problems is one bad row, and a file that
  /// gives no invoice at all (a header without rows, every row bad) is an error, however few
  /// problems it has: an export that went wrong must not pass as "ok: 0".
  func run() throws {
    let config = try common.loadConfig()
    var problems: [Problem] = []
    var count = 0
    var rows: String? = nil
    do {
      let load = try InvoiceSource(config: config.invoices).load()
      problems += load.problems
      if let p = load.noInvoices { problems.append(p) }
      count = load.invoices.count
      rows =
        "\(load.file): \(load.records) row(s): \(load.invoices.count) invoice(s), "
        + "\(load.badRows) bad row(s)"
    } catch {
      problems += error.all
    }
    let rowProblems = problems.count
    problems += TemplateCheck.problems(config)
    for p in problems { Console.error(p.description) }
    if problems.isEmpty {
      Console.out("ok: \(count) invoices, config and attachments valid")
    } else {
      let others = problems.count - rowProblems
      let parts =
        rows.map { [$0] + (others > 0 ? ["\(others) other problem(s)"] : []) }
        ?? ["the invoice file could not be read", "\(problems.count) problem(s)"]
      Console.out(parts.joined(separator: "; "))
      throw ExitCode(2)
    }
  }
}

/// The templates' checks: every template loads and uses only known variables.
enum TemplateCheck {
  static func problems(_ config: Config) -> [Problem] {
    do {
      _ = try TemplateSet.load(folder: config.templates)
      return []
    } catch {
      return error.all
    }
  }
}
