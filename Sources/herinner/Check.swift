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

  func run() throws {
    let config = try common.loadConfig()
    var problems: [Problem] = []
    var count = 0
    do {
      let load = try InvoiceSource(config: config.invoices).load()
      problems += load.problems
      count = load.invoices.count
    } catch {
      problems += error.all
    }
    problems += TemplateCheck.problems(config)
    for p in problems { Console.error(p.description) }
    if problems.isEmpty {
      Console.out("ok: \(count) invoices, config and attachments valid")
    } else {
      Console.out("\(problems.count) problem(s) found")
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
