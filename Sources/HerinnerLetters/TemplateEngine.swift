/// herinner's own Mustache engine for the subset its letters use: variables (`{{x}}`, `{{{x}}}`,
/// `{{&x}}`, dotted names, `.`), sections and inverted sections, comments, partials and the
/// `{{% CONTENT_TYPE: TEXT|HTML}}` pragma. Changing delimiters, inheritance and lambdas are not
/// supported (the parser refuses them with their line). The template checker walks the tree this
/// parser builds: there is one tokenizer.
///
/// Why not swift-mustache at render time: it looks every value up through dynamic casts and
/// `Mirror` and splits every dotted name on every render, too slow for a night of letters; and it
/// renders partials as HTML even inside a plain-text template, so "Jansen & Zn" came out as
/// "Jansen &amp; Zn" in the text of a letter. The parse follows the
/// Mustache spec's standalone-line rules the way swift-mustache 2.x does, and a differential test
/// (TemplateEngineTests) renders every shipped template with both and compares the bytes.

/// A value a template sees.
public indirect enum TemplateValue: Sendable, Equatable {
  case text(String)
  case flag(Bool)
  case object([String: TemplateValue])
  case list([TemplateValue])

  func child(_ name: String) -> TemplateValue? {
    if case .object(let members) = self { return members[name] }
    return nil
  }
}

/// A template syntax problem, with its line.
struct TemplateSyntaxError: Error, Sendable {
  var line: Int
  var message: String
}

/// A parsed template.
struct CompiledTemplate: Sendable {
  indirect enum Node: Sendable {
    case text(String)
    /// Tags carry the line they start on, so that the template checker can name it.
    case variable([String], escaped: Bool, line: Int)
    case section([String], inverted: Bool, [Node], line: Int)
    case partial(String, indentation: String?, line: Int)
    case contentType(html: Bool)
  }

  var nodes: [Node]

  init(_ source: String) throws(TemplateSyntaxError) {
    var parser = Parser(source)
    nodes = try parser.parse(section: nil, openedOn: 1, newLine: true)
  }

  /// The parse, after swift-mustache's `MustacheTemplate.parse` (standalone tags remove their
  /// whole line; a standalone partial indents every line of its output).
  struct Parser {
    let c: [Character]
    var i = 0
    /// Offsets of the newline characters, for line numbers.
    let newlines: [Int]

    init(_ s: String) {
      let chars = Array(s)
      c = chars
      newlines = chars.indices.filter { chars[$0].isNewline }
    }

    var atEnd: Bool { i >= c.count }
    var current: Character { atEnd ? "\0" : c[i] }
    /// The line of offset `i` (1-based): one more than the newlines before it.
    var line: Int { line(at: i) }

    func line(at offset: Int) -> Int {
      var lo = 0
      var hi = newlines.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if newlines[mid] < offset { lo = mid + 1 } else { hi = mid }
      }
      return lo + 1
    }

    func fail(_ message: String, line: Int? = nil) -> TemplateSyntaxError {
      TemplateSyntaxError(line: line ?? self.line, message: message)
    }

    mutating func readWhile(_ keep: (Character) -> Bool) -> String {
      let start = i
      while i < c.count && keep(c[i]) { i += 1 }
      return String(c[start..<i])
    }

    mutating func read(_ s: String) -> Bool {
      var j = i
      for ch in s {
        guard j < c.count, c[j] == ch else { return false }
        j += 1
      }
      i = j
      return true
    }

    /// Text up to a newline (not consumed) or a `{{` (consumed; `tag` is then true).
    mutating func readText() -> (text: String, tag: Bool) {
      var text = ""
      while !atEnd {
        let start = i
        while i < c.count && c[i] != "\n" && c[i] != "\r\n" && c[i] != "{" { i += 1 }
        text += String(c[start..<i])
        if atEnd || current.isNewline { return (text, false) }
        if read("{{") { return (text, true) }
        text.append("{")
        i += 1
      }
      return (text, false)
    }

    static let nameChars = Set(
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*")
    static let partialChars = nameChars.union(["/"])

    mutating func name(_ allowed: Set<Character> = Parser.nameChars) throws(TemplateSyntaxError)
      -> String
    {
      _ = readWhile(\.isWhitespace)
      let n = readWhile { allowed.contains($0) }
      _ = readWhile(\.isWhitespace)
      guard read("}}") else {
        if current == "(" { throw fail("transforms (name(…)) are not supported") }
        throw fail("unfinished tag name")
      }
      guard !n.isEmpty else { throw fail("empty tag") }
      return n
    }

    /// A standalone tag: alone on its line (after `newLine`), so the rest of the line goes.
    mutating func standalone(_ newLine: Bool) -> Bool {
      guard newLine else { return false }
      if atEnd { return true }
      var j = i
      while j < c.count && (c[j] == " " || c[j] == "\t") { j += 1 }
      if j < c.count && c[j].isNewline {
        i = j + 1
        return true
      }
      return false
    }

    static func path(_ name: String) -> [String] {
      name == "." ? ["."] : name.split(separator: ".").map(String.init)
    }

    mutating func parse(section: String?, openedOn: Int, newLine initial: Bool)
      throws(TemplateSyntaxError) -> [Node]
    {
      var nodes: [Node] = []
      var newLine = initial
      var ws = ""
      while !atEnd {
        if newLine { ws = readWhile { $0 == " " || $0 == "\t" } }
        let (text, tag) = readText()
        if !tag && current.isNewline {
          nodes.append(.text(ws + text + String(current)))
          newLine = true
          i += 1
          continue
        }
        if !text.isEmpty {
          nodes.append(.text(ws + text))
          ws = ""
          newLine = false
        }
        guard tag else { break }
        if atEnd { throw fail("unclosed tag") }
        let tagLine = line
        var setNewLine = false
        let sigil = current
        switch sigil {
        case "#", "^":
          i += 1
          let n = try name()
          if standalone(newLine) {
            setNewLine = true
          } else if !ws.isEmpty {
            nodes.append(.text(ws))
            ws = ""
          }
          let body = try parse(section: n, openedOn: tagLine, newLine: setNewLine)
          nodes.append(.section(Self.path(n), inverted: sigil == "^", body, line: tagLine))
        case "/":
          i += 1
          let n = try name()
          guard n == section else {
            throw fail(
              section.map { "closing \"\(n)\" but \"\($0)\" is open" }
                ?? "closing \"\(n)\" that was never opened")
          }
          if !standalone(newLine) && !ws.isEmpty { nodes.append(.text(ws)) }
          return nodes
        case "!":
          i += 1
          var closed = false
          while !atEnd {
            if read("}}") {
              closed = true
              break
            }
            i += 1
          }
          guard closed else { throw fail("unclosed comment") }
          setNewLine = standalone(newLine)
        case "{", "&":
          if !ws.isEmpty {
            nodes.append(.text(ws))
            ws = ""
          }
          i += 1
          let n = try name()
          if sigil == "{" && !read("}") { throw fail("{{{ closed without }}}") }
          nodes.append(.variable(Self.path(n), escaped: false, line: tagLine))
        case ">":
          i += 1
          _ = readWhile(\.isWhitespace)
          let n = try name(Self.partialChars)
          if !ws.isEmpty { nodes.append(.text(ws)) }
          if standalone(newLine) {
            setNewLine = true
            nodes.append(.partial(n, indentation: ws, line: tagLine))
          } else {
            nodes.append(.partial(n, indentation: nil, line: tagLine))
          }
          ws = ""
        case "%":
          i += 1
          _ = readWhile(\.isWhitespace)
          let key = readWhile { Self.nameChars.contains($0) }
          _ = readWhile(\.isWhitespace)
          guard key == "CONTENT_TYPE", read(":") else {
            throw fail("unknown pragma (only CONTENT_TYPE: TEXT or HTML)")
          }
          _ = readWhile(\.isWhitespace)
          let value = readWhile { Self.nameChars.contains($0) }
          _ = readWhile(\.isWhitespace)
          guard read("}}"), value == "TEXT" || value == "HTML" else {
            throw fail("CONTENT_TYPE must be TEXT or HTML")
          }
          nodes.append(.contentType(html: value == "HTML"))
          setNewLine = standalone(newLine)
        case "=":
          throw fail("changing delimiters is not supported")
        case "$", "<":
          throw fail("template inheritance blocks are not supported")
        default:
          if !ws.isEmpty {
            nodes.append(.text(ws))
            ws = ""
          }
          nodes.append(.variable(Self.path(try name()), escaped: true, line: tagLine))
        }
        newLine = setNewLine
      }
      if let section { throw fail("section \"\(section)\" is never closed", line: openedOn) }
      return nodes
    }
  }
}

/// Renders compiled templates against a `TemplateValue` root.
struct TemplateRenderer {
  var partials: [String: CompiledTemplate]
  /// Root names whose absence is allowed (guarded optional values); any other miss is recorded.
  var optionalRootNames: Set<String>
  private(set) var misses: [String] = []

  init(partials: [String: CompiledTemplate], optionalRootNames: Set<String>) {
    self.partials = partials
    self.optionalRootNames = optionalRootNames
  }

  struct Context {
    var stack: [TemplateValue]
    var indentation: String?
    var html: Bool
  }

  mutating func render(_ template: CompiledTemplate, root: TemplateValue, html: Bool) -> String {
    render(template.nodes, Context(stack: [root], indentation: nil, html: html))
  }

  mutating func render(_ nodes: [CompiledTemplate.Node], _ initial: Context) -> String {
    var out = ""
    var context = initial
    let indentation = context.indentation.flatMap { $0.isEmpty ? nil : $0 }
    for node in nodes {
      let piece = render(node, &context)
      if let indentation, !piece.isEmpty, out.last == "\n" { out += indentation }
      out += piece
    }
    return out
  }

  mutating func render(_ node: CompiledTemplate.Node, _ context: inout Context) -> String {
    switch node {
    case .text(let t):
      return t
    case .variable(let path, let escaped, _):
      guard let v = lookup(path, context.stack) else { return "" }
      let s: String
      switch v {
      case .text(let t): s = t
      case .flag(let b): s = b ? "true" : "false"
      case .object, .list: return ""  // the checker refuses these as variables
      }
      return escaped && context.html ? Self.htmlEscape(s) : s
    case .section(let path, let inverted, let body, _):
      let v = lookup(path, context.stack)
      if inverted {
        switch v {
        case .none: return render(body, context)
        case .list(let items)?: return items.isEmpty ? render(body, context) : ""
        case .flag(let b)?: return b ? "" : render(body, context)
        default: return ""
        }
      }
      switch v {
      case .none: return ""
      case .flag(let b)?: return b ? render(body, context) : ""
      case .list(let items)?:
        var out = ""
        for item in items {
          var inner = context
          inner.stack.append(item)
          out += render(body, inner)
        }
        return out
      case let value?:
        var inner = context
        inner.stack.append(value)
        return render(body, inner)
      }
    case .partial(let name, let indentation, _):
      guard let p = partials[name] else { return "" }
      var inner = context
      if let indentation { inner.indentation = (context.indentation ?? "") + indentation }
      return render(p.nodes, inner)
    case .contentType(let html):
      context.html = html
      return ""
    }
  }

  /// Looks `path` up the way Mustache does: the first name in the innermost scope that has it,
  /// the rest inside that value. A first name that not even the root has is recorded as a miss
  /// unless it is one of the optional names.
  mutating func lookup(_ path: [String], _ stack: [TemplateValue]) -> TemplateValue? {
    guard let first = path.first else { return nil }
    if first == "." { return stack.last }
    for (depth, scope) in stack.enumerated().reversed() {
      guard var value = scope.child(first) else {
        if depth == 0 && !optionalRootNames.contains(first) { misses.append(first) }
        continue
      }
      for name in path.dropFirst() {
        guard let next = value.child(name) else { return nil }
        value = next
      }
      return value
    }
    return nil
  }

  static func htmlEscape(_ s: String) -> String {
    guard
      s.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 })
    else { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count + 16)
    for ch in s {
      switch ch {
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "&": out += "&amp;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(ch)
      }
    }
    return out
  }
}
