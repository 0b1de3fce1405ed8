import Foundation
import HerinnerCore
import HerinnerInput

/// What `export` writes: per invoice ready for collection a dossier folder with its archived
/// reminders, the server's reply to each, and the PDF; and one `dossiers.csv`. Computed purely;
/// `DossierWriter` carries it out.
public struct DossierExport: Sendable {
  public struct Copy: Sendable, Hashable {
    public var from: String
    public var to: String
    /// A missing source is skipped (the PDF may have moved) rather than failing the export.
    public var optional: Bool
    public init(from: String, to: String, optional: Bool) {
      self.from = from
      self.to = to
      self.optional = optional
    }
  }
  /// A small text file written into a dossier (the server's reply to a reminder).
  public struct File: Sendable, Hashable {
    public var path: String
    public var contents: String
    public init(path: String, contents: String) {
      self.path = path
      self.contents = contents
    }
  }
  public var folder: String
  public var dossiers: [String] = []
  public var copies: [Copy] = []
  public var files: [File] = []
  public var csvPath: String
  public var csv: String
  public var count: Int { dossiers.count }
}

/// `export`: the dossiers of the invoices ready for the collection agency.
///
/// A consumer's collection costs are owed once over the summed principal of the claims (art.
/// 6:96 lid 7 BW): `ConsumerClaims` spreads them over that consumer's claims, so the CSV rows add
/// up to the lawful amount and never carry a letter's whole amount each.
public struct ExportDossiers {
  public let config: Config
  public let overview: LadderOverview
  public let ledger: any LedgerStore
  public let rates: InterestTable
  /// The bank payments matched to invoices, with their booking dates (each naming its claim):
  /// a payment after a 14-day letter's term goes to the costs, then the interest, then the
  /// principal (art. 6:44 BW). Whatever else `paid` holds (the bookkeeping's own) has no known
  /// day and is counted on the due date: to the principal, never to costs.
  public let payments: [ConsumerClaims.Payment]

  public init(
    config: Config, overview: LadderOverview, ledger: any LedgerStore, rates: InterestTable,
    payments: [ConsumerClaims.Payment] = []
  ) {
    self.config = config
    self.overview = overview
    self.ledger = ledger
    self.rates = rates
    self.payments = payments
  }

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" })
      ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }

  /// What one claim stands at today, for its CSV row.
  struct Amounts {
    var outstanding: Money
    var costs: Money
    var interest: Money
    var total: Money { outstanding + costs + interest }
  }

  public func plan() throws -> DossierExport {
    let today = overview.today
    let folder = (config.export as NSString).appendingPathComponent(today.iso)
    var export = DossierExport(
      folder: folder, csvPath: (folder as NSString).appendingPathComponent("dossiers.csv"), csv: "")
    var lines = [
      "invoice;customer;contact;email;phone;kind;issued;due;amount;paid;outstanding;collection_costs;interest_to_date;total_claim;first_sent;second_sent;second_deadline;dossier"
    ]
    // The claims a replacing 14-day letter listed are governed by its deadline too.
    let covered =
      overview.policy.onePerCustomer
      ? ConsumerClaims.coveredHistories(invoices: overview.invoices, histories: overview.histories)
      : overview.histories
    let ladder = Ladder(policy: overview.policy)
    let ready = overview.invoices.filter {
      ladder.decision(for: $0, history: covered[$0.number] ?? .empty, on: today).step
        == .collection
    }
    guard !ready.isEmpty else {
      export.csv = lines.joined(separator: "\r\n") + "\r\n"
      return export
    }
    let all = try ledger.deliveries()
    var rowsByInvoice: [String: [DeliveryRow]] = [:]
    var rowsByMessage: [String: [DeliveryRow]] = [:]
    for r in all {
      rowsByInvoice[r.invoice, default: []].append(r)
      rowsByMessage[r.messageID, default: []].append(r)
    }
    let consumerAmounts = try consumerPositions(
      ready: ready, covered: covered, rowsByInvoice: rowsByInvoice)

    for inv in ready {
      let dossier = (folder as NSString).appendingPathComponent(
        String(inv.number.map { $0 == "/" ? "_" : $0 }))
      export.dossiers.append(dossier)
      let rows = rowsByInvoice[inv.number] ?? []
      // Every reminder that reached the server for this claim: its own, and the 14-day letters
      // that listed it again without a row of its own.
      var messages = rows.filter { $0.state == .sent }
      let own = Set(messages.map(\.messageID))
      for r in covered[inv.number]?.deliveries ?? [] {
        guard let id = r.messageID, !own.contains(id),
          let first = rowsByMessage[id]?.first(where: { $0.state == .sent })
        else { continue }
        messages.append(first)
      }
      var seen = Set<String>()
      for r in messages.sorted(by: { ($0.runDate, $0.id) < ($1.runDate, $1.id) })
      where seen.insert(r.messageID).inserted {
        let name: String
        if let a = r.archivePath {
          name = (a as NSString).lastPathComponent
          export.copies.append(
            .init(
              from: a, to: (dossier as NSString).appendingPathComponent(name), optional: true))
        } else {
          name = "\(r.runDate.iso)-\(r.step.rawValue)-\(r.id).eml"
        }
        let base = name.hasSuffix(".eml") ? String(name.dropLast(4)) : name
        export.files.append(
          .init(
            path: (dossier as NSString).appendingPathComponent(base + ".reply.txt"),
            contents: Self.replyText(r)))
      }
      export.copies.append(
        .init(
          from: (config.invoices.attachments as NSString).appendingPathComponent(inv.pdf),
          to: (dossier as NSString).appendingPathComponent((inv.pdf as NSString).lastPathComponent),
          optional: true))
      let second = rows.filter { $0.step == .second && $0.state == .sent }
      let amounts = consumerAmounts[inv.number] ?? businessAmounts(inv, second: second)
      let first = rows.first { $0.step == .first && $0.state == .sent && !$0.isResend }
      let deadlines = (covered[inv.number]?.deliveries ?? []).filter {
        $0.step == .second && $0.state == .sent
      }.compactMap(\.deadline)
      let fields = [
        inv.number, inv.customer, inv.contact ?? "", inv.email, inv.phone ?? "", inv.kind.rawValue,
        inv.issued.iso, inv.due.iso, inv.amount.plain, inv.paid.plain, amounts.outstanding.plain,
        amounts.costs.plain, amounts.interest.plain, amounts.total.plain,
        first?.runDate.iso ?? "",
        (second.filter { !$0.isResend }.map(\.runDate).min() ?? second.first?.runDate)?.iso ?? "",
        deadlines.max()?.iso ?? "", dossier,
      ]
      lines.append(fields.map(Self.csvField).joined(separator: ";"))
    }
    export.csv = lines.joined(separator: "\r\n") + "\r\n"
    return export
  }

  /// The server's reply to one reminder, as a bookkeeper reads it next to the message.
  static func replyText(_ r: DeliveryRow) -> String {
    var out = [
      "Invoice: \(r.invoice)", "Step: \(r.step.rawValue)\(r.isResend ? " (resend)" : "")",
      "Sent on: \(r.runDate.iso)", "To: \(r.recipients)", "Message-ID: \(r.messageID)",
      "State: \(r.state.rawValue)",
    ]
    if let d = r.deadline { out.append("Deadline stated: \(d.iso)") }
    if let c = r.replyCode { out.append("Server reply code: \(c)") }
    out.append("Server reply: \(r.reply ?? "(none recorded)")")
    return out.joined(separator: "\n") + "\n"
  }

  /// A business claim: the compensation the letter stated (art. 6:96 lid 4 BW), or the scale over
  /// the claim; commercial interest where the policy says so.
  func businessAmounts(_ inv: Invoice, second: [DeliveryRow]) -> Amounts {
    let costs =
      second.first?.costs.map { Money(cents: $0, currency: inv.currency) }
      ?? CollectionCosts.wik(
        principal: inv.outstanding, addVAT: config.policy.collectionCostsIncludeVAT)
    let interest = rates.interest(
      principal: inv.outstanding, due: inv.due, through: overview.today, kind: inv.kind)
    return Amounts(outstanding: inv.outstanding, costs: costs, interest: interest)
  }

  /// Per consumer claim ready for collection: its open principal, its share of the costs owed
  /// once over the consumer's claims, and its interest, from the 14-day letters sent (each once,
  /// by Message-ID) and the payments recorded.
  func consumerPositions(
    ready: [Invoice], covered: [String: InvoiceHistory], rowsByInvoice: [String: [DeliveryRow]]
  ) throws -> [String: Amounts] {
    let wanted = Set(ready.compactMap(ConsumerClaims.consumerKey))
    guard !wanted.isEmpty else { return [:] }
    var consumers: [String: [Invoice]] = [:]
    for inv in overview.invoices where inv.status == .open {
      guard let key = ConsumerClaims.consumerKey(inv), wanted.contains(key) else { continue }
      consumers[key, default: []].append(inv)
    }
    let readyNumbers = Set(ready.map(\.number))
    var out: [String: Amounts] = [:]
    for (_, claims) in consumers {
      var letters: [String: ConsumerClaims.Letter] = [:]
      for inv in claims {
        for r in rowsByInvoice[inv.number] ?? [] where r.step == .second && r.state == .sent {
          guard letters[r.messageID] == nil else { continue }
          letters[r.messageID] = ConsumerClaims.Letter(
            date: r.runDate,
            deadline: r.deadline
              ?? overview.policy.secondDeadline(sentOn: r.runDate, kind: .consumer),
            claims: ConsumerClaims.listed(by: r.messageID, invoices: claims, covered: covered),
            // One amount per letter: every row of the message carries the letter's costs.
            costs: Money(cents: r.costs ?? 0, currency: inv.currency))
        }
      }
      let numbers = Set(claims.map(\.number))
      let dated = payments.filter { $0.claim.map(numbers.contains) == true }
      var undated: [ConsumerClaims.Payment] = []
      for inv in claims {
        // `paid` counts the bank payments too (LadderOverview applies them): the rest is the
        // bookkeeping's own.
        let bank = dated.filter { $0.claim == inv.number }.map(\.amount.cents).reduce(0, +)
        var own = inv
        own.paid = Money(cents: max(0, inv.paid.cents - bank), currency: inv.currency)
        if let p = ConsumerClaims.Payment.recorded(in: own) { undated.append(p) }
      }
      let model = ConsumerClaims(
        claims: claims.map(ConsumerClaims.Claim.init),
        letters: letters.values.sorted { $0.date < $1.date },
        payments: undated + dated.filter { $0.date <= overview.today },
        costsIncludeVAT: overview.policy.collectionCostsIncludeVAT)
      let position: ConsumerClaims.Position
      do {
        position = try model.position(on: overview.today, rates: rates)
      } catch {
        throw AppError(
          .invalidInput,
          "export: the claims of \(claims[0].customer) are in more than one currency; they are never added up"
        )
      }
      for row in position.rows where readyNumbers.contains(row.number) {
        out[row.number] = Amounts(
          outstanding: row.principal, costs: row.costs, interest: row.interest)
      }
    }
    return out
  }
}
