import Foundation
import HerinnerCore

/// The variables a template may use: a documented schema, checked at load time so that an
/// unknown name is an error naming file:line, never an empty hole in a sent email.
indirect enum SchemaNode: Sendable {
  case text(optional: Bool)
  case flag
  case object([String: SchemaNode], optional: Bool)
  case list(SchemaNode)

  var isOptional: Bool {
    switch self {
    case .text(let o), .object(_, let o): return o
    default: return false
    }
  }
}

/// The schema of a letter's context (README "Template variables" documents it).
enum LetterSchema {
  static let invoice: SchemaNode = .object(
    [
      "number": .text(optional: false), "issued": .text(optional: false),
      "due": .text(optional: false),
      "amount": .text(optional: false), "paid": .text(optional: false),
      "outstanding": .text(optional: false),
      "partlyPaid": .flag, "reference": .text(optional: true), "pdf": .text(optional: false),
    ], optional: false)

  static let root: [String: SchemaNode] = [
    "salutation": .text(optional: false), "customer": .text(optional: false),
    "contact": .text(optional: true),
    "numbers": .text(optional: false), "count": .text(optional: false),
    "total": .text(optional: false),
    "deadline": .text(optional: false), "termDays": .text(optional: false),
    "date": .text(optional: false),
    "firstSentOn": .text(optional: true), "costs": .text(optional: true),
    "totalWithCosts": .text(optional: true),
    "paymentReference": .text(optional: false), "single": .flag, "multiple": .flag,
    "consumer": .flag,
    "business": .flag, "resend": .flag, "partlyPaid": .flag, "costsIncludeVAT": .flag,
    "invoice": invoice, "invoices": .list(invoice),
    "company": .object(
      [
        "name": .text(optional: false), "email": .text(optional: false),
        "phone": .text(optional: true),
        "iban": .text(optional: false), "bic": .text(optional: true),
        "accountHolder": .text(optional: false),
        "kvk": .text(optional: true), "btw": .text(optional: true),
        "website": .text(optional: true),
        "signature": .text(optional: true),
        "address": .list(.object(["line": .text(optional: false)], optional: false)),
      ], optional: false),
  ]

  /// Last components of optional paths: a miss on these at the root is a guarded section.
  static let optionalLeaves: Set<String> = [
    "contact", "firstSentOn", "costs", "totalWithCosts", "reference",
    "phone", "bic", "kvk", "btw", "website", "signature",
  ]
}

/// A template problem with its place.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var message: String
  public var description: String { "\(file):\(line): \(message)" }
  public var problem: Problem { Problem(file: file, line: line, message: message) }
}

/// Checks a template's tags against the schema, statically, with line numbers.
struct TemplateChecker {
  let file: String
  let partials: [String: String]
  var errors: [TemplateError] = []

  struct Scope {
    var node: SchemaNode
    var path: String
  }

  mutating func check(_ text: String) {
    check(
      text, scopes: [Scope(node: .object(LetterSchema.root, optional: false), path: "")],
      guards: [], depth: 0, file: file)
  }

  mutating func check(
    _ text: String, scopes initial: [Scope], guards initialGuards: [String], depth: Int,
    file: String
  ) {
    var scopes = initial
    var guards = initialGuards
    var open: [(name: String, line: Int, pushedScope: Bool, pushedGuard: Bool)] = []
    let chars = Array(text.unicodeScalars)
    var i = 0
    var line = 1
    func fail(_ m: String, _ l: Int) {
      errors.append(TemplateError(file: file, line: l, message: m))
    }
    while i < chars.count {
      if chars[i] == "\n" { line += 1 }
      guard chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" else {
        i += 1
        continue
      }
      let tagLine = line
      let triple = i + 2 < chars.count && chars[i + 2] == "{"
      let closer: [Unicode.Scalar] = triple ? ["}", "}", "}"] : ["}", "}"]
      var j = i + (triple ? 3 : 2)
      var found = false
      while j + closer.count <= chars.count {
        if Array(chars[j..<j + closer.count]) == closer {
          found = true
          break
        }
        j += 1
      }
      guard found else {
        fail("unclosed tag", tagLine)
        return
      }
      var content = String(String.UnicodeScalarView(chars[(i + (triple ? 3 : 2))..<j]))
      for ch in content where ch == "\n" { line += 1 }
      i = j + closer.count
      content = content.trimmingCharacters(in: .whitespaces)
      guard let sigil = content.first else {
        fail("empty tag", tagLine)
        continue
      }
      let rest = content.dropFirst().trimmingCharacters(in: .whitespaces)
      switch triple ? "&" : sigil {
      case "!", "%":
        continue
      case "=":
        fail("changing delimiters is not supported", tagLine)
      case "$", "<":
        fail("template inheritance blocks are not supported", tagLine)
      case ">":
        guard let body = partials[rest] else {
          fail("unknown partial \"\(rest)\"", tagLine)
          continue
        }
        if depth > 8 {
          fail("partials nest too deeply", tagLine)
          continue
        }
        check(
          body, scopes: scopes, guards: guards, depth: depth + 1,
          file: "partial \(rest) (from \(file):\(tagLine))")
      case "#", "^":
        let resolved = resolve(String(rest), scopes)
        guard let (node, path) = resolved else {
          fail("unknown section \"\(rest)\"", tagLine)
          open.append((String(rest), tagLine, false, false))
          continue
        }
        var pushedScope = false
        var pushedGuard = false
        if sigil == "#" {
          switch node {
          case .list(let item):
            scopes.append(Scope(node: item, path: path))
            pushedScope = true
          case .object:
            scopes.append(Scope(node: node, path: path))
            pushedScope = true
          default: break
          }
          guards.append(path)
          pushedGuard = true
        }
        open.append((String(rest), tagLine, pushedScope, pushedGuard))
      case "/":
        guard let last = open.popLast() else {
          fail("closing \"\(rest)\" that was never opened", tagLine)
          continue
        }
        if last.name != rest {
          fail("closing \"\(rest)\" but \"\(last.name)\" (line \(last.line)) is open", tagLine)
        }
        if last.pushedScope { scopes.removeLast() }
        if last.pushedGuard { guards.removeLast() }
      default:
        let name = sigil == "&" ? String(rest) : content
        if name == "." { continue }
        guard let (node, path) = resolve(name, scopes) else {
          fail("unknown variable \"\(name)\"", tagLine)
          continue
        }
        switch node {
        case .list, .object: fail("\"\(name)\" is a list or object: use it as a section", tagLine)
        case .flag: fail("\"\(name)\" is a yes/no flag: use it as a section", tagLine)
        case .text(let optional):
          if optional && !guards.contains(path) {
            fail("\"\(name)\" may be absent: use it inside {{#\(name)}}…{{/\(name)}}", tagLine)
          }
        }
      }
    }
    for o in open { fail("section \"\(o.name)\" is never closed", o.line) }
  }

  /// The schema node and full path `name` refers to, searching scopes innermost first.
  func resolve(_ name: String, _ scopes: [Scope]) -> (SchemaNode, String)? {
    let parts = name.split(separator: ".").map(String.init)
    guard let head = parts.first else { return nil }
    for scope in scopes.reversed() {
      guard case .object(let members, _) = scope.node, var node = members[head] else { continue }
      var path = scope.path.isEmpty ? head : scope.path + "." + head
      for p in parts.dropFirst() {
        guard case .object(let m, _) = node, let next = m[p] else { return nil }
        node = next
        path += "." + p
      }
      return (node, path)
    }
    return nil
  }
}

/// A rendered letter: subject, plain text, optional HTML.
public struct RenderedLetter: Sendable, Equatable {
  public var subject: String
  public var text: String
  public var html: String?
}

/// The templates of every step and language, loaded and checked at once.
///
/// Layout: `Templates/<language>/<name>.txt.mustache` (required) and `<name>.html.mustache`
/// (optional) for `first`, `second-business` and `second-consumer`; any other `*.mustache` in a
/// language folder is a partial by its base name. The text template's first line is
/// `Subject: …`, then a blank line, then the body.
public struct TemplateSet: Sendable {
  public static let names = ["first", "second-business", "second-consumer"]

  struct Pair: Sendable {
    var text: CompiledTemplate
    var html: CompiledTemplate?
    var file: String
  }

  var templates: [String: Pair] = [:]  // "nl/first"
  var partials: [Language: [String: CompiledTemplate]] = [:]

  /// Loads and checks every template under `folder`; throws every problem found.
  public static func load(folder: String) throws(Problems) -> TemplateSet {
    var set = TemplateSet()
    var problems: [Problem] = []
    let fm = FileManager.default
    for lang in Language.allCases {
      let dir = (folder as NSString).appendingPathComponent(lang.rawValue)
      let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter {
        $0.hasSuffix(".mustache")
      }.sorted()
      var texts: [String: String] = [:]
      for f in files {
        let path = (dir as NSString).appendingPathComponent(f)
        guard let data = fm.contents(atPath: path), let s = String(data: data, encoding: .utf8)
        else {
          problems.append(Problem(file: path, message: "cannot read the template (UTF-8 expected)"))
          continue
        }
        texts[String(f.dropLast(".mustache".count))] = s
      }
      let mainFiles = Set(names.flatMap { ["\($0).txt", "\($0).html"] })
      var partials: [String: String] = [:]
      for (k, v) in texts where !mainFiles.contains(k) { partials[k] = v }
      var compiled: [String: CompiledTemplate] = [:]
      for (name, body) in partials {
        do { compiled[name] = try CompiledTemplate(body) } catch {
          problems.append(
            Problem(
              file: (dir as NSString).appendingPathComponent(name + ".mustache"), line: error.line,
              message: "syntax: \(error.message)"))
        }
      }
      set.partials[lang] = compiled
      for name in names {
        let textFile = (dir as NSString).appendingPathComponent("\(name).txt.mustache")
        guard let text = texts["\(name).txt"] else {
          problems.append(Problem(file: textFile, message: "missing template"))
          continue
        }
        var checker = TemplateChecker(file: textFile, partials: partials)
        checker.check(text)
        let firstLine = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        if !firstLine.hasPrefix("Subject:") {
          checker.errors.append(
            TemplateError(file: textFile, line: 1, message: "the first line must be \"Subject: …\"")
          )
        }
        var html: CompiledTemplate? = nil
        let htmlFile = (dir as NSString).appendingPathComponent("\(name).html.mustache")
        if let h = texts["\(name).html"] {
          var hc = TemplateChecker(file: htmlFile, partials: partials)
          hc.check(h)
          checker.errors += hc.errors
          do { html = try CompiledTemplate(h) } catch {
            checker.errors.append(
              TemplateError(file: htmlFile, line: error.line, message: "syntax: \(error.message)"))
          }
        }
        problems += checker.errors.map(\.problem)
        do {
          let t = try CompiledTemplate(text)
          if checker.errors.isEmpty {
            set.templates["\(lang.rawValue)/\(name)"] = Pair(text: t, html: html, file: textFile)
          }
        } catch {
          problems.append(
            Problem(file: textFile, line: error.line, message: "syntax: \(error.message)"))
        }
      }
    }
    if !problems.isEmpty { throw Problems(problems) }
    return set
  }

  /// Renders `letter`; throws if any variable found no value (never a hole in an email).
  public func render(_ letter: Letter) throws(TemplateError) -> RenderedLetter {
    let key = "\(letter.language.rawValue)/\(letter.templateName)"
    guard let pair = templates[key] else {
      throw TemplateError(file: key, line: 0, message: "no template for \(key)")
    }
    var renderer = TemplateRenderer(
      partials: partials[letter.language] ?? [:], optionalRootNames: LetterSchema.optionalLeaves)
    let root = LetterContext.values(letter)
    let output = renderer.render(pair.text, root: root, html: false)
    var html: String? = nil
    if let h = pair.html { html = renderer.render(h, root: root, html: true) }
    if let miss = renderer.misses.first {
      throw TemplateError(
        file: pair.file, line: 0, message: "no value for \"\(miss)\": letter not rendered")
    }
    var lines = output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let subjectLine = String(lines.removeFirst())
    let subject = subjectLine.dropFirst("Subject:".count).split(whereSeparator: {
      $0 == " " || $0 == "\t"
    }).joined(separator: " ")
    var body = lines.first.map(String.init) ?? ""
    while body.hasPrefix("\n") { body.removeFirst() }
    guard !subject.isEmpty else {
      throw TemplateError(file: pair.file, line: 1, message: "the subject is empty")
    }
    return RenderedLetter(subject: subject, text: body, html: html)
  }
}

/// The values a letter's templates see (the schema above, filled).
enum LetterContext {
  static func values(_ l: Letter) -> TemplateValue {
    let lang = l.language
    func money(_ m: Money) -> TemplateValue { .text(m.formatted(language: lang)) }
    func date(_ d: CalendarDate) -> TemplateValue { .text(d.formatted(language: lang)) }
    func invoice(_ i: Invoice) -> TemplateValue {
      var v: [String: TemplateValue] = [
        "number": .text(i.number), "issued": date(i.issued), "due": date(i.due),
        "amount": money(i.amount), "paid": money(i.paid), "outstanding": money(i.outstanding),
        "partlyPaid": .flag(i.paid.cents > 0), "pdf": .text((i.pdf as NSString).lastPathComponent),
      ]
      if let r = i.reference { v["reference"] = .text(r) }
      return .object(v)
    }
    let s = l.sender
    var company: [String: TemplateValue] = [
      "name": .text(s.name), "email": .text(s.replyTo ?? s.email),
      "iban": .text(formatIBAN(s.iban)),
      "accountHolder": .text(s.accountHolder),
      "address": .list(s.address.map { .object(["line": .text($0)]) }),
    ]
    for (k, v) in [
      ("phone", s.phone), ("bic", s.bic), ("kvk", s.kvk), ("btw", s.btw), ("website", s.website),
      ("signature", s.signature),
    ] {
      if let v, !v.isEmpty { company[k] = .text(v) }
    }
    var v: [String: TemplateValue] = [
      "salutation": .text(l.salutation), "customer": .text(l.first.customer),
      "numbers": .text(l.numbersText), "count": .text(String(l.invoices.count)),
      "total": money(l.total), "deadline": date(l.deadline), "termDays": .text(String(l.termDays)),
      "date": date(l.date),
      "paymentReference": .text(
        l.invoices.count == 1 ? (l.first.reference ?? l.first.number) : l.numbersText),
      "single": .flag(l.invoices.count == 1), "multiple": .flag(l.invoices.count > 1),
      "consumer": .flag(l.kind == .consumer), "business": .flag(l.kind == .business),
      "resend": .flag(l.isResend),
      "partlyPaid": .flag(l.invoices.contains { $0.paid.cents > 0 }),
      "costsIncludeVAT": .flag(l.costsIncludeVAT),
      "invoice": invoice(l.first), "invoices": .list(l.invoices.map(invoice)),
      "company": .object(company),
    ]
    if let c = l.first.contact, !c.isEmpty { v["contact"] = .text(c) }
    if let f = l.firstSentOn { v["firstSentOn"] = date(f) }
    if let c = l.costs {
      v["costs"] = money(c)
      v["totalWithCosts"] = money(l.total + c)
    }
    return .object(v)
  }

  /// `NL91 ABNA 0417 1643 00`.
  static func formatIBAN(_ iban: String) -> String {
    var out = ""
    for (i, c) in iban.enumerated() {
      if i > 0 && i % 4 == 0 { out.append(" ") }
      out.append(c)
    }
    return out
  }
}
