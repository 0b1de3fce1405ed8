import HerinnerCore

/// A bank statement file, parsed whole (a file that fails anywhere imports nothing).
public struct StatementFile: Sendable {
  public enum Format: String, Sendable {
    case camt053 = "CAMT.053"
    case mt940 = "MT940"
    case csv = "CSV"
  }
  public var format: Format
  /// Every entry in the file's order, debits and reversals included; zero amounts left out.
  public var transactions: [BankTransaction]
  /// The statement's own date: its latest booking date.
  public var latestBooking: CalendarDate?
  /// Doubts that do not stop the import, e.g. balances that do not add up.
  public var warnings: [Problem] = []

  public init(
    format: Format, transactions: [BankTransaction], latestBooking: CalendarDate? = nil,
    warnings: [Problem] = []
  ) {
    self.format = format
    self.transactions = StatementFile.distinctKeys(transactions.filter { $0.amount.cents != 0 })
    self.latestBooking = latestBooking ?? self.transactions.map(\.bookingDate).max()
    self.warnings = warnings
  }

  /// Recognises the format by content, not by file name, and parses it.
  public static func parse(bytes: [UInt8], file: String, csvColumns: [String: String] = [:])
    throws(Problems) -> StatementFile
  {
    var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
    guard start < bytes.count else {
      throw Problems([Problem(file: file, line: 1, message: "the file is empty; nothing imported")])
    }
    if bytes[start] == UInt8(ascii: "<") { return try CAMT053.parse(bytes, file: file) }
    let text = StatementText.decode(bytes)
    if MT940.looksLikeMT940(text) { return try MT940.parse(text, file: file) }
    return try BankCSV.parse(text, file: file, columns: csvColumns)
  }

  /// Two entries with the same key in one file are two payments (two identical transfers on
  /// one day): the second and later ones get their occurrence number, so that importing an
  /// overlapping file again still finds each of them by its key.
  static func distinctKeys(_ ts: [BankTransaction]) -> [BankTransaction] {
    var seen: [String: Int] = [:]
    return ts.map { t in
      var t = t
      let n = seen[t.key, default: 0] + 1
      seen[t.key] = n
      if n > 1 { t.key += "#\(n)" }
      return t
    }
  }
}

/// Helpers shared by the statement readers. Pure.
enum StatementText {
  /// UTF-8 when the bytes are valid UTF-8, else ISO 8859-1 (every byte one character), which
  /// older MT940 and CSV downloads use; a byte order mark is dropped.
  static func decode(_ bytes: [UInt8]) -> String {
    let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    if let s = String(validating: body, as: UTF8.self) { return s }
    return String(String.UnicodeScalarView(body.map { Unicode.Scalar($0) }))
  }

  /// The line of the first byte sequence that is not UTF-8.
  static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
    var line = 1
    var start = 0
    for (i, b) in bytes.enumerated() where b == 0x0A {
      if String(validating: bytes[start..<i], as: UTF8.self) == nil { return line }
      line += 1
      start = i + 1
    }
    return line
  }

  /// Lines without their line ends (LF, CRLF or CR alone).
  static func lines(_ text: String) -> [Substring] {
    text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    )
  }

  enum AmountError: Error, Equatable {
    case notANumber
    case tooPrecise
  }

  /// An unsigned decimal number, read exactly into cents: `9,` `0,3` `000000000473,17` with
  /// `mark` ","; `8.850` `905.3` with ".". More than two decimals are accepted only when the
  /// extra ones are zeros (`8.850` is 8,85); anything else is refused, never rounded.
  static func cents(_ s: Substring, mark: Character, requireMark: Bool = false) throws(AmountError)
    -> Int64
  {
    var whole: Int64 = 0
    var frac: Int64 = 0
    var fracDigits = 0
    var sawMark = false
    var digits = 0
    for c in s {
      if c == mark {
        guard !sawMark else { throw .notANumber }
        sawMark = true
        continue
      }
      guard let d = c.wholeNumberValue, c.isASCII else { throw .notANumber }
      digits += 1
      if sawMark {
        fracDigits += 1
        if fracDigits <= 2 {
          frac = frac * 10 + Int64(d)
        } else if d != 0 {
          throw .tooPrecise
        }
      } else {
        // Fifteen digits at most (SWIFT's amount field, and far above any payment): sums of
        // many entries stay well inside Int64.
        guard whole < 100_000_000_000_000 else { throw .notANumber }
        whole = whole * 10 + Int64(d)
      }
    }
    guard digits > 0, !(requireMark && !sawMark), s.first != mark else { throw .notANumber }
    if fracDigits == 1 { frac *= 10 }
    return whole * 100 + frac
  }

  /// The account as written, without spaces, in capitals, when it has the shape of an IBAN
  /// (ISO 13616: country, two check digits, up to 30 letters and digits; a Dutch one is 18
  /// long with a four-letter bank code). The check digits are not verified: anonymised test
  /// files and a bank's own statement are reported as the bank wrote them.
  static func iban(_ s: Substring?) -> String? {
    guard let s else { return nil }
    let v = IBAN.normalized(String(s))
    let c = Array(v.unicodeScalars)
    guard c.count >= 15, c.count <= 34, c.allSatisfy({ $0.isASCII }),
      c[0].properties.isAlphabetic, c[1].properties.isAlphabetic,
      c[2].properties.numericType != nil, c[3].properties.numericType != nil,
      v.allSatisfy({ $0.isLetter || $0.isNumber })
    else { return nil }
    if v.hasPrefix("NL") {
      guard c.count == 18, c[4..<8].allSatisfy({ $0.properties.isAlphabetic }),
        c[8...].allSatisfy({ $0.properties.numericType != nil })
      else { return nil }
    }
    return v
  }

  static func iban(_ s: String?) -> String? { iban(s.map { Substring($0) }) }

  /// Trimmed of spaces and tabs; nil when nothing is left.
  static func nonEmpty(_ s: Substring?) -> String? {
    guard let s else { return nil }
    let t = s.trimmed(of: " \t\u{00A0}")
    return t.isEmpty ? nil : t
  }

  static func nonEmpty(_ s: String?) -> String? { nonEmpty(s.map { Substring($0) }) }
}

extension StringProtocol {
  func trimmed(of set: String) -> String {
    var s = Substring(self)
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}
