import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

let header = "number;customer;contact;email;kind;issued;due;amount;paid;status;pdf"

/// A folder with an attachments folder holding a.pdf, and an invoice file.
func source(_ body: String, name: String = "invoices.csv", columns: [String: String] = [:]) -> (
  TempDir, InvoiceSource
) {
  let dir = TempDir()
  dir.write("pdf/a.pdf", "%PDF-1.4 test")
  dir.write("pdf/sub/b.pdf", "%PDF-1.4 test")
  dir.write("outside.pdf", "%PDF-1.4 secret")
  let path = dir.write(name, body)
  let cfg = InvoiceSourceConfig(path: path, attachments: dir.path + "/pdf", columns: columns)
  return (dir, InvoiceSource(config: cfg, displayPath: name))
}

func load(_ body: String, name: String = "invoices.csv", columns: [String: String] = [:]) throws
  -> InvoiceLoad
{
  let (dir, src) = source(body, name: name, columns: columns)
  defer { _ = dir }
  return try src.load()
}

@Suite struct InvoiceSourceTests {
  @Test func readsSemicolonCSVWithDutchDecimalsAndBothDateOrders() throws {
    let l = try load(
      """
      \(header)
      2026-0001;Bakkerij B.V.;mevrouw Bakker;a@b.nl;business;2026-10-01;31-10-2026;1.234,56;34,56;open;a.pdf
      2026-0002;J. Jansen;;j@example.nl;consumer;01-10-2026;2026-10-15;89,95;;;sub/b.pdf
      """)
    #expect(l.problems.isEmpty)
    #expect(l.invoices.count == 2)
    let a = l.invoices[0]
    #expect(a.amount.cents == 123_456)
    #expect(a.outstanding.cents == 120_000)
    #expect(a.due.iso == "2026-10-31")
    #expect(a.sourceLine == 2)
    #expect(l.invoices[1].kind == .consumer)
    #expect(l.invoices[1].contact == nil)
    #expect(l.invoices[1].status == .open)
  }

  /// Bytes that are not UTF-8 refuse the file, naming the first such line and field with the
  /// hint for a Windows-1252 export (a wrong encoding garbles every accent, not one row); UTF-8
  /// letters load.
  @Test func invalidUTF8IsNamedAndValidUTF8Loads() throws {
    let (dir, src) = source("")
    defer { _ = dir }
    var bytes = Array("\(header)\n".utf8)
    bytes += Array(
      "2026-0001;Caf\u{00E9} De Fl\u{00EA}che;;a@b.nl;;2026-10-01;2026-10-31;10,00;;;a.pdf\n".utf8)
    try Data(bytes).write(to: URL(fileURLWithPath: src.config.path))
    #expect(try src.load().invoices.map(\.customer) == ["Caf\u{00E9} De Fl\u{00EA}che"])
    bytes +=
      Array("2026-0002;Bad ".utf8) + [0xC3, 0x28]
      + Array(";;a@b.nl;;2026-10-01;2026-10-31;10,00;;;a.pdf\n".utf8)
    bytes +=
      Array("2026-0003;Also ".utf8) + [0xE9]
      + Array(";;a@b.nl;;2026-10-01;2026-10-31;1;;;a.pdf\n".utf8)
    try Data(bytes).write(to: URL(fileURLWithPath: src.config.path))
    #expect {
      try src.load()
    } throws: { error in
      (error as? Problems)?.all.map(\.description) == [
        "invoices.csv:3: customer: not valid UTF-8 (the first such line of the file); an export "
          + "in Windows-1252 is read with \"encoding\": \"windows-1252\" under \"invoices\" in "
          + "the config"
      ]
    }
  }

  @Test func readsCommaCSVWithQuotesBOMAndCRLF() throws {
    let l = try load(
      "\u{FEFF}number,customer,email,issued,due,amount,pdf\r\n"
        + "\"2026-0003\",\"Lijn, Vlak & Co\",x@y.nl,2026-10-01,2026-10-31,\"1,234.50\",a.pdf\r\n"
        + "2026-0004,\"Zeg \"\"Hallo\"\"\",z@y.nl,2026-10-01,2026-10-31,10.00,a.pdf\r\n")
    #expect(l.problems.isEmpty)
    #expect(l.invoices.map(\.customer) == ["Lijn, Vlak & Co", "Zeg \"Hallo\""])
    #expect(l.invoices[0].amount.cents == 123_450)
  }

  @Test func aJSONArrayWithNumbersAndStrings() throws {
    let l = try load(
      """
      [
        {"number": "2026-0005", "customer": "A", "email": "a@b.nl", "issued": "2026-10-01",
         "due": "2026-10-31", "amount": 1234.5, "paid": "100,00", "pdf": "a.pdf"},
        {"number": "2026-0006", "customer": "B", "email": "b@b.nl", "issued": "2026-10-01",
         "due": "2026-10-31", "amount": "oops", "pdf": "a.pdf"}
      ]
      """, name: "invoices.json")
    #expect(l.invoices.count == 1)
    #expect(l.invoices[0].amount.cents == 123_450)
    #expect(l.invoices[0].paid.cents == 10_000)
    #expect(l.problems.map(\.description) == ["invoices.json:4: amount: not an amount: \"oops\""])
  }

  @Test func columnMappingForADutchExport() throws {
    let l = try load(
      """
      Factuurnummer;Klant;E-mail;Factuurdatum;Vervaldatum;Bedrag;Bestand
      2026-0007;Klant B.V.;k@b.nl;01-10-2026;31-10-2026;1.000,00;a.pdf
      """,
      columns: [
        "number": "Factuurnummer", "customer": "Klant", "email": "E-mail", "issued": "Factuurdatum",
        "due": "Vervaldatum", "amount": "Bedrag", "pdf": "Bestand",
      ])
    #expect(l.problems.isEmpty)
    #expect(l.invoices.first?.number == "2026-0007")
  }

  @Test func aMissingRequiredColumnStopsTheLoad() {
    let (dir, src) = source(
      "number;customer;email;issued;due;pdf\n1;A;a@b.nl;2026-01-01;2026-02-01;a.pdf\n")
    defer { _ = dir }
    #expect {
      try src.load()
    } throws: { error in
      (error as? Problems)?.all.first?.description
        == "invoices.csv:1: amount: required column \"amount\" missing from the header"
    }
  }

  /// The five: a header injection, a path escape, a bad date, a duplicate number and a
  /// bad amount, each reported with its line, while the good row still loads.
  @Test func everyBadRowIsNamedAndTheOthersStillLoad() throws {
    let l = try load(
      """
      \(header)
      2026-0010;"Evil\r\nBcc: victim@example.com";;e@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf
      2026-0011;Escape;;e@b.nl;business;2026-10-01;2026-10-31;10,00;;open;../outside.pdf
      2026-0012;Bad date;;e@b.nl;business;2026-10-01;31-02-2026;10,00;;open;a.pdf
      2026-0013;Dup one;;e@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf
      2026-0013;Dup two;;e@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf
      2026-0014;Bad amount;;e@b.nl;business;2026-10-01;2026-10-31;12,3x;;open;a.pdf
      2026-0015;Good;;g@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf
      """)
    #expect(l.invoices.map(\.number) == ["2026-0015"])
    let text = l.problems.map(\.description)
    #expect(
      text.contains {
        $0.hasPrefix("invoices.csv:2: customer: control character carriage return (CR)")
      })
    #expect(
      text.contains { $0.hasPrefix("invoices.csv:4: pdf: path leaves the attachments folder") })
    #expect(
      text.contains("invoices.csv:5: due: not a date (YYYY-MM-DD or DD-MM-YYYY): \"31-02-2026\""))
    #expect(
      text.contains {
        $0.hasPrefix(
          "invoices.csv:6: number: duplicate invoice number \"2026-0013\" (also on line 7)")
      })
    #expect(
      text.contains {
        $0.hasPrefix(
          "invoices.csv:7: number: duplicate invoice number \"2026-0013\" (also on line 6)")
      })
    #expect(text.contains("invoices.csv:8: amount: not an amount: \"12,3x\""))
    #expect(l.problems.count == 6)
  }

  @Test(arguments: [
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;/etc/passwd",
      "pdf: absolute path not allowed"
    ),
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;missing.pdf",
      "pdf: file not found"
    ),
    ("2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;sub", "pdf: is a folder"),
    ("2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;", "pdf: missing (required)"),
    (
      "2026-0020;;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "customer: missing (required)"
    ),
    (
      "2026-0020;A;;a@@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "email: not a valid email address"
    ),
    (
      "2026-0020;A;;a b@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "email: not a valid email address"
    ),
    (
      "2026-0020;A;;a@b;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "email: not a valid email address"
    ),
    (
      "2026-0020;A;;a@b.nl;reseller;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "kind: must be business or consumer"
    ),
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;closed;a.pdf",
      "status: unknown status"
    ),
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;1,234;;open;a.pdf",
      "amount: ambiguous amount"
    ),
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;-10,00;;open;a.pdf",
      "amount: must not be negative"
    ),
    ("2026-0020;A;;a@b.nl;business;2026/10/01x;2026-10-31;10,00;;open;a.pdf", "issued: not a date"),
    (
      "2026-0020;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;abc;open;a.pdf",
      "paid: not an amount"
    ),
    (
      "2026-0020;A;;a@b.nl\u{7F};business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "email: control character U+7F"
    ),
    (
      "2026-0020;A\u{1B}[31m;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "customer: control character U+1B"
    ),
    (
      "2026-0020;A;\"heer\nJansen\";a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf",
      "contact: control character line feed (LF)"
    ),
  ])
  func rowChecks(_ row: String, _ expected: String) throws {
    let l = try load("\(header)\n\(row)\n")
    #expect(l.invoices.isEmpty)
    #expect(
      l.problems.contains { $0.description.hasPrefix("invoices.csv:2: \(expected)") },
      "\(l.problems)")
  }

  @Test func aTabInsideAValueIsAllowed() throws {
    let l = try load(
      "\(header)\n2026-0021;A\tB;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf\n")
    #expect(l.problems.isEmpty)
  }

  @Test func aSymlinkOutOfTheAttachmentsFolderIsRefused() throws {
    let (dir, src) = source(
      "\(header)\n2026-0022;A;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;link.pdf\n")
    try FileManager.default.createSymbolicLink(
      atPath: dir.path + "/pdf/link.pdf", withDestinationPath: dir.path + "/outside.pdf")
    let l = try src.load()
    #expect(l.invoices.isEmpty)
    #expect(
      l.problems.first?.description.contains(
        "pdf: path leaves the attachments folder (symbolic link)") == true)
  }

  @Test func aMultiLineRecordIsNamedByItsFirstLine() throws {
    let l = try load(
      "\(header)\n2026-0023;\"Two\nlines\";;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf\n2026-0024;B;;a@b.nl;business;2026-10-01;2026-10-31;x;;open;a.pdf\n"
    )
    #expect(l.problems.map { $0.line ?? 0 } == [2, 4])
  }

  /// Through the file reader (a megabyte at a time): CR-only line ends, and a Windows-1252
  /// export with `invoices.encoding`.
  @Test func theFileReaderReadsCROnlyAndWindows1252() throws {
    let (dir, src) = source("")
    defer { _ = dir }
    try Data(try invoiceFixture("cr-only.csv")).write(to: URL(fileURLWithPath: src.config.path))
    var s = src
    s.attachments = AttachmentCheck { _ in nil }
    #expect(try s.load().invoices.map(\.sourceLine) == [2, 3, 4])
    try Data(try invoiceFixture("windows-1252.csv")).write(
      to: URL(fileURLWithPath: src.config.path))
    #expect(throws: Problems.self) { try s.load() }
    s.config.encoding = .windows1252
    #expect(try s.load().invoices.first?.customer == "Caf\u{E9} De Fl\u{E8}che")
  }

  /// A quote left open near the top of a file of several megabytes: read in pieces, the one
  /// row is named and every later row loads (and the rescans stay few).
  @Test func anUnclosedQuoteInALargeFileSwallowsNothing() throws {
    var text = header + "\n" + invoiceRow("0") + "\n"
    text += "1;\"Open;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf\n"
    for n in 2..<40_000 { text += invoiceRow(String(n)) + "\n" }
    let (dir, src) = source(text)
    defer { _ = dir }
    var s = src
    s.attachments = AttachmentCheck { _ in nil }
    let start = ContinuousClock.now
    let l = try s.load()
    #expect(l.invoices.count == 39_999)
    #expect(l.invoices.last?.sourceLine == 40_001)
    #expect(l.problems.map { $0.line ?? 0 } == [3])
    #expect(ContinuousClock.now - start < .seconds(30))
  }

  @Test func aFileThatCannotBeReadThrows() {
    let src = InvoiceSource(
      config: InvoiceSourceConfig(
        path: "/nonexistent/invoices.csv", attachments: "/tmp", columns: [:]))
    #expect(throws: Problems.self) { try src.load() }
  }
}
