import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerFiles
import HerinnerInput
import HerinnerLetters
import Testing

/// One consumer with several invoices, run night after night through the real use cases on a
/// memory ledger: the 14-day letter covers every open claim, later letters replace earlier ones,
/// and the costs claimed, in letters or dossiers, never exceed the scale over what is open
/// (art. 6:96 lid 6 and 7 BW).
final class ConsumerWorld {
  let example: Example
  var config: Config
  let ledger = MemoryLedger(clock: clock)
  let transport = AcceptingTransport()
  let archive: Archive
  let files: ArchivedFiles
  var invoices: [Invoice]

  init(_ invoices: [Invoice], policy: (inout Policy) -> Void = { _ in }) throws {
    example = try Example()
    config = example.config
    config.policy.businessDaysOnly = false
    policy(&config.policy)
    (archive, files) = Archive.memory()
    self.invoices = invoices
  }

  var ports: NightlySend.Ports {
    var pdfs: [String: [UInt8]] = [:]
    for inv in invoices { pdfs[inv.pdf] = Array("%PDF-1.4 \(inv.number)".utf8) }
    return NightlySend.Ports(
      ledger: ledger, payments: NoPayments(), lock: MemoryRunLock(), archive: archive,
      attachments: .memory(pdfs), clock: clock,
      connection: opener(transport))
  }

  @discardableResult
  func night(_ day: CalendarDate) throws -> NightReport {
    let load = InvoiceLoad(invoices: invoices, problems: [], records: invoices.count)
    return try NightlySend(config: config, templates: example.templates, load: load, ports: ports)
      .run(on: day, options: .init())
  }

  func resend(_ number: String, on day: CalendarDate, dryRun: Bool = false) throws
    -> ResendReminder.Outcome
  {
    try ResendReminder(
      config: config, templates: example.templates, invoices: invoices, ports: ports
    ).run(.init(number: number, dryRun: dryRun), on: day)
  }

  func export(on day: CalendarDate, payments: [ConsumerClaims.Payment] = []) throws
    -> DossierExport
  {
    let overview = try LadderOverview(
      policy: config.policy, invoices: invoices, ledger: ledger, payments: NoPayments(), on: day)
    return try ExportDossiers(
      config: config, overview: overview, ledger: ledger, rates: .builtIn, payments: payments
    ).plan()
  }

  func pay(_ number: String, _ cents: Int64) {
    guard let i = invoices.firstIndex(where: { $0.number == number }) else { return }
    invoices[i].paid = Money(cents: invoices[i].paid.cents + cents)
  }

  /// The consumer's claims open on `day`, past their due date.
  func openClaims(on day: CalendarDate) -> [Invoice] {
    invoices.filter { $0.kind == .consumer && $0.outstanding.cents > 0 && $0.due < day }
  }

  func scale(_ claims: [Invoice]) -> Money {
    CollectionCosts.wik(
      principal: Money(cents: claims.map(\.outstanding.cents).reduce(0, +)),
      addVAT: config.policy.collectionCostsIncludeVAT)
  }
}

func consumerInvoice(
  _ number: String, due: String, amount: Int64, kind: CustomerKind = .consumer
) -> Invoice {
  let dueDate = CalendarDate(parsing: due)!
  return Invoice(
    number: number, customerID: "K-77", customer: "J. Jansen", contact: "de heer Jansen",
    email: "j.jansen@example.nl", kind: kind, issued: dueDate.adding(days: -14), due: dueDate,
    amount: Money(cents: amount), pdf: "\(number).pdf")
}

/// The CSV of an export, by column name.
struct DossierCSV {
  var header: [String]
  var rows: [[String]]
  init(_ csv: String) {
    let lines = csv.split(separator: "\r\n").map {
      $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
    }
    header = lines.first ?? []
    rows = Array(lines.dropFirst())
  }
  func column(_ name: String) -> [String] {
    guard let i = header.firstIndex(of: name) else { return [] }
    return rows.map { i < $0.count ? $0[i] : "" }
  }
  func cents(_ name: String) -> [Int64] {
    column(name).map { s in
      let parts = s.split(separator: ".")
      return (Int64(parts.first ?? "0") ?? 0) * 100 + (parts.count > 1 ? Int64(parts[1]) ?? 0 : 0)
    }
  }
}

extension CalendarDate {
  static func d(_ s: String) -> CalendarDate { CalendarDate(parsing: s)! }
}

@Suite struct ConsumerClaimsNightTests {
  /// Issue 15's Done-when: two months and more of nights, three invoices falling due at
  /// different times, part payments and a resend; never more costs than the scale over the sum
  /// of the open claims, in any letter or dossier, and no claim in collection inside a term.
  @Test func twoMonthsOfNightsNeverClaimMoreCostsThanTheScaleOverTheOpenClaims() throws {
    let w = try ConsumerWorld([
      consumerInvoice("K1", due: "2026-10-01", amount: 150_000),
      consumerInvoice("K2", due: "2026-10-20", amount: 80_000),
      consumerInvoice("K3", due: "2026-11-01", amount: 220_000),
      // The same customer_id as a business: never in the consumer's letter.
      consumerInvoice("B1", due: "2026-10-01", amount: 30_000, kind: .business),
    ])
    var day = CalendarDate.d("2026-10-01")
    let end = CalendarDate.d("2026-12-20")
    var letterDays: [CalendarDate] = []
    var resent = false
    var maxCollectionCosts: Int64 = 0
    while day <= end {
      if day == .d("2026-11-03") { w.pay("K1", 50_000) }  // part payment within the term
      if day == .d("2026-11-25") { w.pay("K2", 80_000) }  // paid off
      try w.night(day)
      if day == .d("2026-11-12") {
        guard case .sent(let step, let letter, _) = try w.resend("K1", on: day) else {
          Issue.record("the 14-day letter was not resent")
          return
        }
        resent = true
        #expect(step == .second)
        #expect(letter.replaces.contains(.d("2026-10-22")), "a resend says what it replaces")
        #expect(letter.deadline == Policy().secondDeadline(sentOn: day, kind: .consumer))
        #expect(letter.costs.map { $0 <= w.scale(w.openClaims(on: day)) } == true)
      }
      let rows = try w.ledger.deliveries()
      let histories = ConsumerClaims.coveredHistories(
        invoices: w.invoices, histories: try w.ledger.histories())
      // Tonight's 14-day letters to the consumer.
      let tonight = Dictionary(
        grouping: rows.filter {
          $0.runDate == day && $0.step == .second && $0.state == .sent
            && $0.invoice.hasPrefix("K")
        }, by: \.messageKey)
      #expect(tonight.count <= 1, "one 14-day letter a night for the consumer")
      for (_, message) in tonight {
        // A new letter lists every open claim; a resend those its letter covered.
        let open = w.openClaims(on: day).filter { inv in
          !message[0].isResend
            || rows.contains {
              $0.invoice == inv.number && $0.step == .second && $0.runDate < day
            }
        }
        let listed = ConsumerClaims.listed(
          by: message[0].messageID, invoices: w.invoices, covered: histories)
        #expect(Set(listed) == Set(open.map(\.number)), "\(day.iso): every open claim listed")
        let costs = try #require(message[0].costs)
        #expect(Set(message.map(\.costs)).count == 1, "one amount per letter")
        #expect(costs <= w.scale(open).cents, "\(day.iso): the letter's costs are within scale")
        letterDays.append(day)
      }
      // The dossiers: the consumer's rows never add up to more than the scale over the open
      // claims, and no claim is in collection before the day after its latest letter's term.
      let export = try w.export(on: day)
      let csv = DossierCSV(export.csv)
      let consumer = csv.rows.indices.filter { csv.column("kind")[$0] == "consumer" }
      let total = consumer.map { csv.cents("collection_costs")[$0] }.reduce(0, +)
      #expect(total <= w.scale(w.openClaims(on: day)).cents, "\(day.iso): dossier costs")
      maxCollectionCosts = max(maxCollectionCosts, total)
      for n in consumer.map({ csv.column("invoice")[$0] }) {
        let deadline = try #require(histories[n]?.latestSent(.second)?.deadline)
        #expect(day > deadline, "\(day.iso): \(n) exported inside the term ending \(deadline.iso)")
      }
      // `status` and `calls` read the same: no claim ready for collection inside a term.
      let overview = try LadderOverview(
        policy: w.config.policy, invoices: w.invoices, ledger: w.ledger, payments: NoPayments(),
        on: day)
      #expect(
        Set(overview.readyForCollection.map(\.number))
          == Set(csv.column("invoice")), "\(day.iso): status and export agree")
      day = day.adding(days: 1)
    }
    #expect(resent)
    // The first letter covered K1 and K2 (K2's own first was never sent); K3's letter replaced it.
    #expect(letterDays.first == .d("2026-10-22"))
    #expect(letterDays.contains(.d("2026-11-22")))
    let k2 = try w.ledger.deliveries(invoice: "K2")
    #expect(!k2.contains { $0.step == .first }, "a covered claim's first is not sent any more")
    let b1 = try w.ledger.deliveries(invoice: "B1")
    #expect(
      b1.allSatisfy { r in
        !(try! w.ledger.deliveries()).contains {
          $0.messageKey == r.messageKey && $0.invoice.hasPrefix("K")
        }
      })
    #expect(maxCollectionCosts > 0, "the costs were owed at some point")
    // At the end K1 and K3 are in collection, over their sum, K2 paid off.
    let last = DossierCSV(try w.export(on: end).csv)
    let kRows = last.rows.indices.filter { last.column("kind")[$0] == "consumer" }
    #expect(Set(kRows.map { last.column("invoice")[$0] }) == ["K1", "K3"])
    let sum = kRows.map { last.cents("collection_costs")[$0] }.reduce(0, +)
    #expect(sum == w.scale(w.openClaims(on: end)).cents)
  }

  /// Two claims in one letter, its term passed: the rows share the costs, they do not repeat them.
  @Test func theDossierAllocatesOneLettersCostsOverItsClaims() throws {
    let w = try ConsumerWorld([
      consumerInvoice("K1", due: "2026-10-01", amount: 150_000),
      consumerInvoice("K2", due: "2026-10-05", amount: 100_000),
    ])
    for offset in 0...40 { try w.night(CalendarDate.d("2026-10-01").adding(days: offset)) }
    let rows = try w.ledger.deliveries().filter { $0.step == .second }
    #expect(Set(rows.map(\.messageKey)).count == 1, "one 14-day letter for both")
    let stated = try #require(rows.first?.costs)
    #expect(stated == CollectionCosts.wik(principal: Money(cents: 250_000)).cents)
    let csv = DossierCSV(try w.export(on: .d("2026-11-10")).csv)
    #expect(csv.column("invoice").sorted() == ["K1", "K2"])
    let costs = csv.cents("collection_costs")
    #expect(costs.reduce(0, +) == stated)
    #expect(costs.allSatisfy { $0 < stated }, "never the full amount on every row")
    let outstanding = csv.cents("outstanding")
    let interest = csv.cents("interest_to_date")
    for i in costs.indices {
      #expect(csv.cents("total_claim")[i] == outstanding[i] + costs[i] + interest[i])
      #expect(interest[i] > 0)
    }
    #expect(csv.column("collection_costs").allSatisfy { $0.contains(".") && !$0.contains(",") })
  }

  /// After a part payment the dossier claims the costs of what is still open.
  @Test func afterAPartPaymentTheDossierClaimsTheCostsOfWhatIsOpen() throws {
    let w = try ConsumerWorld([
      consumerInvoice("K1", due: "2026-10-01", amount: 300_000),
      consumerInvoice("K2", due: "2026-10-05", amount: 100_000),
    ])
    for offset in 0...40 { try w.night(CalendarDate.d("2026-10-01").adding(days: offset)) }
    w.pay("K1", 250_000)
    let csv = DossierCSV(try w.export(on: .d("2026-11-12")).csv)
    let costs = csv.cents("collection_costs").reduce(0, +)
    #expect(costs == CollectionCosts.wik(principal: Money(cents: 150_000)).cents)
    #expect(costs < CollectionCosts.wik(principal: Money(cents: 400_000)).cents)
    #expect(csv.cents("outstanding").reduce(0, +) == 150_000)
  }

  /// Per claim's dossier: every reminder sent, archived, with the server's reply next to it —
  /// also the replacing letter that listed the claim without a row of its own.
  @Test func eachDossierHoldsEveryLetterThatListedTheClaimWithTheServersReply() throws {
    let w = try ConsumerWorld([
      consumerInvoice("K1", due: "2026-10-01", amount: 150_000),
      consumerInvoice("K3", due: "2026-11-01", amount: 220_000),
    ])
    var day = CalendarDate.d("2026-10-01")
    while day <= .d("2026-12-10") {
      try w.night(day)
      day = day.adding(days: 1)
    }
    let export = try w.export(on: .d("2026-12-10"))
    let k1 = try #require(export.dossiers.first { $0.hasSuffix("/K1") })
    let copies = export.copies.filter { $0.to.hasPrefix(k1 + "/") && $0.to.hasSuffix(".eml") }
    // K1: its first, its 14-day letter, and K3's letter that replaced it.
    #expect(copies.count == 3)
    #expect(Set(copies.map(\.from)).isSubset(of: Set(w.files.all.keys)))
    let replies = export.files.filter { $0.path.hasPrefix(k1 + "/") }
    #expect(replies.count == 3)
    #expect(replies.allSatisfy { $0.contents.contains("250 2.0.0 Ok: queued as T1") })
    #expect(replies.allSatisfy { $0.path.hasSuffix(".reply.txt") })

    // Written out: the copies and the replies are files beside each other.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "herinner-dossier-\(UUID().uuidString)"
    ).path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var moved = export
    moved.folder = dir
    moved.csvPath = dir + "/dossiers.csv"
    moved.dossiers = export.dossiers.map { dir + "/" + ($0 as NSString).lastPathComponent }
    moved.copies = []
    moved.files = export.files.map {
      .init(path: $0.path.replacingOccurrences(of: export.folder, with: dir), contents: $0.contents)
    }
    try DossierWriter.write(moved)
    let written = try FileManager.default.contentsOfDirectory(atPath: dir + "/K1")
    #expect(written.filter { $0.hasSuffix(".reply.txt") }.count == 3)
  }

  /// A resent 14-day letter replaces the earlier one, names its date, keeps its costs and gives
  /// a new deadline; its claims wait for that deadline.
  @Test func aResentFourteenDayLetterReplacesTheEarlierOne() throws {
    let w = try ConsumerWorld([
      consumerInvoice("K1", due: "2026-10-01", amount: 150_000),
      consumerInvoice("K2", due: "2026-10-10", amount: 50_000),
    ])
    var day = CalendarDate.d("2026-10-01")
    while day <= .d("2026-10-22") {
      try w.night(day)
      day = day.adding(days: 1)
    }
    let original = try #require(try w.ledger.deliveries(invoice: "K1").first { $0.step == .second })
    guard
      case .preview(_, let step, let letter) = try w.resend(
        "K1", on: .d("2026-10-30"), dryRun: true)
    else {
      Issue.record("no preview")
      return
    }
    #expect(step == .second)
    #expect(letter.replaces == [original.runDate])
    #expect(letter.costs?.cents == original.costs)
    #expect(letter.invoices.map(\.number) == ["K1", "K2"])
    #expect(letter.deadline == Policy().secondDeadline(sentOn: .d("2026-10-30"), kind: .consumer))
    _ = try w.resend("K1", on: .d("2026-10-30"))
    let resent = try w.ledger.deliveries().filter(\.isResend)
    #expect(Set(resent.map(\.invoice)) == ["K1", "K2"])
    let overview = try LadderOverview(
      policy: w.config.policy, invoices: w.invoices, ledger: w.ledger, payments: NoPayments(),
      on: letter.deadline)
    #expect(overview.readyForCollection.isEmpty, "not on the deadline day itself")
    #expect(try w.export(on: letter.deadline).count == 0)
    #expect(try w.export(on: letter.deadline.adding(days: 1)).count == 2)
  }

  /// A bank payment after the term goes to the costs first, then interest, then principal
  /// (art. 6:44 BW); one before the term ended lowers the principal the costs are over.
  @Test func aBankPaymentAfterTheTermGoesToTheCostsFirst() throws {
    let w = try ConsumerWorld([consumerInvoice("K1", due: "2026-10-01", amount: 100_000)])
    for offset in 0...40 { try w.night(CalendarDate.d("2026-10-01").adding(days: offset)) }
    let letter = try #require(try w.ledger.deliveries(invoice: "K1").first { $0.step == .second })
    let deadline = try #require(letter.deadline)
    let stated = try #require(letter.costs)
    #expect(stated == 15_000)
    w.pay("K1", 10_000)
    let after = ConsumerClaims.Payment(
      date: deadline.adding(days: 2), amount: Money(cents: 10_000), claim: "K1")
    let csv = DossierCSV(try w.export(on: deadline.adding(days: 5), payments: [after]).csv)
    #expect(csv.cents("collection_costs") == [5_000])
    #expect(csv.cents("outstanding") == [100_000])
    // The same payment within the term: the principal is lower, the costs are over the rest.
    let within = ConsumerClaims.Payment(
      date: deadline.adding(days: -3), amount: Money(cents: 10_000), claim: "K1")
    let csv2 = DossierCSV(try w.export(on: deadline.adding(days: 5), payments: [within]).csv)
    #expect(csv2.cents("outstanding") == [90_000])
    #expect(
      csv2.cents("collection_costs") == [CollectionCosts.wik(principal: Money(cents: 90_000)).cents]
    )
  }
}
