import ArgumentParser
import HerinnerApp
import HerinnerCore

/// `herinner check`: every problem in config, invoice source and attachments, with its place.
struct Check: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Validates config, templates, invoice source and attachments; exit 0 when all is well, else 2."
  )

  @OptionGroup var common: CommonOptions

  func execute() throws -> Int32 {
    let r = CheckAdministration(config: try common.loadConfig()).run()
    for p in r.problems { Console.error(p.description) }
    if r.ok {
      Console.out("ok: \(r.invoices) invoices, config and attachments valid")
      return ExitStatus.ok
    }
    let parts =
      r.rows.map { [$0] + (r.otherProblems > 0 ? ["\(r.otherProblems) other problem(s)"] : []) }
      ?? ["the invoice file could not be read", "\(r.problems.count) problem(s)"]
    Console.out(parts.joined(separator: "; "))
    return ExitStatus.invalid
  }
}
