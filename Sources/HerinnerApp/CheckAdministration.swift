import HerinnerCore
import HerinnerInput
import HerinnerLetters

/// `check`: every problem in the invoice source, its attachments and the templates, with its
/// place. Counts rows, not problems: a row with three problems is one bad row, and a file that
/// gives no invoice at all (a header without rows, every row bad) is an error however few
/// problems it has — an export that went wrong must not pass as "ok: 0".
public struct CheckAdministration {
  public struct Report: Sendable {
    public var problems: [Problem] = []
    /// "invoices.csv: 3 row(s): 2 invoice(s), 1 bad row(s)"; nil when the file was unreadable.
    public var rows: String?
    public var invoices = 0
    /// Problems that are not about invoice rows (templates).
    public var otherProblems = 0
    public var ok: Bool { problems.isEmpty }
  }

  public let config: Config
  public init(config: Config) { self.config = config }

  public func run() -> Report {
    var r = Report()
    do {
      let load = try InvoiceSource(config: config.invoices).load()
      r.problems += load.problems
      if let p = load.noInvoices { r.problems.append(p) }
      r.invoices = load.invoices.count
      r.rows =
        "\(load.file): \(load.records) row(s): \(load.invoices.count) invoice(s), "
        + "\(load.badRows) bad row(s)"
    } catch {
      r.problems += error.all
    }
    let rowProblems = r.problems.count
    do { _ = try TemplateSet.load(folder: config.templates) } catch { r.problems += error.all }
    r.otherProblems = r.problems.count - rowProblems
    return r
  }
}
