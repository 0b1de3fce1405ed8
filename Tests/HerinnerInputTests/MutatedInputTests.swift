import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

/// SplitMix64, so every run mutates the same way and a failure replays.
struct Mutator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// The bytes that matter to the readers: separators, quotes, line ends, digits, marks, bytes
  /// that are not UTF-8, a BOM's first byte.
  static let interesting: [UInt8] =
    Array(",;\t\"\r\n0123456789.-e+ []{}:".utf8) + [
      0xC3, 0xA9, 0x80, 0x81, 0xFF, 0xEF, 0x00, 0x7F,
    ]

  mutating func mutate(_ input: [UInt8]) -> [UInt8] {
    var b = input
    for _ in 0..<Int.random(in: 1...6, using: &self) {
      let at = Int.random(in: 0...b.count, using: &self)
      switch Int.random(in: 0..<4, using: &self) {
      case 0: b.insert(Self.interesting.randomElement(using: &self)!, at: at)
      case 1 where at < b.count: b.remove(at: at)
      case 2 where at < b.count: b[at] = Self.interesting.randomElement(using: &self)!
      default:
        let end = min(b.count, at + Int.random(in: 1...40, using: &self))
        b.insert(contentsOf: b[at..<end], at: at)
      }
    }
    return b
  }
}

/// Mutated exports never trap a reader, and what the readers give stays consistent: the same
/// records read whole or in pieces, every row either an invoice or a bad row, places that exist.
@Suite struct MutatedInputTests {
  static let bases: [(String, [UInt8])] = {
    let names = [
      "cr-only.csv", "extra-field.csv", "unclosed-quote.csv", "windows-1252.csv", "amounts.json",
    ]
    return names.map { ($0, (try? invoiceFixture($0)) ?? []) }
  }()

  static func records(_ r: inout CSVReader) -> [String] {
    var out: [String] = []
    while let rec = r.next() {
      out.append("\(rec.line)|\(String(describing: rec.flaw))|\(rec.fields)")
    }
    return out
  }

  @Test(arguments: 0..<bases.count)
  func mutatedFilesReadConsistently(_ base: Int) throws {
    let (name, original) = Self.bases[base]
    #expect(!original.isEmpty)
    var rng = Mutator(state: 20_261_202 + UInt64(base))
    for _ in 0..<600 {
      let bytes = rng.mutate(original)
      var whole = CSVReader(bytes: bytes)
      let expected = Self.records(&whole)
      let size = Int.random(in: 1...64, using: &rng)
      var offset = min(size, bytes.count)
      var pieces = CSVReader(
        first: Array(bytes[0..<offset]),
        refill: {
          let end = min(offset + size, bytes.count)
          defer { offset = end }
          return Array(bytes[offset..<end])
        }, delimiter: whole.delimiter)
      #expect(Self.records(&pieces) == expected, "\(name) in pieces of \(size): \(bytes)")
      for encoding in InvoiceEncoding.allCases {
        guard let l = try? readInvoices(bytes, name: name, encoding: encoding) else { continue }
        #expect(l.records == l.invoices.count + l.badRows, "\(name): \(bytes)")
        #expect(l.problems.allSatisfy { ($0.line ?? 1) >= 1 })
        let lines = l.invoices.map(\.sourceLine)
        #expect(lines == lines.sorted() && Set(lines).count == lines.count)
        #expect(l.isEmptyOrAllBad == l.invoices.isEmpty)
        for inv in l.invoices {
          #expect(inv.amount.cents >= 0 && inv.paid.cents >= 0)
          #expect(!inv.number.isEmpty && !inv.pdf.isEmpty)
        }
      }
    }
  }

  /// Random amounts: never a trap; what the machine-number reader accepts survives a round trip.
  @Test func mutatedAmountsNeverTrap() throws {
    var rng = Mutator(state: 125)
    let seeds = ["1.250", "1.234,56", "-0.5e2", "999999999999999.99", "12,50", "1e-2", "€ 5"]
    for _ in 0..<20_000 {
      let bytes = rng.mutate(Array(seeds.randomElement(using: &rng)!.utf8))
      let text = String(decoding: bytes, as: UTF8.self)
      if let m = try? Money.parse(decimal: text) {
        #expect(try Money.parse(decimal: m.plain) == m, "\(text)")
      }
      if let m = try? Money.parse(text) { #expect(try Money.parse(m.plain) == m, "\(text)") }
      if let d = CalendarDate(parsing: text) { #expect(CalendarDate(parsing: d.iso) == d) }
    }
  }
}
