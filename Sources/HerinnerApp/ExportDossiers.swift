import Foundation
import HerinnerCore
import HerinnerInput

/// What `export` writes: per invoice ready for collection a dossier folder with its archived
/// reminders and PDF, and one `dossiers.csv`. Computed purely; `DossierWriter` carries it out.
public struct DossierExport: Sendable {
  public struct Copy: Sendable, Hashable {
    public var from: String
    public var to: String
    /// A missing source is skipped (the PDF may have moved) rather than failing the export.
    public var optional: Bool
  }
  public var folder: String
  public var dossiers: [String] = []
  public var copies: [Copy] = []
  public var csvPath: String
  public var csv: String
  public var count: Int { dossiers.count }
}

/// `export`: the dossiers of the invoices ready for the collection agency.
public struct ExportDossiers {
  public let config: Config
  public let overview: LadderOverview
  public let ledger: any LedgerStore
  public let rates: InterestTable

  public init(
    config: Config, overview: LadderOverview, ledger: any LedgerStore, rates: InterestTable
  ) {
    self.config = config
    self.overview = overview
    self.ledger = ledger
    self.rates = rates
  }

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" })
      ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }

  public func plan() throws -> DossierExport {
    let today = overview.today
    let folder = (config.export as NSString).appendingPathComponent(today.iso)
    var export = DossierExport(
      folder: folder, csvPath: (folder as NSString).appendingPathComponent("dossiers.csv"), csv: "")
    var lines = [
      "invoice;customer;contact;email;phone;kind;issued;due;amount;paid;outstanding;collection_costs;interest_to_date;total_claim;first_sent;second_sent;second_deadline;dossier"
    ]
    for inv in overview.readyForCollection {
      let dossier = (folder as NSString).appendingPathComponent(
        String(inv.number.map { $0 == "/" ? "_" : $0 }))
      export.dossiers.append(dossier)
      let rows = try ledger.deliveries(invoice: inv.number)
      for r in rows where r.state == .sent {
        if let a = r.archivePath {
          export.copies.append(
            .init(
              from: a, to: (dossier as NSString).appendingPathComponent(
                (a as NSString).lastPathComponent), optional: true))
        }
      }
      export.copies.append(
        .init(
          from: (config.invoices.attachments as NSString).appendingPathComponent(inv.pdf),
          to: (dossier as NSString).appendingPathComponent((inv.pdf as NSString).lastPathComponent),
          optional: true))
      let second = rows.filter { $0.step == .second && $0.state == .sent }
      let costs =
        second.first?.costs.map { Money(cents: $0, currency: inv.currency) }
        ?? CollectionCosts.wik(
          principal: inv.outstanding, addVAT: config.policy.collectionCostsIncludeVAT)
      let interest = rates.interest(
        principal: inv.outstanding, due: inv.due, through: today, kind: inv.kind)
      let first = rows.first { $0.step == .first && $0.state == .sent && !$0.isResend }
      let fields = [
        inv.number, inv.customer, inv.contact ?? "", inv.email, inv.phone ?? "", inv.kind.rawValue,
        inv.issued.iso, inv.due.iso, inv.amount.plain, inv.paid.plain, inv.outstanding.plain,
        costs.plain, interest.plain, (inv.outstanding + costs + interest).plain,
        first?.runDate.iso ?? "", second.first?.runDate.iso ?? "",
        (second.compactMap(\.deadline).max()?.iso) ?? "", dossier,
      ]
      lines.append(fields.map(Self.csvField).joined(separator: ";"))
    }
    export.csv = lines.joined(separator: "\r\n") + "\r\n"
    return export
  }
}
