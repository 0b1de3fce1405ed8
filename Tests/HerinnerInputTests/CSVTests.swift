import Foundation
import Testing

@testable import HerinnerInput

@Suite struct CSVReaderTests {
  static let tricky = Array(
    ("\u{FEFF}number;customer;note\r\n2026-1;\"Jansen \"\"&\"\" Zn\";\"two\r\nlines\"\r\n\r\n"
      + "2026-2;Caf\u{00E9};a\rb\n;;\n\"open;quote\n2026-3;x;\"\"\n2026-4;last;no newline")
      .utf8)

  static func records(_ r: inout CSVReader) -> [String] {
    var out: [String] = []
    while let rec = r.next() {
      out.append(
        "\(rec.line)|\(rec.unterminated)|"
          + rec.fields.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "¦"))
    }
    return out
  }

  /// What the tricky input holds: a CR alone ends a line; a quote that never closes is flawed
  /// at its line and reading goes on at the next line.
  @Test func theTrickyRecords() {
    var whole = CSVReader(bytes: Self.tricky)
    #expect(whole.delimiter == UInt8(ascii: ";"))
    #expect(
      Self.records(&whole) == [
        "1|false|number¦customer¦note",
        "2|false|2026-1¦Jansen \"&\" Zn¦two\r\nlines",
        "5|false|2026-2¦Caf\u{00E9}¦a",
        "6|false|b",
        "7|false|¦¦",
        "8|true|open;quote\n2026-3;x;\"\n2026-4;last;no newline",
        "9|false|2026-3¦x¦",
        "10|false|2026-4¦last¦no newline",
      ])
  }

  /// Read in pieces of every size from 1 to 40 bytes (records, quotes, "", CR, CRLF and a quote
  /// that never closes cut anywhere), the file gives the same records, lines and delimiter as
  /// read whole.
  @Test(arguments: [tricky, closedByALaterQuote, crOnly])
  func piecesOfAnySizeReadAsTheWhole(_ input: [UInt8]) {
    var whole = CSVReader(bytes: input)
    let expected = Self.records(&whole)
    for size in 1...40 {
      var offset = min(size, input.count)
      let first = Array(input[0..<offset])
      var pieces = CSVReader(
        first: first,
        refill: {
          let end = min(offset + size, input.count)
          defer { offset = end }
          return Array(input[offset..<end])
        }, delimiter: whole.delimiter)
      #expect(Self.records(&pieces) == expected, "piece size \(size)")
    }
  }

  static let closedByALaterQuote = Array(
    "a,b,c\r\n1,\"open,x\r\n2,\"quoted, value\",y\r\n3,z,\"\"\r\n".utf8)
  static let crOnly = Array("a;b\r1;\"x\ry\"\r\r2;\"never\r3;z\r".utf8)

  /// A quote "closed" by the opening quote of a later field was never closed: the record ends
  /// with the line the quote opened on, and the later rows are read as written.
  @Test func aQuoteClosedByALaterFieldsQuote() {
    var r = CSVReader(bytes: Self.closedByALaterQuote)
    #expect(
      Self.records(&r) == [
        "1|false|a¦b¦c", "2|true|1¦open,x\r\n2,", "3|false|2¦quoted, value¦y", "4|false|3¦z¦",
      ])
  }

  @Test func crAloneEndsLinesAlsoInsideQuotes() {
    var r = CSVReader(bytes: Self.crOnly)
    #expect(
      Self.records(&r) == ["1|false|a¦b", "2|false|1¦x\ry", "5|true|2¦never\r3;z\r", "6|false|3¦z"])
  }

  /// In a TAB-separated file the TAB after a closing quote is the delimiter, not a space.
  @Test func tabSeparatedQuotedFields() {
    var r = CSVReader(bytes: Array("a\tb\tc\n\"x\"\t\"y\" \tz\n".utf8))
    #expect(r.delimiter == 0x09)
    #expect(Self.records(&r) == ["1|false|a¦b¦c", "2|false|x¦y¦z"])
  }

  @Test func textAfterAClosingQuoteIsAFlaw() {
    var r = CSVReader(bytes: Array("a,b\n\"12\"34,x\n\"ok\"  ,y\n".utf8))
    _ = r.next()
    #expect(r.next()?.flaw == .textAfterQuote(line: 2))
    let ok = r.next()
    #expect(ok?.flaw == nil)
    #expect(ok?.fields.first.map { String(decoding: $0, as: UTF8.self) } == "ok")
  }
}
