/// A streaming RFC 4180 reader over bytes: quoted fields (with `""` and line breaks inside),
/// CRLF or LF, comma or semicolon. Each record reports the line it starts on.
public struct CSVReader {
  public let delimiter: UInt8
  var bytes: [UInt8]
  var i: Int
  var line = 1
  /// The next piece of the input, nil at its end: a reader over a file holds one piece at a
  /// time, not the file.
  var refill: (() -> [UInt8]?)?

  public init(bytes: [UInt8], delimiter: UInt8? = nil) {
    self.bytes = bytes
    self.i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    self.delimiter = delimiter ?? CSVReader.detectDelimiter(bytes, from: self.i)
  }

  /// A reader over input that arrives in pieces: `first`, then whatever `refill` gives until it
  /// gives nil. The delimiter is detected on the header line in `first`.
  public init(first: [UInt8], refill: @escaping () -> [UInt8]?, delimiter: UInt8? = nil) {
    // Enough of the start to see a byte order mark whole.
    var start = first
    while start.count < 3, let more = refill(), !more.isEmpty { start += more }
    self.init(bytes: start, delimiter: delimiter)
    self.refill = refill
  }

  /// Appends the next piece, dropping what was read before `i`; false at the end of the input.
  mutating func more() -> Bool {
    guard let r = refill else { return false }
    guard let piece = r(), !piece.isEmpty else {
      refill = nil
      return false
    }
    bytes.removeSubrange(0..<i)
    i = 0
    bytes += piece
    return true
  }

  /// The separator the header line uses most (outside quotes): `;`, `,` or TAB.
  static func detectDelimiter(_ bytes: [UInt8], from start: Int) -> UInt8 {
    var counts: [UInt8: Int] = [UInt8(ascii: ";"): 0, UInt8(ascii: ","): 0, 0x09: 0]
    var quoted = false
    var j = start
    while j < bytes.count {
      let b = bytes[j]
      if b == UInt8(ascii: "\"") { quoted.toggle() }
      if !quoted && (b == 0x0A || b == 0x0D) { break }
      if !quoted, counts[b] != nil { counts[b]! += 1 }
      j += 1
    }
    let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key < b.key) }!
    return best.value == 0 ? UInt8(ascii: ",") : best.key
  }

  public struct Record {
    public var line: Int
    public var fields: [[UInt8]]
    /// A quote that never closed.
    public var unterminated = false
  }

  /// The next record, or nil at the end. Blank lines are skipped.
  public mutating func next() -> Record? {
    while true {
      if i >= bytes.count && !more() { return nil }
      let recordStart = i
      let startLine = line
      var fields: [[UInt8]] = []
      var field: [UInt8] = []
      var quoted = false
      var wasQuoted = false
      var unterminated = false
      var endOfRecord = false
      while i < bytes.count && !endOfRecord {
        let b = bytes[i]
        if quoted {
          if b == UInt8(ascii: "\"") {
            if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
              field.append(b)
              i += 2
              continue
            }
            quoted = false
            i += 1
            continue
          }
          if b == 0x0A { line += 1 }
          field.append(b)
          i += 1
          continue
        }
        switch b {
        case UInt8(ascii: "\""):
          if field.isEmpty && !wasQuoted {
            quoted = true
            wasQuoted = true
          } else {
            field.append(b)
          }
          i += 1
        case delimiter:
          fields.append(field)
          field = []
          wasQuoted = false
          i += 1
        case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
          i += 2
          line += 1
          endOfRecord = true
        case 0x0A:
          i += 1
          line += 1
          endOfRecord = true
        default:
          // Plain bytes up to the next delimiter, quote or line end, in one copy.
          var j = i + 1
          while j < bytes.count {
            let c = bytes[j]
            if c == delimiter || c == UInt8(ascii: "\"") || c == 0x0A || c == 0x0D { break }
            j += 1
          }
          field.append(contentsOf: bytes[i..<j])
          i = j
        }
      }
      if !endOfRecord && refill != nil {
        // The record runs past this piece: read it again with the next piece behind it (or,
        // at the end of the input, as the last record).
        i = recordStart
        line = startLine
        _ = more()
        continue
      }
      if quoted { unterminated = true }
      fields.append(field)
      if fields.count == 1 && fields[0].isEmpty && !wasQuoted { continue }  // blank line
      return Record(line: startLine, fields: fields, unterminated: unterminated)
    }
  }
}
