import ArgumentParser
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// `herinner export`: a dossier per invoice ready for the collection agency.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Writes dossiers of the invoices ready for collection: a CSV plus the archived reminders and the invoice PDF."
  )

  @OptionGroup var common: CommonOptions

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" })
      ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }

  func run() throws {
    let o = try Overview.load(common)
    let config = o.config
    let ready = o.invoices.filter { o.decision($0).step == .collection }
    let folder = (config.export as NSString).appendingPathComponent(o.today.iso)
    let fm = FileManager.default
    let rates = try InterestRates.load(config)
    var lines = [
      "invoice;customer;contact;email;phone;kind;issued;due;amount;paid;outstanding;collection_costs;interest_to_date;total_claim;first_sent;second_sent;second_deadline;dossier"
    ]
    let ledger = try openLedgerForReading(config)
    for inv in ready {
      let dossier = (folder as NSString).appendingPathComponent(
        inv.number.map { $0 == "/" ? "_" : $0 }.map(String.init).joined())
      try fm.createDirectory(atPath: dossier, withIntermediateDirectories: true)
      let rows = (try? ledger?.deliveries(invoice: inv.number)) ?? nil ?? []
      for r in rows where r.state == .sent {
        if let a = r.archivePath, fm.fileExists(atPath: a) {
          let target = (dossier as NSString).appendingPathComponent(
            (a as NSString).lastPathComponent)
          try? fm.removeItem(atPath: target)
          try fm.copyItem(atPath: a, toPath: target)
        }
      }
      let pdf = (config.invoices.attachments as NSString).appendingPathComponent(inv.pdf)
      let pdfTarget = (dossier as NSString).appendingPathComponent(
        (inv.pdf as NSString).lastPathComponent)
      try? fm.removeItem(atPath: pdfTarget)
      try? fm.copyItem(atPath: pdf, toPath: pdfTarget)
      let second = rows.filter { $0.step == .second && $0.state == .sent }
      let costs =
        second.first?.costs.map { Money(cents: $0, currency: inv.currency) }
        ?? CollectionCosts.wik(
          principal: inv.outstanding, addVAT: config.policy.collectionCostsIncludeVAT)
      let interest = rates.interest(
        principal: inv.outstanding, due: inv.due, through: o.today, kind: inv.kind)
      let first = rows.first { $0.step == .first && $0.state == .sent && !$0.isResend }
      let fields = [
        inv.number, inv.customer, inv.contact ?? "", inv.email, inv.phone ?? "", inv.kind.rawValue,
        inv.issued.iso,
        inv.due.iso, inv.amount.plain, inv.paid.plain, inv.outstanding.plain, costs.plain,
        interest.plain,
        (inv.outstanding + costs + interest).plain, first?.runDate.iso ?? "",
        second.first?.runDate.iso ?? "",
        (second.compactMap(\.deadline).max()?.iso) ?? "", dossier,
      ]
      lines.append(fields.map(Self.csvField).joined(separator: ";"))
    }
    if ready.isEmpty {
      Console.out("no invoices are ready for collection on \(o.today.iso)")
      return
    }
    try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let csv = (folder as NSString).appendingPathComponent("dossiers.csv")
    try (lines.joined(separator: "\r\n") + "\r\n").write(
      toFile: csv, atomically: true, encoding: .utf8)
    Console.out("\(ready.count) dossier(s) for collection written to \(folder) (\(csv))")
  }
}

/// The statutory interest table: the built-in one, or the user's `interestRates` CSV.
enum InterestRates {
  static func load(_ config: Config) throws -> InterestTable {
    guard let path = config.interestRatesFile else { return .builtIn }
    do { return try InterestRateFile.load(path: path) } catch {
      for p in error.all { Console.error(p.description) }
      throw ExitCode(2)
    }
  }
}
