import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

let invoiceFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/invoices").path

func invoiceFixture(_ name: String) throws -> [UInt8] {
  try [UInt8](Data(contentsOf: URL(fileURLWithPath: invoiceFixtures + "/" + name)))
}

/// Reads `bytes` as the file `name` without touching the file system: every attachment exists.
func readInvoices(
  _ bytes: [UInt8], name: String = "invoices.csv", encoding: InvoiceEncoding = .utf8
) throws(Problems) -> InvoiceLoad {
  let config = InvoiceSourceConfig(
    path: "/nonexistent/" + name, attachments: "/nonexistent/pdf", encoding: encoding)
  return try InvoiceSource(config: config, displayPath: name, attachments: AttachmentCheck { _ in nil })
    .parse(bytes: bytes)
}

func readInvoices(_ text: String, name: String = "invoices.csv") throws(Problems) -> InvoiceLoad {
  try readInvoices(Array(text.utf8), name: name)
}

func invoiceRow(
  _ number: String, customer: String = "A", amount: String = "10,00", due: String = "2026-10-31"
)
  -> String
{
  "\(number);\(customer);;a@b.nl;business;2026-10-01;\(due);\(amount);;open;a.pdf"
}

/// CONTRACT.md "Reading is exact or it refuses": one test per way a real export was misread.
@Suite struct ExactReadingTests {
  // MARK: JSON numbers are numbers

  @Test func aJSONNumberIsANumberAndAStringMayBeDutch() throws {
    let l = try readInvoices(try invoiceFixture("amounts.json"), name: "invoices.json")
    let byNumber = Dictionary(uniqueKeysWithValues: l.invoices.map { ($0.number, $0) })
    #expect(byNumber["2026-0341"]?.amount.cents == 125)  // 1.250: € 1,25, not € 1.250,00
    #expect(byNumber["2026-0342"]?.amount.cents == 125_000)  // "1.250,00"
    #expect(byNumber["2026-0342"]?.paid.cents == 50)  // 0.5
    #expect(byNumber["2026-0344"]?.amount.cents == 40_000)  // 4e2
    #expect(byNumber["2026-0344"]?.due.iso == "9999-12-31")
    #expect(byNumber["2026-0343"] == nil)
    #expect(
      l.problems.map(\.description) == [
        "invoices.json:6: amount: more than two decimals (an amount is exact to the cent): 12.505"
      ])
  }

  @Test(
    arguments: [
      ("1.250", 125), ("1.25", 125), ("1250", 125_000), ("1.2500", 125), ("12.5e1", 12_500),
      ("\"1.250,00\"", 125_000), ("\"1250.00\"", 125_000), ("\"12,50\"", 1250),
    ] as [(String, Int64)])
  func jsonAmounts(_ literal: String, _ cents: Int64) throws {
    let l = try readInvoices(
      """
      [{"number": "1", "customer": "A", "email": "a@b.nl", "issued": "2026-10-01",
        "due": "2026-10-31", "amount": \(literal), "pdf": "a.pdf"}]
      """, name: "invoices.json")
    #expect(l.problems.isEmpty, "\(l.problems)")
    #expect(l.invoices.first?.amount.cents == cents)
  }

  @Test(arguments: ["1.255", "0.001", "\"12,345\"", "\"1.2345\"", "\"1.234,567\""])
  func moreThanTwoDecimalsIsABadRow(_ literal: String) throws {
    let l = try readInvoices(
      """
      [{"number": "1", "customer": "A", "email": "a@b.nl", "issued": "2026-10-01",
        "due": "2026-10-31", "amount": \(literal), "pdf": "a.pdf"}]
      """, name: "invoices.json")
    #expect(l.invoices.isEmpty)
    #expect(l.problems.count == 1)
    #expect(l.problems.first?.line == 1)  // the record's first line
    #expect(l.problems.first?.field == "amount")
  }

  // MARK: more fields than the header

  /// An unquoted 1,250.00 in a comma file splits the amount: the row is bad, never read with
  /// shifted columns (where it looked paid: amount 1, paid 250.00).
  @Test func aRowWithMoreFieldsThanTheHeaderIsBad() throws {
    let l = try readInvoices(try invoiceFixture("extra-field.csv"))
    #expect(l.invoices.map(\.number) == ["2026-0321", "2026-0323"])
    #expect(l.invoices.last?.amount.cents == 125_000)  // the quoted "1,250.00"
    #expect(l.problems.count == 1)
    let p = try #require(l.problems.first)
    #expect(p.line == 3)
    #expect(p.description.hasPrefix("invoices.csv:3: 9 fields where the header has 8"))
    #expect(p.message.contains("comma"))
    #expect(l.badRows == 1)
  }

  @Test func anExtraFieldInASemicolonFileIsNamedByItsDelimiter() throws {
    let l = try readInvoices("\(header)\n\(invoiceRow("1"));x\n\(invoiceRow("2"))\n")
    #expect(l.invoices.map(\.number) == ["2"])
    #expect(
      l.problems.map(\.description) == [
        "invoices.csv:2: 12 fields where the header has 11; the row is skipped rather than read "
          + "with shifted columns (an unquoted semicolon inside a value splits it)"
      ])
  }

  @Test func fewerFieldsThanTheHeaderLeaveTheLastOnesEmpty() throws {
    let l = try readInvoices(
      "number;customer;email;issued;due;amount;pdf;phone\n"
        + "1;A;a@b.nl;2026-10-01;2026-10-31;5,00;a.pdf\n")
    #expect(l.problems.isEmpty)
    #expect(l.invoices.first?.phone == nil)
  }

  // MARK: quotes

  /// The quote opened on line 3 is reported there; the rows after it are read as written
  /// (also row 5's own quoted value, whose opening quote must not "close" line 3's).
  @Test func anUnclosedQuoteIsNamedAndSwallowsNothing() throws {
    let l = try readInvoices(try invoiceFixture("unclosed-quote.csv"))
    #expect(l.invoices.map(\.number) == ["2026-0331", "2026-0333", "2026-0334", "2026-0335"])
    #expect(l.invoices.map(\.sourceLine) == [2, 4, 5, 6])
    #expect(l.invoices[2].customer == "Vierde, B.V.")
    #expect(l.problems.count == 1)
    #expect(l.problems.first?.line == 3)
    #expect(
      l.problems.first?.message.hasPrefix("a quote (\") opened on this line is never closed")
        == true)
  }

  /// Row 2 of each opens a quote that never closes (`open2` in its customer, `openPDF` in its
  /// last field), then rows 3 and 4 follow with the given line end.
  static let open2 = "2;\"B;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf"
  static let openPDF = "2;B;;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;\"a.pdf"

  @Test(arguments: [
    // Runs to the end of the file (which has no line end after its last row).
    ([open2, invoiceRow("3"), invoiceRow("4")], "\n", false),
    // Opens in the last field.
    ([openPDF, invoiceRow("3"), invoiceRow("4")], "\n", true),
    // "Closed" by the opening quote of a later row's field.
    ([open2, invoiceRow("3", customer: "\"C, D\""), invoiceRow("4")], "\n", true),
    // The same with CR alone and with CRLF.
    ([open2, invoiceRow("3", customer: "\"C\""), invoiceRow("4")], "\r", true),
    ([open2, invoiceRow("3"), invoiceRow("4")], "\r\n", true),
  ])
  func unclosedQuoteVariants(_ rows: [String], _ end: String, _ lastLineEnd: Bool) throws {
    let text = ([header, invoiceRow("1")] + rows).joined(separator: end) + (lastLineEnd ? end : "")
    let l = try readInvoices(text)
    #expect(l.invoices.map(\.number) == ["1", "3", "4"])
    #expect(l.invoices.map(\.sourceLine) == [2, 4, 5])
    #expect(l.problems.map { $0.line ?? 0 } == [3])
  }

  /// A quoted value that spans lines and closes properly is one record (and, holding a line
  /// break, a bad row); the rows after it keep their places.
  @Test func aClosedMultiLineValueIsOneRecord() throws {
    let l = try readInvoices(
      "\(header)\n\(invoiceRow("1", customer: "\"Two\nlines\""))\n\(invoiceRow("2"))\n")
    #expect(l.invoices.map(\.number) == ["2"])
    #expect(l.invoices.first?.sourceLine == 4)
    #expect(
      l.problems.map(\.description) == [
        "invoices.csv:2: customer: control character line feed (LF) not allowed"
      ])
  }

  @Test func textAfterAClosingQuoteIsABadRow() throws {
    let l = try readInvoices(
      "\(header)\n\(invoiceRow("1", amount: "\"12\"34"))\n\(invoiceRow("2", customer: "\"B\"  "))\n"
    )
    #expect(l.invoices.map(\.number) == ["2"])  // spaces after a closing quote are nothing
    #expect(
      l.problems.first?.description.hasPrefix("invoices.csv:2: text follows a closing quote")
        == true)
  }

  // MARK: line ends, byte order mark

  @Test(arguments: ["\n", "\r\n", "\r"], [false, true])
  func everyLineEndReadsTheSame(_ end: String, _ bom: Bool) throws {
    let text =
      (bom ? "\u{FEFF}" : "")
      + [header, invoiceRow("1"), invoiceRow("2", amount: "x"), "", invoiceRow("3")]
      .joined(separator: end) + end
    let l = try readInvoices(text)
    #expect(l.invoices.map(\.number) == ["1", "3"])
    #expect(l.invoices.map(\.sourceLine) == [2, 5])
    #expect(l.problems.map(\.description) == ["invoices.csv:3: amount: not an amount: \"x\""])
    #expect(l.records == 3)
  }

  /// JSON lines are counted the same way with every line end.
  @Test(arguments: ["\n", "\r\n", "\r"])
  func jsonLinesWithEveryLineEnd(_ end: String) throws {
    let text = [
      "[", "{\"number\": \"1\", \"customer\": \"A\", \"email\": \"a@b.nl\",",
      "\"issued\": \"2026-10-01\", \"due\": \"2026-10-31\", \"amount\": 1, \"pdf\": \"a.pdf\"},",
      "{\"number\": \"2\", \"customer\": \"B\", \"email\": \"b@b.nl\",",
      "\"issued\": \"2026-10-01\", \"due\": \"2026-10-31\", \"amount\": 1.001, \"pdf\": \"a.pdf\"}",
      "]",
    ].joined(separator: end)
    let l = try readInvoices(text, name: "invoices.json")
    #expect(l.invoices.map(\.sourceLine) == [2])
    #expect(l.problems.map { $0.line ?? 0 } == [4])
  }

  /// Excel for Mac: CR alone. Read whole and through the file reader, in pieces.
  @Test func anExcelForMacExportLoadsEveryRow() throws {
    let l = try readInvoices(try invoiceFixture("cr-only.csv"))
    #expect(l.invoices.map(\.number) == ["2026-0311", "2026-0312", "2026-0313"])
    #expect(l.invoices.map(\.sourceLine) == [2, 3, 4])
    #expect(!l.isEmptyOrAllBad)
  }

  // MARK: encodings

  @Test func aWindows1252FileIsRefusedWithTheHintByDefault() throws {
    #expect {
      try readInvoices(try invoiceFixture("windows-1252.csv"))
    } throws: { error in
      guard let p = (error as? Problems)?.all, p.count == 1 else { return false }
      return p[0].line == 2 && p[0].field == "customer"
        && p[0].message.contains("\"encoding\": \"windows-1252\"")
    }
  }

  @Test func aWindows1252FileReadsWhenConfigured() throws {
    let l = try readInvoices(try invoiceFixture("windows-1252.csv"), encoding: .windows1252)
    #expect(l.problems.isEmpty)
    #expect(
      l.invoices.map(\.customer) == ["Caf\u{E9} De Fl\u{E8}che", "Bakkerij \u{2018}t Hoekje"])
    #expect(l.invoices.first?.contact == "mevrouw Ma\u{EF}tre")
  }

  /// With windows-1252 configured a file that is valid UTF-8 is still UTF-8 (é stays é).
  @Test func aUTF8FileStaysUTF8WithWindows1252Configured() throws {
    let text = "\(header)\n\(invoiceRow("1", customer: "Caf\u{E9} \u{20AC}"))\n"
    let l = try readInvoices(Array(text.utf8), encoding: .windows1252)
    #expect(l.invoices.first?.customer == "Caf\u{E9} \u{20AC}")
  }

  @Test func windows1252Bytes() throws {
    var bytes = Array("\(header)\n".utf8)
    bytes += Array("1;".utf8) + [0x80, 0x20, 0x93, 0x71, 0x94, 0x20, 0xFF]
    bytes += Array(";;a@b.nl;business;2026-10-01;2026-10-31;10,00;;open;a.pdf\n".utf8)
    let l = try readInvoices(bytes, encoding: .windows1252)
    #expect(l.invoices.first?.customer == "\u{20AC} \u{201C}q\u{201D} \u{FF}")
  }

  /// The five bytes Windows-1252 leaves undefined are refused, naming the line.
  @Test(arguments: [0x81, 0x8D, 0x8F, 0x90, 0x9D] as [UInt8])
  func undefinedWindows1252BytesAreRefused(_ byte: UInt8) throws {
    var bytes = Array("\(header)\r\n\(invoiceRow("1"))\r\n".utf8)
    bytes +=
      Array("2;".utf8) + [byte] + Array(";;a@b.nl;business;2026-10-01;2026-10-31;1;;;a.pdf".utf8)
    #expect {
      try readInvoices(bytes, encoding: .windows1252)
    } throws: { error in
      (error as? Problems)?.all.first?.description.hasPrefix("invoices.csv:3: byte 0x") == true
    }
  }

  /// Not UTF-8 in a JSON file: the same hint, at the line.
  @Test func invalidUTF8InJSONNamesTheLineWithTheHint() throws {
    var bytes = Array("[\n{\"number\": \"1\", \"customer\": \"Caf".utf8) + [0xE9]
    bytes += Array("\"}\n]".utf8)
    #expect {
      try readInvoices(bytes, name: "invoices.json")
    } throws: { error in
      guard let p = (error as? Problems)?.all.first else { return false }
      return p.line == 2 && p.message.contains("windows-1252")
    }
    let l = try readInvoices(bytes, name: "invoices.json", encoding: .windows1252)
    #expect(l.problems.allSatisfy { $0.message.contains("missing") })
  }

  // MARK: a file with no invoices

  @Test func aHeaderWithoutRowsIsReported() throws {
    let l = try readInvoices(try invoiceFixture("header-only.csv"))
    #expect(l.isEmptyOrAllBad)
    #expect(l.records == 0)
    #expect(
      l.noInvoices?.description == "invoices.csv: no invoices: the file has a header but no rows")
  }

  @Test(arguments: [
    "\(header)\n\(invoiceRow("1", amount: "x"))\n\(invoiceRow("2", due: "morgen"))\n",
    // Rows that share a number are all skipped.
    "\(header)\n\(invoiceRow("1"))\n\(invoiceRow("1"))\n",
  ])
  func everyRowBadIsReported(_ text: String) throws {
    let l = try readInvoices(text)
    #expect(l.isEmptyOrAllBad)
    #expect(l.records == 2)
    #expect(l.badRows == 2)
    #expect(l.noInvoices?.message.contains("every one of the 2 rows is bad") == true)
  }

  @Test func oneGoodRowIsEnough() throws {
    let l = try readInvoices("\(header)\n\(invoiceRow("1", amount: "x"))\n\(invoiceRow("2"))\n")
    #expect(!l.isEmptyOrAllBad)
    #expect(l.noInvoices == nil)
    #expect((l.records, l.badRows) == (2, 1))
  }

  /// Rows of empty fields (a spreadsheet's formatted, empty rows) are blank lines, not bad rows.
  @Test func rowsOfEmptyFieldsAreBlank() throws {
    let l = try readInvoices("\(header)\n\(invoiceRow("1"))\n;;;;;;;;;;\n ; ;\n;;;;;;;;;;;;;;;\n")
    #expect(l.problems.isEmpty)
    #expect(l.records == 1)
  }

  // MARK: dates, attachments

  @Test func sentinelDatesLoadAsOrdinaryDates() throws {
    let l = try readInvoices(
      "\(header)\n\(invoiceRow("1", due: "9999-12-31"))\n\(invoiceRow("2", due: "31-12-9999"))\n")
    #expect(l.problems.isEmpty)
    #expect(l.invoices.map(\.due.iso) == ["9999-12-31", "9999-12-31"])
  }

  /// The attachment check is injected: the row checks ask it once per distinct file, never for
  /// a path that leaves the folder by its text, and report what it answers.
  @Test func theAttachmentCheckIsInjected() throws {
    final class Asked: @unchecked Sendable {
      var names: [String] = []
      let lock = NSLock()
    }
    let asked = Asked()
    let src = InvoiceSource(
      config: InvoiceSourceConfig(path: "/nonexistent/i.csv", attachments: "/nonexistent"),
      displayPath: "i.csv",
      attachments: AttachmentCheck { pdf in
        asked.lock.withLock { asked.names.append(pdf) }
        return pdf == "gone.pdf" ? "file not found in the attachments folder: \"gone.pdf\"" : nil
      })
    let rows = [
      "1;A;;a@b.nl;business;2026-10-01;2026-10-31;1;;;a.pdf",
      "2;A;;a@b.nl;business;2026-10-01;2026-10-31;1;;;gone.pdf",
      "3;A;;a@b.nl;business;2026-10-01;2026-10-31;1;;;../x.pdf",
      "4;A;;a@b.nl;business;2026-10-01;2026-10-31;1;;;a.pdf",
    ]
    let l = try src.parse(bytes: Array(([header] + rows).joined(separator: "\n").utf8))
    #expect(l.invoices.map(\.number) == ["1", "4"])
    #expect(asked.names == ["a.pdf", "gone.pdf"])
    #expect(
      l.problems.map(\.description) == [
        "i.csv:3: pdf: file not found in the attachments folder: \"gone.pdf\"",
        "i.csv:4: pdf: path leaves the attachments folder: \"../x.pdf\"",
      ])
  }
}
