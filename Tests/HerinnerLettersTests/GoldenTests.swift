import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLetters

/// Every kind of letter rendered from one fixed administration and compared byte for byte with a
/// reviewed file in Golden/, so that a change of wording shows as a diff in review.
/// `HERINNER_UPDATE_GOLDEN=1 swift test --filter GoldenLetterTests` rewrites the files; read each
/// one before committing it.
@Suite struct GoldenLetterTests {
  /// The administration: one sender, a business customer, a consumer, an English customer.
  enum Admin {
    static let company = Sender(
      name: "Studio Vermeer B.V.", email: "administratie@studiovermeer.nl",
      replyTo: "administratie@studiovermeer.nl", phone: "020 123 4567",
      iban: "NL91ABNA0417164300", bic: "ABNANL2A", kvk: "12345678", btw: "NL123456789B01",
      address: ["Keizersgracht 1", "1015 AA Amsterdam"], signature: "Anna de Vries")

    static func invoice(
      _ number: String, kind: CustomerKind, issued: String, due: String, amount: Int64,
      paid: Int64 = 0, language: Language = .nl, reference: String? = nil
    ) -> Invoice {
      let (customer, contact, email): (String, String?, String)
      switch (kind, language) {
      case (.business, .nl):
        (customer, contact, email) = (
          "Bakkerij De Korenschoof B.V.", "mevrouw Bakker", "info@korenschoof.nl"
        )
      case (.consumer, .nl):
        (customer, contact, email) = ("J. Jansen", "heer Jansen", "j.jansen@example.nl")
      case (.business, .en):
        (customer, contact, email) = (
          "Northwind Trading Ltd", "Ms Carter", "accounts@northwind.example"
        )
      case (.consumer, .en):
        (customer, contact, email) = ("Tom Hughes", "Mr Hughes", "tom.hughes@example.com")
      }
      return Invoice(
        number: number, customer: customer, contact: contact, email: email, kind: kind,
        issued: d(issued), due: d(due), amount: Money(cents: amount), paid: Money(cents: paid),
        pdf: "factuur-\(number).pdf", language: language, reference: reference)
    }

    static func policy(_ change: (inout Policy) -> Void = { _ in }) -> Policy {
      var p = Policy()
      change(&p)
      return p
    }
  }

  static func letter(_ name: String) -> Letter {
    typealias A = Admin
    let company = A.company
    switch name {
    case "first":
      return .make(
        step: .first,
        invoices: [
          A.invoice(
            "2026-0101", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-18"), firstSentOn: nil)
    case "first-long-overdue":
      return .make(
        step: .first,
        invoices: [
          A.invoice(
            "2026-0021", kind: .business, issued: "2026-05-01", due: "2026-05-31", amount: 48_400)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-01"), firstSentOn: nil)
    case "first-bundled":
      // Given out of order: the letter lists them by due date.
      return .make(
        step: .first,
        invoices: [
          A.invoice(
            "2026-0112", kind: .business, issued: "2026-10-20", due: "2026-11-19", amount: 60_500),
          A.invoice(
            "2026-0111", kind: .business, issued: "2026-10-05", due: "2026-11-04", amount: 121_000),
        ],
        sender: company, policy: A.policy(), date: d("2026-11-26"), firstSentOn: nil)
    case "first-part-paid":
      return .make(
        step: .first,
        invoices: [
          A.invoice(
            "2026-0104", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000,
            paid: 50_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-18"), firstSentOn: nil)
    case "second-business":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0101", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-12-02"), firstSentOn: d("2026-11-18"))
    case "second-business-claim":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0101", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000)
        ],
        sender: company, policy: A.policy { $0.businessCompensation = .claim },
        date: d("2026-12-02"), firstSentOn: d("2026-11-18"))
    case "second-business-vat":
      // € 267,00: the scale gives € 40,05; VAT on top only with the declaration.
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0105", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 26_700)
        ],
        sender: company, policy: A.policy { $0.collectionCostsIncludeVAT = true },
        date: d("2026-12-02"), firstSentOn: d("2026-11-18"))
    case "fourteen-day":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0201", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 150_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-06"), firstSentOn: d("2026-10-23"))
    case "fourteen-day-holidays":
      // Sent 11 December: + 15 is Saturday 26 December (Tweede Kerstdag), then Sunday: 28 December.
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0202", kind: .consumer, issued: "2026-10-28", due: "2026-11-11", amount: 30_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-12-11"), firstSentOn: d("2026-11-27"))
    case "fourteen-day-bundled":
      // Three claims, each with its own first reminder; one was taken along without one.
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0213", kind: .consumer, issued: "2026-10-30", due: "2026-11-13", amount: 20_000),
          A.invoice(
            "2026-0211", kind: .consumer, issued: "2026-09-18", due: "2026-10-02", amount: 150_000),
          A.invoice(
            "2026-0212", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 100_000),
        ],
        sender: company, policy: A.policy(), date: d("2026-11-23"), firstSentOn: nil,
        remindedOn: ["2026-0211": d("2026-10-09"), "2026-0212": d("2026-10-23")])
    case "fourteen-day-replacing":
      // A claim fell due after the letter of 23 November: the new letter lists all three, states
      // the costs over the new sum and replaces the earlier one.
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0211", kind: .consumer, issued: "2026-09-18", due: "2026-10-02", amount: 150_000),
          A.invoice(
            "2026-0212", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 100_000,
            paid: 40_000),
          A.invoice(
            "2026-0214", kind: .consumer, issued: "2026-11-10", due: "2026-11-24", amount: 50_000),
        ],
        sender: company, policy: A.policy(), date: d("2026-12-02"), firstSentOn: nil,
        remindedOn: ["2026-0211": d("2026-10-09"), "2026-0212": d("2026-10-23")],
        replaces: [d("2026-11-23")])
    case "fourteen-day-part-paid":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0203", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 150_000,
            paid: 60_000)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-06"), firstSentOn: d("2026-10-23"))
    case "fourteen-day-vat":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0204", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 100_000)
        ],
        sender: company, policy: A.policy { $0.collectionCostsIncludeVAT = true },
        date: d("2026-11-06"), firstSentOn: d("2026-10-23"))
    case "en-first":
      return .make(
        step: .first,
        invoices: [
          A.invoice(
            "2026-0301", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000,
            language: .en)
        ],
        sender: company, policy: A.policy(), date: d("2026-11-18"), firstSentOn: nil)
    case "en-second-business":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0302", kind: .business, issued: "2026-10-12", due: "2026-11-11", amount: 125_000,
            language: .en),
          A.invoice(
            "2026-0303", kind: .business, issued: "2026-10-14", due: "2026-11-13", amount: 30_000,
            paid: 10_000, language: .en),
        ],
        sender: company, policy: A.policy(), date: d("2026-12-02"), firstSentOn: nil,
        remindedOn: ["2026-0302": d("2026-11-18"), "2026-0303": d("2026-11-20")])
    case "en-fourteen-day-vat":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0304", kind: .consumer, issued: "2026-10-02", due: "2026-10-16", amount: 100_000,
            language: .en)
        ],
        sender: company, policy: A.policy { $0.collectionCostsIncludeVAT = true },
        date: d("2026-11-06"), firstSentOn: d("2026-10-23"))
    case "en-fourteen-day-replacing":
      return .make(
        step: .second,
        invoices: [
          A.invoice(
            "2026-0305", kind: .consumer, issued: "2026-09-18", due: "2026-10-02", amount: 150_000,
            language: .en),
          A.invoice(
            "2026-0306", kind: .consumer, issued: "2026-11-10", due: "2026-11-24", amount: 50_000,
            language: .en),
        ],
        sender: company, policy: A.policy(), date: d("2026-12-02"), firstSentOn: nil,
        remindedOn: ["2026-0305": d("2026-10-09")], replaces: [d("2026-10-23"), d("2026-11-06")])
    default:
      fatalError("no golden letter \(name)")
    }
  }

  static let names = [
    "first", "first-long-overdue", "first-bundled", "first-part-paid", "second-business",
    "second-business-claim", "second-business-vat", "fourteen-day", "fourteen-day-holidays",
    "fourteen-day-bundled", "fourteen-day-replacing", "fourteen-day-part-paid",
    "fourteen-day-vat", "en-first", "en-second-business", "en-fourteen-day-vat",
    "en-fourteen-day-replacing",
  ]

  static let folder = repoRoot + "/Tests/HerinnerLettersTests/Golden"

  @Test(arguments: names)
  func letterMatchesItsGoldenFile(_ name: String) throws {
    let r = try templates().render(Self.letter(name))
    var files = [("\(name).txt", "Subject: \(r.subject)\n\n\(r.text)")]
    if let html = r.html { files.append(("\(name).html", html)) }
    for (file, rendered) in files {
      let path = Self.folder + "/" + file
      if ProcessInfo.processInfo.environment["HERINNER_UPDATE_GOLDEN"] == "1" {
        try Data(rendered.utf8).write(to: URL(fileURLWithPath: path))
        continue
      }
      guard let data = FileManager.default.contents(atPath: path) else {
        Issue.record("no golden file \(file): run with HERINNER_UPDATE_GOLDEN=1 and review it")
        continue
      }
      let golden = String(decoding: data, as: UTF8.self)
      #expect(rendered == golden, "\(file) differs:\n\(firstDifference(golden, rendered))")
    }
  }

  /// Every golden file belongs to a letter above: a removed case leaves no stale file behind.
  @Test func noStaleGoldenFiles() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder)
    let known = Set(Self.names.flatMap { ["\($0).txt", "\($0).html"] })
    #expect(files.filter { !known.contains($0) }.isEmpty)
    #expect(files.count >= Self.names.count)
  }

  func firstDifference(_ a: String, _ b: String) -> String {
    let la = a.split(separator: "\n", omittingEmptySubsequences: false)
    let lb = b.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(la.count, lb.count) {
      let x = i < la.count ? String(la[i]) : "<end>"
      let y = i < lb.count ? String(lb[i]) : "<end>"
      if x != y { return "line \(i + 1)\n- golden:   \(x)\n- rendered: \(y)" }
    }
    return "(same lines, different bytes)"
  }
}
