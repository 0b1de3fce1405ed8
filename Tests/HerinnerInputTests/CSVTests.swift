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

  /// Read in pieces of every size from 1 to 40 bytes (records, quotes, "" and CRLF cut anywhere),
  /// the file gives the same records, lines and delimiter as read whole.
  @Test func piecesOfAnySizeReadAsTheWhole() {
    var whole = CSVReader(bytes: Self.tricky)
    let expected = Self.records(&whole)
    #expect(expected.count == 5)  // the open quote runs to the end
    for size in 1...40 {
      var offset = min(size, Self.tricky.count)
      let first = Array(Self.tricky[0..<offset])
      var pieces = CSVReader(
        first: first,
        refill: {
          let end = min(offset + size, Self.tricky.count)
          defer { offset = end }
          return Array(Self.tricky[offset..<end])
        }, delimiter: whole.delimiter)
      #expect(Self.records(&pieces) == expected, "piece size \(size)")
    }
  }
}
