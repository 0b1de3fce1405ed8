/// One value in a server response (RFC 3501 §4): an atom or number, a quoted string, a literal
/// (`{n}` CRLF and n bytes, kept exact), a parenthesized list, or NIL.
public enum IMAPValue: Sendable, Equatable {
  /// An atom as sent, brackets included (`BODY[]`, `\Seen`, `12`).
  case atom(String)
  case quoted([UInt8])
  case literal([UInt8])
  case list([IMAPValue])
  case `nil`

  /// An atom that is a 32-bit unsigned number (UIDs, sequence numbers, UIDVALIDITY).
  public var number: UInt32? {
    guard case .atom(let a) = self else { return nil }
    return parseNumber(Substring(a))
  }

  /// An astring or nstring's bytes: a quoted string, a literal or an atom; nil for NIL or a list.
  public var bytes: [UInt8]? {
    switch self {
    case .atom(let a): return Array(a.utf8)
    case .quoted(let b), .literal(let b): return b
    case .list, .nil: return nil
    }
  }
}

/// A status response's condition (RFC 3501 §7.1).
public enum IMAPStatus: String, Sendable, Equatable {
  case ok = "OK"
  case no = "NO"
  case bad = "BAD"
  case preauth = "PREAUTH"
  case bye = "BYE"
}

/// One response line (with its literals) from the server.
public enum IMAPResponse: Sendable, Equatable {
  /// `* OK [UIDVALIDITY 3857529045] UIDs valid`: the response code's name and arguments, and the
  /// human-readable text.
  case untaggedStatus(IMAPStatus, code: String?, codeArguments: String?, text: String)
  /// Any other untagged response, split into values: `* 12 EXISTS` is `[12, EXISTS]`.
  case untagged([IMAPValue])
  /// A command's completion: `A003 NO [TRYCREATE] no such mailbox`.
  case tagged(tag: String, IMAPStatus, code: String?, text: String)
  /// `+ ...`: the server waits for more of the command.
  case continuation(String)
}

/// What is wrong with a server response; `offset` is the byte where reading stopped.
public struct IMAPParseError: Error, Sendable, Equatable, CustomStringConvertible {
  public var reason: String
  public var offset: Int
  public init(reason: String, offset: Int) {
    self.reason = reason
    self.offset = offset
  }
  public var description: String { "\(reason) (at byte \(offset) of the server's answer)" }
}

/// A pure reader of the server's side of an IMAP conversation (RFC 3501 §7 and the grammar in
/// §9): bytes in, responses out. Malformed or cut-off input is an `IMAPParseError`, never a trap.
public enum IMAPResponseParser {
  /// A literal larger than this is refused (no message herinner reads comes near it).
  public static let maximumLiteral = 64 * 1024 * 1024
  /// Lists nested deeper than this are refused (a server never sends more than a few levels).
  static let maximumDepth = 32

  /// Every response in `bytes`, which must end with a complete line.
  public static func responses(_ bytes: [UInt8]) throws(IMAPParseError) -> [IMAPResponse] {
    var reader = Reader(bytes: bytes)
    var out: [IMAPResponse] = []
    while !reader.atEnd {
      out.append(try reader.response())
    }
    return out
  }
}

func parseNumber(_ s: Substring) -> UInt32? {
  // Digits only: UInt32("+5") would accept a sign, and a UID has none (RFC 3501 §9 nz-number).
  guard !s.isEmpty, s.utf8.count <= 10, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
    return nil
  }
  return UInt32(s)
}

private let cr: UInt8 = 0x0D
private let lf: UInt8 = 0x0A
private let sp: UInt8 = 0x20

struct Reader {
  let bytes: [UInt8]
  var i = 0

  var atEnd: Bool { i >= bytes.count }

  func fail(_ reason: String) -> IMAPParseError { IMAPParseError(reason: reason, offset: i) }

  func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

  mutating func expect(_ b: UInt8, _ what: String) throws(IMAPParseError) {
    guard peek() == b else { throw fail("expected \(what)") }
    i += 1
  }

  mutating func endOfLine() throws(IMAPParseError) {
    // Some servers end lines with a bare LF; accept it, since the line is still unambiguous.
    if peek() == cr { i += 1 }
    guard peek() == lf else {
      throw fail(atEnd ? "the answer ends in the middle of a line" : "expected the end of the line")
    }
    i += 1
  }

  /// The bytes up to (not including) the end of the line.
  mutating func restOfLine() throws(IMAPParseError) -> String {
    let start = i
    while let b = peek(), b != cr, b != lf { i += 1 }
    let text = String(decoding: bytes[start..<i], as: UTF8.self)
    try endOfLine()
    return text
  }

  /// A run of bytes up to a space, the end of the line or `stop`.
  mutating func word(stoppingAt stop: Set<UInt8> = []) -> String {
    let start = i
    while let b = peek(), b != sp, b != cr, b != lf, !stop.contains(b) { i += 1 }
    return String(decoding: bytes[start..<i], as: UTF8.self)
  }

  mutating func response() throws(IMAPParseError) -> IMAPResponse {
    guard let first = peek() else { throw fail("the answer is empty") }
    if first == UInt8(ascii: "+") {
      i += 1
      if peek() == sp { i += 1 }
      return .continuation(try restOfLine())
    }
    if first == UInt8(ascii: "*") {
      i += 1
      try expect(sp, "a space after \"*\"")
      let save = i
      let head = word()
      if let status = IMAPStatus(rawValue: head.uppercased()) {
        let (code, arguments, text) = try statusText()
        return .untaggedStatus(status, code: code, codeArguments: arguments, text: text)
      }
      i = save
      return .untagged(try values())
    }
    let tag = word()
    guard !tag.isEmpty else { throw fail("a response line starts with a space or is empty") }
    try expect(sp, "a space after the tag")
    let head = word()
    guard let status = IMAPStatus(rawValue: head.uppercased()), status != .preauth,
      status != .bye
    else {
      throw fail("the tagged response \(tag) has no OK, NO or BAD")
    }
    let (code, _, text) = try statusText()
    return .tagged(tag: tag, status, code: code, text: text)
  }

  /// After the status word: an optional `[CODE arguments]`, then free text (RFC 3501 resp-text).
  mutating func statusText() throws(IMAPParseError) -> (String?, String?, String) {
    if peek() == sp { i += 1 }
    var code: String? = nil
    var arguments: String? = nil
    if peek() == UInt8(ascii: "[") {
      i += 1
      let name = word(stoppingAt: [UInt8(ascii: "]")])
      guard !name.isEmpty else { throw fail("an empty response code") }
      code = name.uppercased()
      if peek() == sp {
        i += 1
        let start = i
        // Arguments may hold brackets of their own (PERMANENTFLAGS (\*) is fine; BADCHARSET
        // lists); the code ends at the last "]" on the line before the text.
        var depth = 0
        while let b = peek(), b != cr, b != lf {
          if b == UInt8(ascii: "[") { depth += 1 }
          if b == UInt8(ascii: "]") {
            if depth == 0 { break }
            depth -= 1
          }
          i += 1
        }
        arguments = String(decoding: bytes[start..<i], as: UTF8.self)
      }
      try expect(UInt8(ascii: "]"), "\"]\" to close the response code")
      if peek() == sp { i += 1 }
    }
    return (code, arguments, try restOfLine())
  }

  /// Values separated by spaces up to the end of the line (literals may span lines).
  mutating func values() throws(IMAPParseError) -> [IMAPValue] {
    var out: [IMAPValue] = []
    while true {
      guard let b = peek() else { throw fail("the answer ends in the middle of a line") }
      if b == cr || b == lf {
        try endOfLine()
        return out
      }
      if b == sp {
        i += 1
        continue
      }
      out.append(try value(depth: 0))
    }
  }

  mutating func value(depth: Int) throws(IMAPParseError) -> IMAPValue {
    guard let b = peek() else { throw fail("the answer ends in the middle of a line") }
    switch b {
    case UInt8(ascii: "("):
      guard depth < IMAPResponseParser.maximumDepth else { throw fail("lists nested too deep") }
      i += 1
      var items: [IMAPValue] = []
      while true {
        guard let c = peek() else { throw fail("the answer ends inside a list") }
        if c == UInt8(ascii: ")") {
          i += 1
          return .list(items)
        }
        if c == sp {
          i += 1
          continue
        }
        if c == cr || c == lf { throw fail("a list is not closed before the end of the line") }
        items.append(try value(depth: depth + 1))
      }
    case UInt8(ascii: "\""):
      return .quoted(try quoted())
    case UInt8(ascii: "{"):
      return .literal(try literal())
    case UInt8(ascii: ")"):
      throw fail("\")\" without \"(\"")
    default:
      let a = try atom()
      return a.uppercased() == "NIL" ? .nil : .atom(a)
    }
  }

  /// A quoted string (RFC 3501 §4.3): `\"` and `\\` are the only escapes; no CR or LF inside.
  mutating func quoted() throws(IMAPParseError) -> [UInt8] {
    i += 1
    var out: [UInt8] = []
    while true {
      guard let b = peek() else { throw fail("the answer ends inside a quoted string") }
      i += 1
      switch b {
      case UInt8(ascii: "\""): return out
      case UInt8(ascii: "\\"):
        guard let e = peek(), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else {
          throw fail("a backslash in a quoted string escapes neither \" nor \\")
        }
        out.append(e)
        i += 1
      case cr, lf: throw fail("a quoted string is not closed before the end of the line")
      default: out.append(b)
      }
    }
  }

  /// `{n}` CRLF and exactly n bytes (RFC 3501 §4.3). The count is checked against what arrived:
  /// a message cut short is an error, never a shorter message.
  mutating func literal() throws(IMAPParseError) -> [UInt8] {
    i += 1
    let start = i
    while let b = peek(), b >= 0x30, b <= 0x39 { i += 1 }
    let digits = bytes[start..<i]
    guard !digits.isEmpty, digits.count <= 10,
      let n = Int(String(decoding: digits, as: UTF8.self))
    else {
      throw fail("a literal without a valid size")
    }
    guard n <= IMAPResponseParser.maximumLiteral else {
      throw fail("a literal of \(n) bytes is larger than herinner reads")
    }
    try expect(UInt8(ascii: "}"), "\"}\" after the literal's size")
    guard peek() == cr, i + 1 < bytes.count, bytes[i + 1] == lf else {
      throw fail("expected CR LF after the literal's size")
    }
    i += 2
    guard n <= bytes.count - i else {
      throw fail(
        "the answer ends \(n - (bytes.count - i)) bytes before the end of a \(n)-byte literal")
    }
    let out = Array(bytes[i..<(i + n)])
    i += n
    return out
  }

  /// An atom; `[...]` inside it (`BODY[HEADER.FIELDS (FROM)]`) is part of it.
  mutating func atom() throws(IMAPParseError) -> String {
    let start = i
    var depth = 0
    while let b = peek() {
      if b == cr || b == lf { break }
      if depth == 0
        && (b == sp || b == UInt8(ascii: "(") || b == UInt8(ascii: ")")
          || b == UInt8(ascii: "\"") || b == UInt8(ascii: "{"))
      {
        break
      }
      if b == UInt8(ascii: "[") { depth += 1 }
      if b == UInt8(ascii: "]") {
        guard depth > 0 else { throw fail("\"]\" without \"[\"") }
        depth -= 1
      }
      if b < 0x20 || b == 0x7F { throw fail("a control character in an atom") }
      i += 1
    }
    guard depth == 0 else { throw fail("\"[\" not closed") }
    guard i > start else { throw fail("an empty value") }
    return String(decoding: bytes[start..<i], as: UTF8.self)
  }
}
