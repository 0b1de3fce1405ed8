import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLetters

@Suite struct TemplateTests {
  @Test func theShippedTemplatesLoad() throws {
    _ = try templates()
  }

  func loadProblems(_ files: [String: String]) -> [String] {
    let dir = NSTemporaryDirectory() + "herinner-tpl-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fm = FileManager.default
    // Start from the shipped set, then override.
    try? fm.copyItem(atPath: repoRoot + "/Templates", toPath: dir)
    for (name, body) in files {
      fm.createFile(atPath: dir + "/" + name, contents: Data(body.utf8))
    }
    do {
      _ = try TemplateSet.load(folder: dir)
      return []
    } catch {
      return error.all.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
    }
  }

  @Test(arguments: [
    (
      "Subject: x\n\n{{salutation}}\n{{amount_due}}\n",
      "nl/first.txt.mustache:4: unknown variable \"amount_due\""
    ),
    ("Subject: x\n\n{{contact}}\n", "nl/first.txt.mustache:3: \"contact\" may be absent"),
    (
      "Subject: x\n\n{{#invoices}}{{nummer}}{{/invoices}}\n",
      "nl/first.txt.mustache:3: unknown variable \"nummer\""
    ),
    ("Subject: x\n\n{{> voettekst}}\n", "nl/first.txt.mustache:3: unknown partial \"voettekst\""),
    (
      "Subject: x\n\n{{#single}}open\n",
      "nl/first.txt.mustache:3: section \"single\" is never closed"
    ),
    ("Subject: x\n\n{{invoices}}\n", "nl/first.txt.mustache:3: \"invoices\" is a list or object"),
    ("Subject: x\n\n{{#bogus}}x{{/bogus}}\n", "nl/first.txt.mustache:3: unknown section \"bogus\""),
    (
      "Subject: x\n\n{{company.fax}}\n", "nl/first.txt.mustache:3: unknown variable \"company.fax\""
    ),
    (
      "Geen onderwerp\n\n{{salutation}}\n",
      "nl/first.txt.mustache:1: the first line must be \"Subject: …\""
    ),
    (
      "Subject: x\n\n{{=<% %>=}}\n", "nl/first.txt.mustache:3: changing delimiters is not supported"
    ),
  ])
  func errorsNameFileAndLine(_ body: String, _ expected: String) {
    let p = loadProblems(["nl/first.txt.mustache": body])
    #expect(p.contains { $0.hasPrefix(expected) }, "\(p)")
  }

  /// The checker reads the tree the engine parsed: what it reports is what would render.
  @Test(arguments: [
    (
      "Subject: x\n\n{{#single}}\n{{/multiple}}\n",
      "nl/first.txt.mustache:4: closing \"multiple\" but \"single\" is open"
    ),
    (
      "Subject: x\n\n\n{{#single}}\nopen\n",
      "nl/first.txt.mustache:4: section \"single\" is never closed"
    ),
    ("Subject: x\r\n\r\n{{bedrag}}\r\n", "nl/first.txt.mustache:3: unknown variable \"bedrag\""),
    (
      "Subject: x\n\n{{#costs}}{{costsBeforeVAT}}{{/costs}}{{costsVAT}}\n",
      "nl/first.txt.mustache:3: \"costsVAT\" may be absent"
    ),
    (
      "Subject: x\n\n{{#single}}{{invoice.remindedOn}}{{/single}}\n",
      "nl/first.txt.mustache:3: \"invoice.remindedOn\" may be absent"
    ),
  ])
  func checkerUsesTheEnginesParse(_ body: String, _ expected: String) {
    let p = loadProblems(["nl/first.txt.mustache": body])
    #expect(p.contains { $0.hasPrefix(expected) }, "\(p)")
  }

  @Test func aBrokenPartialIsReportedInItsOwnFileOnce() {
    let p = loadProblems(["nl/facturen.mustache": "regel\n{{#single}}\n"])
    #expect(
      p.contains { $0.hasPrefix("nl/facturen.mustache:2: section \"single\" is never closed") },
      "\(p)")
    #expect(!p.contains { $0.contains("unknown partial") }, "\(p)")
  }

  /// Templates saved with CRLF (Windows), CR (old Mac) or a BOM render the same letter as with LF.
  @Test(arguments: ["\r\n", "\r", "bom"])
  func templatesReadWithAnyLineEnds(_ ending: String) throws {
    let dir = NSTemporaryDirectory() + "herinner-tpl-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fm = FileManager.default
    try fm.copyItem(atPath: repoRoot + "/Templates", toPath: dir)
    var converted = 0
    for language in ["nl", "en"] {
      for f in try fm.contentsOfDirectory(atPath: dir + "/" + language) {
        let path = dir + "/" + language + "/" + f
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let out =
          ending == "bom" ? "\u{FEFF}" + text : text.replacingOccurrences(of: "\n", with: ending)
        try Data(out.utf8).write(to: URL(fileURLWithPath: path))
        converted += 1
      }
    }
    #expect(converted >= 12)
    let odd = try TemplateSet.load(folder: dir)
    let plain = try templates()
    for l in LetterWordingTests.everyLetter().prefix(64) {
      #expect(try odd.render(l) == plain.render(l))
    }
  }

  @Test func aMissingTemplateIsAnError() {
    let dir = NSTemporaryDirectory() + "herinner-tpl-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: dir + "/nl", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(throws: Problems.self) { try TemplateSet.load(folder: dir) }
  }

  @Test func guardedOptionalsRenderNothingWhenAbsent() throws {
    let t = try templates()
    var s = sender
    s.phone = nil
    s.signature = nil
    let l = Letter.make(
      step: .first, invoices: [sampleInvoice(contact: nil)], sender: s, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil)
    let r = try t.render(l)
    #expect(r.text.contains("Geachte heer/mevrouw,"))
    #expect(!r.text.contains("Telefoon"))
    #expect(!r.text.contains("via  of"))
  }
}

@Suite struct LetterTextTests {
  @Test func firstReminderNamesEverythingTheDebtorNeeds() throws {
    let l = Letter.make(
      step: .first, invoices: [sampleInvoice(paid: 25_000)], sender: sender, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil)
    let r = try templates().render(l)
    #expect(r.subject == "Herinnering: factuur 2026-0042")
    for expected in [
      "Geachte mevrouw Bakker,", "2026-0042 van 11 oktober 2026",
      "Vervaldatum:      10 november 2026",
      "Openstaand:       € 1.000,00", "Factuurbedrag:    € 1.250,00",
      "uiterlijk op 8 december 2026",
      "Bedrag:           € 1.000,00", "IBAN:             NL91 ABNA 0417 1643 00",
      "T.n.v.:           Studio Vermeer B.V.", "Betalingskenmerk: 6000000020260042",
      "Heeft u inmiddels betaald? Dan kunt u deze herinnering als niet verzonden beschouwen.",
      "Met vriendelijke groet,", "Anna de Vries",
    ] {
      #expect(r.text.contains(expected), "missing: \(expected)")
    }
    #expect(r.html?.contains("<strong>2026-0042</strong>") == true)
  }

  @Test func deHeerLosesItsArticleInTheSalutation() {
    let l = Letter.make(
      step: .first, invoices: [sampleInvoice(contact: "de heer Van Dam")], sender: sender,
      policy: Policy(), date: d("2026-12-01"), firstSentOn: nil)
    #expect(l.salutation == "Geachte heer Van Dam,")
  }

  @Test func htmlValuesAreEscapedTextValuesAreNot() throws {
    let inv = sampleInvoice(customer: "Lijn & Vlak <BV>", contact: "heer \"Smit\" & zn")
    let l = Letter.make(
      step: .first, invoices: [inv], sender: sender, policy: Policy(), date: d("2026-12-01"),
      firstSentOn: nil)
    let r = try templates().render(l)
    #expect(r.text.contains("Geachte heer \"Smit\" & zn,"))
    #expect(r.html?.contains("Geachte heer &quot;Smit&quot; &amp; zn,") == true)
  }

  /// The 14-day letter: exact WIK costs in euros, the term from the day after receipt, and its
  /// concrete end date (send date + 15), for several amounts.
  @Test(arguments: [
    (10_000 as Int64, "€ 40,00", "€ 140,00"), (100_000, "€ 150,00", "€ 1.150,00"),
    (150_000, "€ 225,00", "€ 1.725,00"),
    (300_000, "€ 425,00", "€ 3.425,00"), (1_200_000, "€ 895,00", "€ 12.895,00"),
  ])
  func consumerSecondIsAValidFourteenDayLetter(_ cents: Int64, _ costs: String, _ total: String)
    throws
  {
    let inv = sampleInvoice(kind: .consumer, amount: cents, contact: "heer Jansen")
    let l = Letter.make(
      step: .second, invoices: [inv], sender: sender, policy: Policy(), date: d("2026-11-23"),
      firstSentOn: d("2026-11-09"))
    let r = try templates().render(l)
    #expect(r.subject == "Aanmaning: factuur 2026-0042")
    #expect(l.deadline == d("2026-12-08"))
    #expect(
      r.text.contains(
        "binnen veertien dagen vanaf de dag nadat u deze e-mail heeft ontvangen, dus uiterlijk op 8 december 2026"
      ))
    #expect(r.text.contains("buitengerechtelijke incassokosten verschuldigd van \(costs)"))
    #expect(r.text.contains("Het totaal komt daarmee op \(total)"))
    #expect(r.text.contains("Op 9 november 2026 stuurden wij u een betalingsherinnering."))
    #expect(r.text.contains("in verzuim"))
  }

  @Test func consumerWIKIsOverTheSummedPrincipal() throws {
    let a = sampleInvoice("2026-0111", kind: .consumer, amount: 150_000)
    let b = sampleInvoice("2026-0112", kind: .consumer, amount: 150_000)
    let l = Letter.make(
      step: .second, invoices: [a, b], sender: sender, policy: Policy(), date: d("2026-11-23"),
      firstSentOn: d("2026-11-09"))
    #expect(l.costs?.cents == 42_500)
    let r = try templates().render(l)
    #expect(r.subject == "Aanmaning: facturen 2026-0111 en 2026-0112")
    #expect(r.text.contains("€ 425,00"))
    #expect(r.text.contains("Totaal openstaand: € 3.000,00"))
  }

  @Test func businessSecondWarnsOfCostsAndCommercialInterest() throws {
    let l = Letter.make(
      step: .second, invoices: [sampleInvoice()], sender: sender, policy: Policy(),
      date: d("2026-11-23"), firstSentOn: d("2026-11-09"))
    let r = try templates().render(l)
    #expect(r.subject == "Tweede herinnering: factuur 2026-0042")
    #expect(l.deadline == d("2026-12-07"))
    #expect(r.text.contains("wettelijke handelsrente"))
    #expect(r.text.contains("€ 187,50"))
  }

  @Test func englishLetters() throws {
    let inv = sampleInvoice(customer: "Northwind Trading Ltd", contact: "Ms Carter", language: .en)
    let r = try templates().render(
      Letter.make(
        step: .first, invoices: [inv], sender: sender, policy: Policy(), date: d("2026-12-01"),
        firstSentOn: nil))
    #expect(r.subject == "Reminder: invoice 2026-0042")
    #expect(r.text.hasPrefix("Dear Ms Carter,"))
    #expect(r.text.contains("€1,250.00"))
    #expect(r.text.contains("by 8 December 2026"))
  }

  @Test func builtMessagesParseCleanlyAndThreadTheSecond() throws {
    let b = builder(try templates())
    let first = Letter.make(
      step: .first, invoices: [sampleInvoice(customer: "Zoë Šimić-Ørsted")], sender: sender,
      policy: Policy(), date: d("2026-12-01"), firstSentOn: nil)
    let second = Letter.make(
      step: .second, invoices: [sampleInvoice(kind: .consumer)], sender: sender, policy: Policy(),
      date: d("2026-12-15"), firstSentOn: d("2026-12-01"))
    let m1 = try b.build(first, to: ["klant@example.nl"], date: fixedDate)
    let m2 = try b.build(
      second, to: ["klant@example.nl"], date: fixedDate, inReplyTo: m1.message.messageID,
      references: [m1.message.messageID])
    #expect(m1.message.messageID == "<herinner.first.2026-0042.20261201.t0k3n@studiovermeer.nl>")
    let r = try pythonParse([m1.bytes, m2.bytes])
    #expect(r.allSatisfy { ($0["defects"] as? [String]) == [] })
    #expect(r[0]["to_name"] as? String == "Zoë Šimić-Ørsted")
    #expect(r[1]["in_reply_to"] as? String == m1.message.messageID)
    #expect(r[1]["references"] as? String == m1.message.messageID)
    let pdf = (r[0]["parts"] as? [[String: Any]])?.last
    #expect(
      pdf?["sha256"] as? String
        == sha256Hex(
          Array("%PDF-1.4 factuur-2026-0042.pdf ".utf8) + (0..<3000).map { UInt8($0 % 256) }))
  }
}
