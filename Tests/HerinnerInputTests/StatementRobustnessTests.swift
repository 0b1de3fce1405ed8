import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

/// Damaged statements (cut, bytes changed, separators inserted) are read or refused, never a
/// trap: a nightly `send` with `payments.importFrom` must survive whatever the bank's download
/// left behind.
@Suite struct StatementRobustnessTests {
  /// xorshift64*: the same damage every run, so a failure can be replayed.
  struct Random {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
      state ^= state >> 12
      state ^= state << 25
      state ^= state >> 27
      return Int((state &* 2_685_821_657_736_338_717) % UInt64(max(bound, 1)))
    }
  }

  static func seeds() throws -> [(String, [UInt8])] {
    var out: [(String, [UInt8])] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: fixtures).sorted() {
      let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))
      out.append((name, [UInt8](data)))
    }
    out.append(("complete.sta", Array(StatementMT940Tests.complete.utf8)))
    for c in StatementMT940Tests.dialects { out.append((c.bank, Array(c.file.utf8))) }
    for c in StatementCSVTests.layouts { out.append((c.bank, Array(c.file.utf8))) }
    return out
  }

  static let interesting: [UInt8] =
    Array(":/,.-{}<>\n\r\t 0123456789CDRN'\";\u{1A}".utf8) + [0xC3, 0xFF, 0x00]

  static func damaged(_ bytes: [UInt8], _ r: inout Random) -> [UInt8] {
    var b = bytes
    for _ in 0...r.next(4) {
      switch r.next(5) {
      case 0 where !b.isEmpty: b = Array(b.prefix(r.next(b.count)))
      case 1 where !b.isEmpty: b[r.next(b.count)] = interesting[r.next(interesting.count)]
      case 2: b.insert(interesting[r.next(interesting.count)], at: r.next(b.count + 1))
      case 3 where b.count > 2:
        let from = r.next(b.count - 1)
        b.removeSubrange(from..<min(b.count, from + 1 + r.next(40)))
      default:
        let from = r.next(b.count + 1)
        let piece = b[from..<min(b.count, from + r.next(80))]
        b.insert(contentsOf: piece, at: r.next(b.count + 1))
      }
    }
    return b
  }

  @Test func damagedStatementsAreReadOrRefusedNeverATrap() throws {
    var r = Random(state: 0x9E37_79B9_7F4A_7C15)
    var refused = 0
    var read = 0
    for (name, bytes) in try Self.seeds() {
      for _ in 0..<150 {
        let b = Self.damaged(bytes, &r)
        do {
          let s = try StatementFile.parse(bytes: b, file: name)
          read += 1
          #expect(s.transactions.allSatisfy { $0.amount.cents > 0 }, "\(name)")
        } catch {
          refused += 1
          #expect(error.description.contains("nothing imported"), "\(name): \(error)")
        }
      }
    }
    #expect(read > 0 && refused > 0, "the damage both breaks files and leaves some readable")
  }
}
