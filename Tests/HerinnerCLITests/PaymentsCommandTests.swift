import Foundation
import HerinnerLedger
import HerinnerTestSupport
import Testing

let statementFixtures = repoRoot + "/Tests/Fixtures/statements"

@Suite(.serialized) struct PaymentsCommandTests {
  /// A statement imported in the morning stops that night's reminder.
  @Test func aPaymentImportedInTheMorningStopsTonightsReminder() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    let imp = try herinner(
      ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
      in: ex.path)
    #expect(imp.status == 0, "\(imp.stderr)")
    #expect(imp.stdout.contains("2 matched"))
    let r = try ex.send("2026-12-01")
    #expect(r.status == 0, "\(r.stderr)")
    let subjectsSent = subjects(server)
    #expect(!subjectsSent.contains { $0.contains("2026-0101") }, "paid by bank: no reminder")
    #expect(
      !subjectsSent.contains { $0.contains("2026-0113") }, "paid by betalingskenmerk: no reminder")
    #expect(subjectsSent.contains("Herinnering: factuur 2026-0102"))
    #expect(r.stdout.contains("sent 4"))
  }

  @Test func reimportsCountNothingTwice() throws {
    let ex = try ExampleCopy()
    #expect(
      try herinner(
        ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let again = try herinner(
      ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
      in: ex.path)
    #expect(again.stdout.contains("already imported"))
    // An overlapping file (same entries, another file): the entries are known by their bank reference.
    let overlap = ex.path + "/overlap.xml"
    let text = try String(contentsOfFile: statementFixtures + "/ing-camt053.xml", encoding: .utf8)
      .replacingOccurrences(of: "ING-20261201-0001", with: "ING-20261201-0002")
    try text.write(toFile: overlap, atomically: true, encoding: .utf8)
    let o = try herinner(["payments", "import", overlap, "--config", ex.config], in: ex.path)
    #expect(o.stdout.contains("2 incoming credit(s), 0 new"))
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(!s.stdout.contains("\"number\" : \"2026-0101\""), "settled once, not twice")
  }

  @Test func malformedStatementsExitTwoAndImportNothing() throws {
    let ex = try ExampleCopy()
    for f in ["truncated.xml", "wrong-namespace.xml", "bad-amount.xml"] {
      let r = try herinner(
        ["payments", "import", statementFixtures + "/" + f, "--config", ex.config], in: ex.path)
      #expect(r.status == 2, "\(f)")
      #expect((r.stdout + r.stderr).contains("nothing imported"))
    }
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(
      s.stdout.contains("\"number\" : \"2026-0101\""),
      "bad-amount.xml also names 2026-0101: nothing of it applied")
  }

  @Test func anUnmatchedPaymentHoldsTheCustomerUntilResolved() throws {
    let ex = try ExampleCopy()
    #expect(
      try herinner(
        [
          "payments", "import", statementFixtures + "/abnamro-camt053-v8.xml", "--config",
          ex.config,
        ], in: ex.path
      ).status == 0)
    let u = try herinner(["payments", "unmatched", "--config", ex.config], in: ex.path)
    #expect(u.stdout.contains("€ 500,00") && u.stdout.contains("M. de Vries"))
    let dry = try ex.send("2026-12-02", ["--dry-run"])
    #expect(
      !dry.stdout.contains("2026-0108"),
      "held: no reminder while a payment of this customer is unresolved")
    let id = u.stdout.components(separatedBy: "#")[1].prefix { $0.isNumber }
    #expect(
      try herinner(
        ["payments", "resolve", String(id), "--invoice", "2026-0108", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(s.stdout.contains("\"outstanding\" : \"500.00\""))
  }

  @Test func aStaleStatementStopsTheRunWhenPaymentsAreRequired() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ex.config)))
      as! [String: Any]
    c["payments"] = ["required": true, "maxAgeDays": 3]
    try JSONSerialization.data(withJSONObject: c).write(to: URL(fileURLWithPath: ex.config))
    let none = try ex.send("2026-12-01")
    #expect(none.status == 2)
    #expect(none.stderr.contains("no bank statement"))
    #expect(
      try herinner(
        ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let stale = try ex.send("2026-12-04")  // statement of 30 November: 4 days old
    #expect(stale.status == 2)
    #expect(stale.stderr.contains("2026-11-30"))
    #expect(server.received().isEmpty)
    let fresh = try ex.send("2026-12-03")
    #expect(fresh.status == 0, "\(fresh.stderr)")
  }

  @Test func importFromFolderAtTheStartOfSend() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    try FileManager.default.createDirectory(
      atPath: ex.path + "/bank", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: statementFixtures + "/ing-mt940.sta", toPath: ex.path + "/bank/ing.sta")
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ex.config)))
      as! [String: Any]
    c["payments"] = ["required": true, "importFrom": "bank"]
    try JSONSerialization.data(withJSONObject: c).write(to: URL(fileURLWithPath: ex.config))
    let r = try ex.send("2026-12-02")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!subjects(server).contains { $0.contains("2026-0102") })
  }

  @Test func referencePrintsAValidBetalingskenmerk() throws {
    let r = try herinner(["reference", "2026-0113", "--config", "config.example.json"])
    #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "8000000020260113")
    #expect(try herinner(["reference", "9999", "--config", "config.example.json"]).status == 2)
  }
}

/// A small camt.053 of our own: entries as (amount, CRDT/DBIT, reversal, name, e2e, text).
func camtStatement(
  _ entries: [(String, String, Bool, String?, String?, String?)], date: String = "2026-12-01"
) -> String {
  var out = """
    <?xml version="1.0" encoding="UTF-8"?>
    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
    <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>

    """
  for (i, e) in entries.enumerated() {
    out += "<Ntry><Amt Ccy=\"EUR\">\(e.0)</Amt><CdtDbtInd>\(e.1)</CdtDbtInd>"
    if e.2 { out += "<RvslInd>true</RvslInd>" }
    out += "<BookgDt><Dt>\(date)</Dt></BookgDt><AcctSvcrRef>\(date)-\(i)</AcctSvcrRef>"
    out += "<NtryDtls><TxDtls>"
    if let e2e = e.4 { out += "<Refs><EndToEndId>\(e2e)</EndToEndId></Refs>" }
    if let n = e.3 {
      out +=
        "<RltdPties><Dbtr><Nm>\(n)</Nm></Dbtr><DbtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></DbtrAcct></RltdPties>"
    }
    if let t = e.5 { out += "<RmtInf><Ustrd>\(t)</Ustrd></RmtInf>" }
    out += "</TxDtls></NtryDtls></Ntry>\n"
  }
  return out + "</Stmt></BkToCstmrStmt></Document>\n"
}

func paymentsList(_ ex: ExampleCopy) throws -> [[String: Any]] {
  let r = try herinner(["payments", "list", "--json", "--config", ex.config], in: ex.path)
  #expect(r.status == 0, "\(r.stderr)")
  let json = try JSONSerialization.jsonObject(
    with: Data(r.stdout.utf8), options: [.fragmentsAllowed])
  return try #require(json as? [[String: Any]])
}

@Suite(.serialized) struct PaymentsListTests {
  static let keys: Set<String> = [
    "id", "statement", "booked", "amount", "currency", "name", "iban", "text", "reference", "state",
    "invoices",
  ]

  @Test func everyCreditWithItsStateAndAReversalUndoesItsMatch() throws {
    let ex = try ExampleCopy()
    ex.write(
      "december.xml",
      camtStatement([
        ("1250.00", "CRDT", false, "Bakkerij De Korenschoof B.V.", "E2E-A", "Factuur 2026-0101"),
        ("77.00", "CRDT", false, "Onbekend", nil, "gift"),
        ("33.00", "CRDT", false, nil, nil, nil),
        ("5.00", "DBIT", false, nil, nil, "kosten"),
        ("0.00", "CRDT", false, nil, nil, "informatie"),
      ]))
    let imp = try herinner(
      ["payments", "import", ex.path + "/december.xml", "--config", ex.config], in: ex.path)
    #expect(imp.status == 0, "\(imp.stderr)")
    var list = try paymentsList(ex)
    #expect(list.count == 3, "debits and zero lines are no payments")
    for p in list { #expect(Set(p.keys) == Self.keys) }
    #expect(list.map { $0["state"] as? String } == ["matched", "unmatched", "unmatched"])
    #expect(list.map { $0["amount"] as? String } == ["1250.00", "77.00", "33.00"])
    #expect(list[0]["statement"] as? String == "december.xml")
    #expect(list[0]["booked"] as? String == "2026-12-01")
    #expect(list[0]["iban"] as? String == "NL20INGB0001234567")
    #expect(list[0]["text"] as? String == "Factuur 2026-0101")
    #expect(list[0]["reference"] is NSNull)
    #expect(list[2]["name"] is NSNull && list[2]["text"] is NSNull && list[2]["iban"] is NSNull)
    let applied = try #require(list[0]["invoices"] as? [[String: Any]])
    #expect(applied.count == 1 && applied[0]["number"] as? String == "2026-0101")
    #expect(applied[0]["amount"] as? String == "1250.00")

    let id = try #require(list[2]["id"] as? Int)
    #expect(
      try herinner(
        ["payments", "resolve", String(id), "--set-aside", "--config", ex.config], in: ex.path
      ).status == 0)
    #expect(try paymentsList(ex)[2]["state"] as? String == "set-aside")

    // The bank takes the € 1.250,00 back: the invoice is open again.
    ex.write(
      "storno.xml",
      camtStatement(
        [("1250.00", "DBIT", true, "Bakkerij De Korenschoof B.V.", "E2E-A", "Storno")],
        date: "2026-12-02"))
    for _ in 0..<2 {
      let rev = try herinner(
        ["payments", "import", ex.path + "/storno.xml", "--config", ex.config], in: ex.path)
      #expect(rev.status == 0, "\(rev.stderr)")
    }
    list = try paymentsList(ex)
    #expect(list.count == 3, "a reversal is not listed itself")
    #expect(list[0]["state"] as? String == "reversed")
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(s.stdout.contains("\"number\" : \"2026-0101\""), "open again after the reversal")
  }

  /// A stranger's € 1.250,00 with "2026-01-01" in its text is no payment of invoice 2026-0101.
  @Test func aDateInTheTextIsNotAnInvoiceNumber() throws {
    let ex = try ExampleCopy()
    ex.write(
      "huur.xml",
      camtStatement([("1250.00", "CRDT", false, "Verhuur Amstel B.V.", nil, "Huur 2026-01-01")]))
    #expect(
      try herinner(
        ["payments", "import", ex.path + "/huur.xml", "--config", ex.config], in: ex.path
      )
      .status == 0)
    let list = try paymentsList(ex)
    #expect(list.first?["state"] as? String == "unmatched")
    #expect((list.first?["invoices"] as? [Any])?.isEmpty == true)
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(s.stdout.contains("\"number\" : \"2026-0101\""))
  }

  /// Two invoice numbers on `:86:` lines the bank broke: both found, the payment split.
  @Test func severalInvoiceNumbersInGluedLinesAreSplit() throws {
    let ex = try ExampleCopy()
    ex.write(
      "ing.sta",
      """
      :20:940S261201
      :25:NL91ABNA0417164300 EUR
      :28C:00001
      :60F:C261130EUR0,00
      :61:2612011201C1339,95NTRFNONREF//B1
      :86:/CNTP/NL20INGB0001234567/INGBNL2A/Onbekend///REMI/USTD//fac
      turen 2026-01
      01 en 2026-0
      102/
      :62F:C261201EUR1339,95
      -

      """)
    let imp = try herinner(
      ["payments", "import", ex.path + "/ing.sta", "--config", ex.config], in: ex.path)
    #expect(imp.status == 0, "\(imp.stderr)")
    let list = try paymentsList(ex)
    let applied = (list.first?["invoices"] as? [[String: Any]])?.compactMap {
      $0["number"] as? String
    }
    #expect(Set(applied ?? []) == ["2026-0101", "2026-0102"])
  }

  /// A download cut off mid-amount: refused whole, on stderr, in plain words, no trap.
  @Test(arguments: [
    (
      "cut.sta",
      ":20:0\n:25:NL91ABNA0417164300\n:28C:5/1\n:60F:C261130EUR0,00\n:61:2612011201C10"
    ),
    (
      "cut.xml",
      "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><Stmt><Ntry><Amt Ccy=\"EUR\">10"
    ),
  ])
  func aTruncatedStatementIsRefusedWhole(_ name: String, _ text: String) throws {
    let ex = try ExampleCopy()
    ex.write(name, text)
    let r = try herinner(
      ["payments", "import", ex.path + "/" + name, "--config", ex.config], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty, "errors belong on stderr")
    #expect(r.stderr.contains(name) && r.stderr.contains("nothing imported"))
    #expect(!r.stderr.contains("Error Domain"))
    #expect(try paymentsList(ex).isEmpty)
  }

  /// A statement is known by the SHA-256 of its bytes (FIPS 180-4), whatever its name.
  @Test func aStatementIsKnownByItsSHA256() throws {
    let ex = try ExampleCopy()
    let file = statementFixtures + "/ing-mt940.sta"
    #expect(
      try herinner(["payments", "import", file, "--config", ex.config], in: ex.path).status == 0)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [file]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    p.waitUntilExit()
    let digest = String(
      String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
    let ledger = try SQLiteLedger(path: ex.path + "/Examples/herinner.sqlite")
    #expect(try ledger.statementImported(fileHash: digest))
    #expect(digest.count == 64)
  }
}
