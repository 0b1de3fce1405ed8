import ArgumentParser
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerFiles
import HerinnerInput

/// `herinner export`: a dossier per invoice ready for the collection agency.
struct Export: HerinnerCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Writes dossiers of the invoices ready for collection: a CSV plus the archived reminders and the invoice PDF."
  )

  @OptionGroup var common: CommonOptions

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let load = try loadInvoices(config)
    let ports = try Live(config: config).readingPorts()
    let today = common.today(config)
    let overview = try LadderOverview(
      policy: config.policy, invoices: load.invoices, ledger: ports.ledger,
      payments: ports.payments, on: today)
    let rates = try config.interestRatesFile.map { try InterestRateFile.load(path: $0) } ?? .builtIn
    // Bank payments with their booking dates: after a 14-day letter's term they pay costs
    // first (art. 6:44 BW).
    let payments = try ports.payments.datedPayments()
    let export = try ExportDossiers(
      config: config, overview: overview, ledger: ports.ledger, rates: rates, payments: payments
    ).plan()
    if export.count == 0 {
      Console.out("no invoices are ready for collection on \(today.iso)")
      return ExitStatus.ok
    }
    try DossierWriter.write(export)
    Console.out(
      "\(export.count) dossier(s) for collection written to \(export.folder) (\(export.csvPath))")
    return ExitStatus.ok
  }
}
