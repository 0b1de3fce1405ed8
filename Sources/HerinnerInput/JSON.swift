import HerinnerCore

/// A JSON value that keeps its line and the exact text of numbers, so amounts stay exact and
/// errors can name the line. A small RFC 8259 parser; Foundation's loses both.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The number's literal text.
  case number(String)
  case string(String)
  case array([JSONNode])
  /// Members in file order (duplicate keys are reported by the reader).
  case object([(key: String, value: JSONNode)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: return false
    }
  }

  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }
}

public struct JSONNode: Sendable, Equatable {
  public var value: JSONValue
  public var line: Int
}

public struct JSONSyntaxError: Error, Sendable {
  public var line: Int
  public var message: String
}

/// Parses UTF-8 JSON bytes into nodes with line numbers.
public struct JSONParser {
  let bytes: [UInt8]
  var i = 0
  var line = 1
  var depth = 0

  /// The message of a string that is not UTF-8 (callers add the encoding hint).
  public static let invalidUTF8 = "invalid UTF-8"

  public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONNode {
    var p = JSONParser(bytes: bytes)
    if p.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.i = 3 }
    let v = try p.value()
    p.skipSpace()
    guard p.i == p.bytes.count else { throw p.error("unexpected text after the JSON value") }
    return v
  }

  func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(line: line, message: message) }

  mutating func skipSpace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09: i += 1
      // A line ends in LF, CRLF or CR alone (old Mac exports): CRLF counts once, at its LF.
      case 0x0D:
        if i + 1 >= bytes.count || bytes[i + 1] != 0x0A { line += 1 }
        i += 1
      case 0x0A:
        line += 1
        i += 1
      default: return
      }
    }
  }

  mutating func value() throws(JSONSyntaxError) -> JSONNode {
    skipSpace()
    guard i < bytes.count else { throw error("unexpected end of file") }
    let startLine = line
    switch bytes[i] {
    case UInt8(ascii: "{"):
      depth += 1
      guard depth < 200 else { throw error("nested too deeply") }
      i += 1
      var members: [(key: String, value: JSONNode)] = []
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
        i += 1
        depth -= 1
        return JSONNode(value: .object(members), line: startLine)
      }
      while true {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
          throw error("expected a quoted key")
        }
        let key = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
          throw error("expected ':' after \"\(key)\"")
        }
        i += 1
        let v = try value()
        members.append((key, v))
        skipSpace()
        guard i < bytes.count else { throw error("unexpected end of file in an object") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "}") {
          i += 1
          depth -= 1
          return JSONNode(value: .object(members), line: startLine)
        }
        throw error("expected ',' or '}'")
      }
    case UInt8(ascii: "["):
      depth += 1
      guard depth < 200 else { throw error("nested too deeply") }
      i += 1
      var items: [JSONNode] = []
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
        i += 1
        depth -= 1
        return JSONNode(value: .array(items), line: startLine)
      }
      while true {
        items.append(try value())
        skipSpace()
        guard i < bytes.count else { throw error("unexpected end of file in an array") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "]") {
          i += 1
          depth -= 1
          return JSONNode(value: .array(items), line: startLine)
        }
        throw error("expected ',' or ']'")
      }
    case UInt8(ascii: "\""):
      return JSONNode(value: .string(try string()), line: startLine)
    case UInt8(ascii: "t"):
      try literal("true")
      return JSONNode(value: .bool(true), line: startLine)
    case UInt8(ascii: "f"):
      try literal("false")
      return JSONNode(value: .bool(false), line: startLine)
    case UInt8(ascii: "n"):
      try literal("null")
      return JSONNode(value: .null, line: startLine)
    default:
      return JSONNode(value: .number(try number()), line: startLine)
    }
  }

  mutating func literal(_ word: String) throws(JSONSyntaxError) {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else {
      throw error("unexpected character")
    }
    i += w.count
  }

  mutating func number() throws(JSONSyntaxError) -> String {
    let start = i
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    func digits(_ p: inout JSONParser) -> Int {
      let s = p.i
      while p.i < p.bytes.count, (0x30...0x39).contains(p.bytes[p.i]) { p.i += 1 }
      return p.i - s
    }
    guard digits(&self) > 0 else { throw error("unexpected character") }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits(&self) > 0 else { throw error("bad number") }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits(&self) > 0 else { throw error("bad number") }
    }
    return String(decoding: bytes[start..<i], as: UTF8.self)
  }

  mutating func string() throws(JSONSyntaxError) -> String {
    i += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard i < bytes.count else { throw error("unterminated string") }
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        break
      }
      if b < 0x20 { throw error("control character in a string (escape it)") }
      if b == UInt8(ascii: "\\") {
        i += 1
        guard i < bytes.count else { throw error("unterminated string") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar) {
            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
              bytes[i + 1] == UInt8(ascii: "u")
            else { throw error("lone surrogate in \\u escape") }
            i += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("bad surrogate pair") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw error("bad \\u escape") }
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default: throw error("bad escape")
        }
        continue
      }
      out.append(b)
      i += 1
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw error(Self.invalidUTF8) }
    return s
  }

  mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
    guard i + 4 <= bytes.count else { throw error("bad \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[i]
      let d: UInt32
      switch c {
      case 0x30...0x39: d = UInt32(c - 0x30)
      case 0x41...0x46: d = UInt32(c - 0x41 + 10)
      case 0x61...0x66: d = UInt32(c - 0x61 + 10)
      default: throw error("bad \\u escape")
      }
      v = v * 16 + d
      i += 1
    }
    return v
  }
}
