import Foundation

/// One header field, unfolded (RFC 5322 §2.2.3); the value is as written, not yet decoded.
public struct MailHeaderField: Sendable, Hashable {
  public var name: String
  public var value: String
}

/// A header block, in order. Names compare case-insensitively (RFC 5322 §1.2.2).
public struct MailHeaders: Sendable, Hashable {
  public var fields: [MailHeaderField]

  public init(_ fields: [MailHeaderField] = []) { self.fields = fields }

  public subscript(name: String) -> String? { first(name) }

  public func first(_ name: String) -> String? {
    let n = name.lowercased()
    return fields.first { $0.name.lowercased() == n }?.value
  }

  public func all(_ name: String) -> [String] {
    let n = name.lowercased()
    return fields.filter { $0.name.lowercased() == n }.map(\.value)
  }

  /// The value with RFC 2047 encoded-words decoded.
  public func decoded(_ name: String) -> String? {
    first(name).map(EncodedWords.decode)
  }
}

/// A MIME entity: headers, the body with its transfer encoding removed, and its parts.
public struct MailPart: Sendable {
  public var headers: MailHeaders
  /// `type/subtype`, lower-cased; `text/plain` when absent (RFC 2045 §5.2).
  public var contentType: String
  public var parameters: [String: String]
  /// The body after quoted-printable or base64 decoding (RFC 2045 §6).
  public var body: [UInt8]
  /// The parts of a multipart, or the one message of a message/rfc822.
  public var parts: [MailPart]
  /// The text between a multipart's delimiters that belongs to no part (preamble, epilogue).
  public var outside: [UInt8]

  public var isMultipart: Bool { contentType.hasPrefix("multipart/") }

  /// The body as text, in its declared charset; bytes that charset cannot read become U+FFFD.
  public var text: String { Charsets.decode(body, charset: parameters["charset"]) }

  /// This part and every part below it, depth first.
  public var allParts: [MailPart] { [self] + parts.flatMap(\.allParts) }
}

/// Why bytes are not a readable message.
public enum MailFormatError: Error, Sendable, Hashable, CustomStringConvertible {
  case empty
  case noHeaderBlock
  case cutOff(contentType: String)

  public var description: String {
    switch self {
    case .empty: return "the file is empty"
    case .noHeaderBlock: return "this is not an e-mail message: it does not start with headers"
    case .cutOff(let type):
      return "the message is cut off: a \(type) part has no end (the file is incomplete)"
    }
  }
}

/// Reads an RFC 5322 / MIME message from bytes. Pure.
public enum MailReader {
  /// Reads a whole message. Throws when it has no header block or a MIME part of the message
  /// itself is cut off; a returned original inside it (message/rfc822) is read leniently, since
  /// reporting servers truncate those on purpose.
  public static func message(_ bytes: [UInt8]) throws(MailFormatError) -> MailPart {
    let lines = Lines(bytes)
    guard lines.ranges.contains(where: { !$0.isEmpty }) else { throw .empty }
    var first = 0
    while first < lines.count && lines.isBlank(first) { first += 1 }
    guard first < lines.count, isHeaderLine(lines.string(first)) else { throw .noHeaderBlock }
    let declared = declaredBoundaries(bytes)
    return try entity(lines, first..<lines.count, strict: true, declared: declared, depth: 0)
  }

  /// Reads a header block (as in a message/delivery-status group or text/rfc822-headers).
  public static func headers(_ text: String) -> MailHeaders {
    let lines = Lines(Array(text.utf8))
    return headerBlock(lines, 0..<lines.count).headers
  }

  static func isHeaderLine(_ s: String) -> Bool {
    guard let colon = s.firstIndex(of: ":"), colon != s.startIndex else { return false }
    // Field names are printable US-ASCII without spaces (RFC 5322 §2.2).
    return s[..<colon].allSatisfy { $0.isASCII && $0 != " " && $0 != "\t" && !$0.isWhitespace }
  }

  static func headerBlock(_ lines: Lines, _ range: Range<Int>) -> (
    headers: MailHeaders, bodyStart: Int
  ) {
    let (h, start, _) = headerBlockEnding(lines, range)
    return (h, start)
  }

  /// The header block and where the body starts; `ended` is false when the lines ran out
  /// before the blank line that ends a header block.
  static func headerBlockEnding(_ lines: Lines, _ range: Range<Int>) -> (
    headers: MailHeaders, bodyStart: Int, ended: Bool
  ) {
    var fields: [MailHeaderField] = []
    var i = range.lowerBound
    while i < range.upperBound {
      let s = lines.string(i)
      if s.trimmingCharacters(in: .whitespaces).isEmpty {
        return (MailHeaders(fields), i + 1, true)
      }
      if s.first == " " || s.first == "\t" {
        if !fields.isEmpty {
          fields[fields.count - 1].value += " " + s.trimmingCharacters(in: .whitespaces)
        }
      } else if isHeaderLine(s), let colon = s.firstIndex(of: ":") {
        let name = String(s[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(s[s.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        fields.append(MailHeaderField(name: name, value: value))
      } else if fields.isEmpty || s.hasPrefix(">From ") || s.hasPrefix("From ") {
        // A stray From_ line among headers is skipped, not taken as the body.
        if !(s.hasPrefix("From ") || s.hasPrefix(">From ")) {
          return (MailHeaders(fields), i, true)
        }
      } else {
        // A line that is no header ends the block (a missing blank line).
        return (MailHeaders(fields), i, true)
      }
      i += 1
    }
    return (MailHeaders(fields), range.upperBound, false)
  }

  /// How deep parts are read; below that a part's body is kept as it is. Real mail nests a few
  /// levels; a file nested thousands deep must not exhaust the stack.
  static let maximumDepth = 32

  static func entity(
    _ lines: Lines, _ range: Range<Int>, strict: Bool, declared: Set<String>, depth: Int
  ) throws(MailFormatError) -> MailPart {
    let (headers, bodyStart) = headerBlock(lines, range)
    let (type, params) = ContentType.parse(headers["Content-Type"])
    let bodyRange = min(bodyStart, range.upperBound)..<range.upperBound
    var part = MailPart(
      headers: headers, contentType: type, parameters: params, body: [], parts: [], outside: [])
    if type.hasPrefix("multipart/"), let boundary = params["boundary"], !boundary.isEmpty,
      depth < maximumDepth
    {
      try multipart(
        &part, lines, bodyRange, boundary: boundary, strict: strict, declared: declared,
        depth: depth)
      return part
    }
    let raw = lines.bytes(bodyRange)
    part.body = TransferEncoding.decode(raw, headers["Content-Transfer-Encoding"])
    if (type == "message/rfc822" || type == "message/global") && depth < maximumDepth {
      let inner = Lines(part.body)
      if inner.count > 0 {
        var first = 0
        while first < inner.count && inner.isBlank(first) { first += 1 }
        if first < inner.count, isHeaderLine(inner.string(first)) {
          if let m = try? entity(
            inner, first..<inner.count, strict: false, declared: declared, depth: depth + 1)
          {
            part.parts = [m]
          }
        }
      }
    }
    return part
  }

  static func multipart(
    _ part: inout MailPart, _ lines: Lines, _ range: Range<Int>, boundary: String, strict: Bool,
    declared: Set<String>, depth: Int
  ) throws(MailFormatError) {
    let open = "--" + boundary
    let openBytes = Array(open.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
    var starts: [Int] = []
    var closeAt: Int?
    for i in range {
      // Compared as bytes: most lines are no delimiter and are never made into text.
      let line = lines.data[lines.ranges[i]]
      guard line.starts(with: openBytes) else { continue }
      let s = lines.string(i)
      let rest = s.dropFirst(open.count)
      // The delimiter may carry trailing whitespace (RFC 2046 §5.1.1).
      if rest.hasPrefix("--") && rest.dropFirst(2).allSatisfy({ $0 == " " || $0 == "\t" }) {
        closeAt = i
        break
      }
      if rest.allSatisfy({ $0 == " " || $0 == "\t" }) { starts.append(i) }
    }
    guard let firstStart = starts.first else {
      // No delimiter at all: the body is read as one text, as a mail client shows it.
      part.body = lines.bytes(range)
      part.outside = part.body
      return
    }
    let end = closeAt ?? range.upperBound
    var outside = lines.bytes(range.lowerBound..<firstStart)
    if let closeAt { outside += lines.bytes((closeAt + 1)..<range.upperBound) }
    part.outside = outside
    for (n, s) in starts.enumerated() {
      let partEnd = n + 1 < starts.count ? starts[n + 1] : end
      let sub = (s + 1)..<max(s + 1, partEnd)
      part.parts.append(
        try entity(lines, sub, strict: strict, declared: declared, depth: depth + 1))
    }
    if closeAt == nil && strict && !endsWithStrayClose(lines, range, declared: declared) {
      // Reporting servers cut the returned original short on purpose (RFC 3462 §3: it "MAY be
      // truncated"), and often drop the closing delimiter with it; anything else that ends
      // without its delimiter is an incomplete file.
      let last = starts[starts.count - 1]
      let lastEnded = headerBlockEnding(lines, (last + 1)..<end).ended
      let lastType = part.parts.last?.contentType ?? ""
      if !(lastEnded && Self.returnedOriginalTypes.contains(lastType)) {
        throw .cutOff(contentType: part.contentType)
      }
    }
  }

  static let returnedOriginalTypes: Set<String> = [
    "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
    "message/global-headers",
  ]

  /// True when the last non-blank line closes a boundary that no Content-Type declared: the
  /// sender misnamed the closing delimiter, but nothing is missing.
  static func endsWithStrayClose(_ lines: Lines, _ range: Range<Int>, declared: Set<String>)
    -> Bool
  {
    var i = range.upperBound - 1
    while i >= range.lowerBound && lines.isBlank(i) { i -= 1 }
    guard i >= range.lowerBound else { return false }
    let s = lines.string(i).trimmingCharacters(in: .whitespaces)
    guard s.count > 4, s.hasPrefix("--"), s.hasSuffix("--") else { return false }
    let token = String(s.dropFirst(2).dropLast(2))
    return !declared.contains(token)
  }

  static func declaredBoundaries(_ bytes: [UInt8]) -> Set<String> {
    let key = Array("boundary=".utf8)
    var out: Set<String> = []
    var i = 0
    while i + key.count <= bytes.count {
      var hit = true
      for k in 0..<key.count where bytes[i + k] | 0x20 != key[k] {
        hit = false
        break
      }
      guard hit else {
        i += 1
        continue
      }
      var j = i + key.count
      let quoted = j < bytes.count && bytes[j] == 0x22
      if quoted { j += 1 }
      let start = j
      while j < bytes.count {
        let b = bytes[j]
        if b == 0x0A || b == 0x0D || (quoted ? b == 0x22 : (b == 0x20 || b == 0x09 || b == 0x3B)) {
          break
        }
        j += 1
      }
      out.insert(Charsets.latin1(bytes[start..<j]))
      i = j
    }
    return out
  }
}

/// A byte buffer split into lines at LF; a CR before the LF is not part of the line.
struct Lines {
  let data: [UInt8]
  /// Each line's bytes, without the line end.
  let ranges: [Range<Int>]
  /// Where each line's next line starts (after its line end).
  let ends: [Int]

  init(_ data: [UInt8]) {
    self.data = data
    var ranges: [Range<Int>] = []
    var ends: [Int] = []
    var start = 0
    var i = 0
    while i < data.count {
      if data[i] == 0x0A {
        var e = i
        if e > start && data[e - 1] == 0x0D { e -= 1 }
        ranges.append(start..<e)
        ends.append(i + 1)
        start = i + 1
      }
      i += 1
    }
    if start < data.count {
      var e = data.count
      if e > start && data[e - 1] == 0x0D { e -= 1 }
      ranges.append(start..<e)
      ends.append(data.count)
    }
    self.ranges = ranges
    self.ends = ends
  }

  var count: Int { ranges.count }

  func string(_ i: Int) -> String { Charsets.latin1(data[ranges[i]]) }

  func isBlank(_ i: Int) -> Bool {
    data[ranges[i]].allSatisfy { $0 == 0x20 || $0 == 0x09 }
  }

  /// The bytes of lines `range`, with their line ends except the last line's (RFC 2046 §5.1.1:
  /// the line end before a delimiter belongs to the delimiter).
  func bytes(_ range: Range<Int>) -> [UInt8] {
    guard !range.isEmpty, range.lowerBound < count else { return [] }
    let upper = min(range.upperBound, count)
    let start = ranges[range.lowerBound].lowerBound
    let end = upper == count ? data.count : ranges[upper - 1].upperBound
    guard start <= end else { return [] }
    var out = Array(data[start..<end])
    // Keep the original line ends inside, as LF; drop CRs so decoders see one kind.
    out.removeAll { $0 == 0x0D }
    return out
  }
}

enum ContentType {
  /// `text/plain; charset="utf-8"` → ("text/plain", ["charset": "utf-8"]). RFC 2045 §5.1.
  static func parse(_ value: String?) -> (String, [String: String]) {
    guard let value, !value.isEmpty else { return ("text/plain", [:]) }
    let pieces = splitParameters(value)
    var type = (pieces.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    if !type.contains("/") { type = "text/plain" }
    var params: [String: String] = [:]
    for p in pieces.dropFirst() {
      guard let eq = p.firstIndex(of: "=") else { continue }
      var name = p[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
      var v = p[p.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      if v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") {
        v = String(v.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
      }
      // RFC 2231 continuations and charsets: only the first piece's plain value is kept.
      if name.hasSuffix("*0*") || name.hasSuffix("*0") || name.hasSuffix("*") {
        name = String(name.prefix { $0 != "*" })
        if let q = v.range(of: "''") { v = String(v[q.upperBound...]) }
      }
      if params[name] == nil { params[name] = v }
    }
    return (type, params)
  }

  static func splitParameters(_ s: String) -> [String] {
    var out: [String] = []
    var cur = ""
    var quoted = false
    for c in s {
      if c == "\"" { quoted.toggle() }
      if c == ";" && !quoted {
        out.append(cur)
        cur = ""
      } else {
        cur.append(c)
      }
    }
    out.append(cur)
    return out
  }
}

enum TransferEncoding {
  static func decode(_ bytes: [UInt8], _ encoding: String?) -> [UInt8] {
    switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
    case "base64": return base64(bytes)
    case "quoted-printable": return quotedPrintable(bytes)
    default: return bytes
    }
  }

  /// RFC 2045 §6.8; characters outside the alphabet are ignored, a short last group is kept.
  static func base64(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 3 / 4)
    var acc: UInt32 = 0
    var n = 0
    loop: for b in bytes {
      let v: UInt32
      switch b {
      case 0x41...0x5A: v = UInt32(b - 0x41)
      case 0x61...0x7A: v = UInt32(b - 0x61 + 26)
      case 0x30...0x39: v = UInt32(b - 0x30 + 52)
      case 0x2B: v = 62
      case 0x2F: v = 63
      case 0x3D: break loop
      default: continue
      }
      acc = (acc << 6) | v
      n += 1
      if n == 4 {
        out.append(UInt8((acc >> 16) & 0xFF))
        out.append(UInt8((acc >> 8) & 0xFF))
        out.append(UInt8(acc & 0xFF))
        acc = 0
        n = 0
      }
    }
    if n == 3 {
      out.append(UInt8((acc >> 10) & 0xFF))
      out.append(UInt8((acc >> 2) & 0xFF))
    } else if n == 2 {
      out.append(UInt8((acc >> 4) & 0xFF))
    }
    return out
  }

  /// RFC 2045 §6.7: `=XX` octets and `=` soft line breaks; a bad escape is kept as written.
  static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b == 0x3D {
        var j = i + 1
        // A soft line break, with any trailing whitespace before the line end.
        while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x09) { j += 1 }
        if j < bytes.count && bytes[j] == 0x0A {
          i = j + 1
          continue
        }
        if j == bytes.count {
          i = j
          continue
        }
        if i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
          out.append(h << 4 | l)
          i += 3
          continue
        }
      }
      out.append(b)
      i += 1
    }
    return out
  }

  static func hex(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    case 0x61...0x66: return b - 0x61 + 10
    default: return nil
    }
  }
}

enum Charsets {
  /// Every byte as the code point of the same number: lossless for the ASCII a report's
  /// structure is written in.
  static func latin1<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var s = String()
    s.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
    return s
  }

  static func decode(_ bytes: [UInt8], charset: String?) -> String {
    let cs = (charset ?? "").lowercased()
    if cs.isEmpty || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii" {
      if let s = String(validating: bytes, as: UTF8.self) { return s }
      return String(decoding: bytes, as: UTF8.self)
    }
    if cs == "iso-8859-1" || cs == "latin1" || cs == "windows-1252" || cs == "cp1252" {
      return latin1(bytes)
    }
    if let s = String(validating: bytes, as: UTF8.self) { return s }
    // Other charsets (ISO-2022-JP, ISO-8859-2, ...): the ASCII in them is what is read.
    return String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
  }
}

/// RFC 2047 encoded-words in header values.
public enum EncodedWords {
  public static func decode(_ value: String) -> String {
    guard value.contains("=?") else { return value }
    var out = ""
    var rest = Substring(value)
    var lastWasWord = false
    while let start = rest.range(of: "=?") {
      let before = rest[..<start.lowerBound]
      let afterStart = rest[start.upperBound...]
      guard let word = parseWord(afterStart) else {
        out += before + "=?"
        rest = afterStart
        lastWasWord = false
        continue
      }
      // Whitespace between two adjacent encoded-words is dropped (RFC 2047 §6.2).
      if !(lastWasWord && before.allSatisfy(\.isWhitespace)) { out += before }
      out += word.text
      rest = word.rest
      lastWasWord = true
    }
    out += rest
    return out
  }

  static func parseWord(_ s: Substring) -> (text: String, rest: Substring)? {
    let parts = s.split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3, let end = parts[2].range(of: "?=") else { return nil }
    let charset = String(parts[0].prefix { $0 != "*" })
    let encoding = parts[1].lowercased()
    let payload = Array(parts[2][..<end.lowerBound].utf8)
    let bytes: [UInt8]
    if encoding == "b" {
      bytes = TransferEncoding.base64(payload)
    } else if encoding == "q" {
      bytes = TransferEncoding.quotedPrintable(payload.map { $0 == 0x5F ? 0x20 : $0 })
    } else {
      return nil
    }
    return (Charsets.decode(bytes, charset: charset), parts[2][end.upperBound...])
  }
}
