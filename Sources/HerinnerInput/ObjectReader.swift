import HerinnerCore

/// Reads one JSON object strictly: typed getters record a problem naming the key's path and
/// line; `finish()` reports every key nobody asked for (`smtp.passwrd: unknown key`).
struct ObjectReader {
  let file: String
  let path: String
  let members: [(key: String, value: JSONNode)]
  let line: Int
  private(set) var used: Set<String> = []
  var problems: [Problem] = []

  init?(_ node: JSONNode, file: String, path: String, problems: inout [Problem]) {
    guard case .object(let m) = node.value else {
      problems.append(
        Problem(
          file: file, line: node.line, field: path.isEmpty ? nil : path,
          message: "expected an object, found \(node.value.typeName)"))
      return nil
    }
    self.file = file
    self.path = path
    self.members = m
    self.line = node.line
    var seen: Set<String> = []
    for (k, v) in m where !seen.insert(k).inserted {
      problems.append(Problem(file: file, line: v.line, field: full(k), message: "duplicate key"))
    }
  }

  func full(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

  mutating func node(_ key: String) -> JSONNode? {
    used.insert(key)
    guard let n = members.last(where: { $0.key == key })?.value else { return nil }
    if case .null = n.value { return nil }
    return n
  }

  mutating func fail(_ key: String, _ node: JSONNode?, _ message: String) {
    problems.append(
      Problem(file: file, line: node?.line ?? line, field: full(key), message: message))
  }

  mutating func string(_ key: String, required: Bool = false) -> String? {
    guard let n = node(key) else {
      if required { fail(key, nil, "missing (required)") }
      return nil
    }
    guard case .string(let s) = n.value else {
      fail(key, n, "expected a string, found \(n.value.typeName)")
      return nil
    }
    if required && s.trimmingSpaces.isEmpty {
      fail(key, n, "must not be empty")
      return nil
    }
    if let bad = s.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      fail(
        key, n, "control character U+\(String(bad.value, radix: 16, uppercase: true)) not allowed")
      return nil
    }
    return s
  }

  mutating func bool(_ key: String) -> Bool? {
    guard let n = node(key) else { return nil }
    guard case .bool(let b) = n.value else {
      fail(key, n, "expected true or false, found \(n.value.typeName)")
      return nil
    }
    return b
  }

  mutating func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
    guard let n = node(key) else { return nil }
    guard case .number(let text) = n.value, let v = Int(text) else {
      fail(key, n, "expected a whole number, found \(n.value.typeName)")
      return nil
    }
    guard range.contains(v) else {
      fail(key, n, "must be between \(range.lowerBound) and \(range.upperBound), found \(v)")
      return nil
    }
    return v
  }

  mutating func money(_ key: String) -> Money? {
    guard let n = node(key) else { return nil }
    do {
      switch n.value {
      // A JSON number is a number (RFC 8259 §6): `5.000` is five, never five thousand.
      case .number(let t): return try Money.parse(decimal: t)
      case .string(let t): return try Money.parse(t)
      default:
        fail(key, n, "expected an amount, found \(n.value.typeName)")
        return nil
      }
    } catch {
      fail(key, n, "\(InvoiceSource.amountProblem(error)): \(Self.literal(n))")
      return nil
    }
  }

  /// The value as the file writes it: a number bare, a string quoted.
  static func literal(_ n: JSONNode) -> String {
    switch n.value {
    case .number(let t): t
    case .string(let t): "\"\(t)\""
    default: n.value.typeName
    }
  }

  mutating func strings(_ key: String) -> [String]? {
    guard let n = node(key) else { return nil }
    switch n.value {
    case .string(let s): return [s]
    case .array(let items):
      var out: [String] = []
      for (i, item) in items.enumerated() {
        guard case .string(let s) = item.value else {
          fail("\(key)[\(i)]", item, "expected a string, found \(item.value.typeName)")
          continue
        }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
          fail("\(key)[\(i)]", item, "control character not allowed")
          continue
        }
        out.append(s)
      }
      return out
    default:
      fail(key, n, "expected a string or an array of strings, found \(n.value.typeName)")
      return nil
    }
  }

  mutating func object(_ key: String, problems outer: inout [Problem]) -> ObjectReader? {
    guard let n = node(key) else { return nil }
    return ObjectReader(n, file: file, path: full(key), problems: &outer)
  }

  /// Problems so far plus one per unknown key.
  mutating func finish() -> [Problem] {
    var out = problems
    for (k, v) in members where !used.contains(k) {
      out.append(Problem(file: file, line: v.line, field: full(k), message: "unknown key"))
    }
    problems = []
    return out
  }
}
