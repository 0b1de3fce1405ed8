/// A streaming RFC 4180 reader over bytes: quoted fields (with `""` and line breaks inside),
/// line ends LF, CRLF or CR alone (old Mac and Excel for Mac exports), comma, semicolon or TAB.
/// Each record reports the line it starts on.
///
/// A quote that never closes does not swallow the rest of the file. A quoted field may span
/// lines, but only when it closes and is followed by a delimiter or a line end; a quote still
/// open at the end of the input, or one "closed" by a quote that is followed by more text (the
/// opening quote of a later field), was never closed. Such a record is flawed at the line where
/// the quote opened, and reading goes on at the next line: a record starts at a line start, so
/// that is the first place a well-formed record can be, and every later row is read as written.
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

  /// Appends pieces until at least `atLeast` bytes came in, dropping what was read before `i`;
  /// false when the input had ended before anything came.
  mutating func more(atLeast: Int = 1) -> Bool {
    var added = 0
    while added < max(atLeast, 1) {
      guard let r = refill else { return added > 0 }
      guard let piece = r(), !piece.isEmpty else {
        refill = nil
        return added > 0
      }
      if i > 0 {
        bytes.removeSubrange(0..<i)
        i = 0
      }
      bytes += piece
      added += piece.count
    }
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
      if !quoted, let n = counts[b] { counts[b] = n + 1 }
      j += 1
    }
    guard
      let best = counts.max(by: { a, b in
        a.value < b.value || (a.value == b.value && a.key < b.key)
      }), best.value > 0
    else { return UInt8(ascii: ",") }
    return best.key
  }

  /// What is wrong with a record's quoting.
  public enum Flaw: Equatable, Sendable {
    /// A quote opened on `line` never closed; the record ends with that line.
    case unclosedQuote(line: Int)
    /// Text follows a closing quote on `line` (`"12"34`): the field cannot be read as written.
    case textAfterQuote(line: Int)
  }

  public struct Record {
    public var line: Int
    public var fields: [[UInt8]]
    public var flaw: Flaw? = nil
    /// A quote that never closed.
    public var unterminated: Bool {
      if case .unclosedQuote = flaw { return true }
      return false
    }
  }

  /// The next record, or nil at the end. Blank lines are skipped.
  public mutating func next() -> Record? {
    let quote = UInt8(ascii: "\"")
    while true {
      if i >= bytes.count && !more() { return nil }
      let recordStart = i
      let startLine = line
      var fields: [[UInt8]] = []
      var field: [UInt8] = []
      var quoted = false
      var wasQuoted = false
      // A quoted field has closed: only a delimiter or a line end may follow.
      var closed = false
      var quoteLine = 0
      // Where reading goes on when the open quote turns out never to close: just after the
      // first line end inside the quoted field.
      var resume: (at: Int, line: Int)? = nil
      var flaw: Flaw? = nil
      var endOfRecord = false
      var incomplete = false
      scan: while i < bytes.count {
        let b = bytes[i]
        if quoted {
          if b == quote {
            if i + 1 < bytes.count && bytes[i + 1] == quote {
              field.append(b)
              i += 2
              continue
            }
            quoted = false
            closed = true
            i += 1
            continue
          }
          if b == 0x0A || b == 0x0D {
            let crlf = b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A
            if b == 0x0D && i + 1 == bytes.count && refill != nil {
              incomplete = true  // CR at the end of a piece: is an LF next?
              break scan
            }
            if !crlf {
              line += 1
              if resume == nil { resume = (i + 1, line) }
            }
          }
          field.append(b)
          i += 1
          continue
        }
        if closed && (b == 0x20 || b == 0x09) && b != delimiter {
          i += 1  // spaces after a closing quote change nothing
          continue
        }
        if closed && b != delimiter && b != 0x0A && b != 0x0D {
          if let r = resume {
            // The quote "closed" on a later line by a quote that opens a field there.
            flaw = .unclosedQuote(line: quoteLine)
            i = r.at
            line = r.line
            endOfRecord = true
            break scan
          }
          if flaw == nil { flaw = .textAfterQuote(line: line) }
          closed = false
        }
        switch b {
        case quote:
          if field.isEmpty && !wasQuoted {
            quoted = true
            wasQuoted = true
            quoteLine = line
            resume = nil
          } else {
            field.append(b)
          }
          i += 1
        case delimiter:
          fields.append(field)
          field = []
          wasQuoted = false
          closed = false
          i += 1
        case 0x0D:
          if i + 1 == bytes.count && refill != nil {
            incomplete = true  // CR at the end of a piece: is an LF next?
            break scan
          }
          i += i + 1 < bytes.count && bytes[i + 1] == 0x0A ? 2 : 1
          line += 1
          endOfRecord = true
          break scan
        case 0x0A:
          i += 1
          line += 1
          endOfRecord = true
          break scan
        default:
          // Plain bytes up to the next delimiter, quote or line end, in one copy.
          var j = i + 1
          while j < bytes.count {
            let c = bytes[j]
            if c == delimiter || c == quote || c == 0x0A || c == 0x0D { break }
            j += 1
          }
          field.append(contentsOf: bytes[i..<j])
          i = j
        }
      }
      if (incomplete || !endOfRecord) && refill != nil {
        // The record runs past this piece: read it again with more behind it (at least as much
        // again as it has taken so far, so a long record is not rescanned piece by piece).
        i = recordStart
        line = startLine
        _ = more(atLeast: bytes.count - recordStart)
        continue
      }
      if quoted {
        flaw = .unclosedQuote(line: quoteLine)
        if let r = resume {
          i = r.at
          line = r.line
        }
      }
      fields.append(field)
      if flaw == nil && fields.count == 1 && fields[0].isEmpty && !wasQuoted { continue }  // blank
      return Record(line: startLine, fields: fields, flaw: flaw)
    }
  }
}
