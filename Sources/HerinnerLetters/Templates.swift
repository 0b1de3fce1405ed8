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
      "due": .text(optional: false), "interestFrom": .text(optional: false),
      "amount": .text(optional: false), "paid": .text(optional: false),
      "outstanding": .text(optional: false),
      "partlyPaid": .flag, "reference": .text(optional: true), "pdf": .text(optional: false),
      "remindedOn": .text(optional: true),
    ], optional: false)

  static let root: [String: SchemaNode] = [
    "salutation": .text(optional: false), "customer": .text(optional: false),
    "contact": .text(optional: true),
    "numbers": .text(optional: false), "count": .text(optional: false),
    "total": .text(optional: false), "amountDue": .text(optional: false),
    "deadline": .text(optional: false), "termDays": .text(optional: false),
    "date": .text(optional: false),
    "daysOverdue": .text(optional: false), "longOverdue": .flag, "recentlyOverdue": .flag,
    "firstSentOn": .text(optional: true), "remindersPerInvoice": .flag,
    "costs": .text(optional: true), "costsBeforeVAT": .text(optional: true),
    "costsVAT": .text(optional: true), "vatPercent": .text(optional: false),
    "totalWithCosts": .text(optional: true), "minimumCosts": .text(optional: false),
    "claimCompensation": .flag, "waiveCompensation": .flag,
    "replaces": .text(optional: true), "replacing": .flag, "replacesSeveral": .flag,
    "paymentReference": .text(optional: false), "structuredReference": .text(optional: true),
    "paymentDescription": .text(optional: true),
    "single": .flag, "multiple": .flag,
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

  /// Optional values that are always present together: a section on the key guards the others.
  static let presentWith: [String: [String]] = [
    "costs": ["costsBeforeVAT", "totalWithCosts"],
    "costsVAT": ["costs", "costsBeforeVAT", "totalWithCosts"],
  ]

  /// Last components of optional paths: a miss on these at the root is a guarded section.
  static let optionalLeaves: Set<String> = [
    "contact", "firstSentOn", "costs", "costsBeforeVAT", "costsVAT", "totalWithCosts",
    "reference", "remindedOn", "replaces", "structuredReference", "paymentDescription",
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

/// Checks a parsed template's tags against the schema, with their lines. It walks the tree the
/// engine itself parsed (`CompiledTemplate`), so what it accepts is exactly what renders.
struct TemplateChecker {
  let file: String
  let partials: [String: CompiledTemplate]
  /// Partials that did not parse (already reported): not reported again as unknown.
  let brokenPartials: Set<String>
  var errors: [TemplateError] = []
  /// Partials walked so far. Each inclusion is walked (its scope differs), so partials that
  /// include others several times each would take exponential time: past the limit, refuse.
  var inclusions = 0
  static let maxInclusions = 10_000

  struct Scope {
    var node: SchemaNode
    var path: String
  }

  mutating func check(_ template: CompiledTemplate) {
    check(
      template.nodes,
      scopes: [Scope(node: .object(LetterSchema.root, optional: false), path: "")],
      guards: [], depth: 0, file: file)
  }

  mutating func check(
    _ nodes: [CompiledTemplate.Node], scopes: [Scope], guards: [String], depth: Int, file: String
  ) {
    func fail(_ m: String, _ l: Int) {
      errors.append(TemplateError(file: file, line: l, message: m))
    }
    for node in nodes {
      switch node {
      case .text, .contentType:
        continue
      case .partial(let name, _, let line):
        guard let body = partials[name] else {
          if !brokenPartials.contains(name) { fail("unknown partial \"\(name)\"", line) }
          continue
        }
        if depth > 8 {
          fail("partials nest too deeply", line)
          continue
        }
        inclusions += 1
        if inclusions > Self.maxInclusions {
          if inclusions == Self.maxInclusions + 1 {
            fail("partials are included more than \(Self.maxInclusions) times in all", line)
          }
          continue
        }
        check(
          body.nodes, scopes: scopes, guards: guards, depth: depth + 1,
          file: "partial \(name) (from \(file):\(line))")
      case .section(let path, let inverted, let body, let line):
        let name = path.joined(separator: ".")
        var inner = scopes
        var innerGuards = guards
        if let (node, full) = resolve(name, scopes) {
          if !inverted {
            switch node {
            case .list(let item): inner.append(Scope(node: item, path: full))
            case .object: inner.append(Scope(node: node, path: full))
            default: break
            }
            innerGuards.append(full)
            innerGuards += LetterSchema.presentWith[full] ?? []
          }
        } else if name != "." {
          fail("unknown section \"\(name)\"", line)
        }
        check(body, scopes: inner, guards: innerGuards, depth: depth, file: file)
      case .variable(let path, _, let line):
        let name = path.joined(separator: ".")
        if name == "." { continue }
        guard let (node, full) = resolve(name, scopes) else {
          fail("unknown variable \"\(name)\"", line)
          continue
        }
        switch node {
        case .list, .object: fail("\"\(name)\" is a list or object: use it as a section", line)
        case .flag: fail("\"\(name)\" is a yes/no flag: use it as a section", line)
        case .text(let optional):
          if optional && !guards.contains(full) {
            fail("\"\(name)\" may be absent: use it inside {{#\(name)}}…{{/\(name)}}", line)
          }
        }
      }
    }
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
        texts[String(f.dropLast(".mustache".count))] = normalizedLineEnds(s)
      }
      let mainFiles = Set(names.flatMap { ["\($0).txt", "\($0).html"] })
      var compiled: [String: CompiledTemplate] = [:]
      var broken: Set<String> = []
      for (name, body) in texts.sorted(by: { $0.key < $1.key }) where !mainFiles.contains(name) {
        do { compiled[name] = try CompiledTemplate(body) } catch {
          broken.insert(name)
          problems.append(
            Problem(
              file: (dir as NSString).appendingPathComponent(name + ".mustache"), line: error.line,
              message: error.message))
        }
      }
      set.partials[lang] = compiled
      /// Parses and checks one main template; nil (with its problems noted) when it is not usable.
      func checked(_ body: String, file: String) -> CompiledTemplate? {
        let template: CompiledTemplate
        do { template = try CompiledTemplate(body) } catch {
          problems.append(Problem(file: file, line: error.line, message: error.message))
          return nil
        }
        var checker = TemplateChecker(file: file, partials: compiled, brokenPartials: broken)
        checker.check(template)
        problems += checker.errors.map(\.problem)
        return checker.errors.isEmpty ? template : nil
      }
      for name in names {
        let textFile = (dir as NSString).appendingPathComponent("\(name).txt.mustache")
        guard let text = texts["\(name).txt"] else {
          problems.append(Problem(file: textFile, message: "missing template"))
          continue
        }
        var usable = true
        let firstLine = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        if !firstLine.hasPrefix("Subject:") {
          problems.append(
            Problem(file: textFile, line: 1, message: "the first line must be \"Subject: …\""))
          usable = false
        }
        let t = checked(text, file: textFile)
        var html: CompiledTemplate? = nil
        if let h = texts["\(name).html"] {
          html = checked(h, file: (dir as NSString).appendingPathComponent("\(name).html.mustache"))
          if html == nil { usable = false }
        }
        if let t, usable {
          set.templates["\(lang.rawValue)/\(name)"] = Pair(text: t, html: html, file: textFile)
        }
      }
    }
    if !problems.isEmpty { throw Problems(problems) }
    return set
  }

  /// Templates saved on Windows (CRLF), by an old Mac editor (CR) or with a UTF-8 BOM read as
  /// if saved with LF: the letter is the same, and the MIME composer writes CRLF itself.
  static func normalizedLineEnds(_ text: String) -> String {
    var s = text
    if s.hasPrefix("\u{FEFF}") { s.removeFirst() }
    guard s.utf8.contains(0x0D) else { return s }
    return s.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
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
        // Interest runs from the day after the due date (art. 6:119 lid 1, 6:119a lid 1 BW).
        "interestFrom": date(i.due.adding(days: 1)),
        "amount": money(i.amount), "paid": money(i.paid), "outstanding": money(i.outstanding),
        "partlyPaid": .flag(i.paid.cents > 0), "pdf": .text((i.pdf as NSString).lastPathComponent),
      ]
      if let r = i.reference { v["reference"] = .text(r) }
      if let r = l.remindedOn[i.number] { v["remindedOn"] = date(r) }
      return .object(v)
    }
    let s = l.sender
    var company: [String: TemplateValue] = [
      "name": .text(s.name), "email": .text(s.replyTo ?? s.email),
      "iban": .text(formatIBAN(s.iban)),
      "accountHolder": .text(s.accountHolder),
      "address": .list(s.address.map { .object(["line": .text($0)]) }),
    ]
    let phone = s.phone.map { lang == .en ? Letter.internationalPhone($0) : $0 }
    for (k, v) in [
      ("phone", phone), ("bic", s.bic), ("kvk", s.kvk), ("btw", s.btw), ("website", s.website),
      ("signature", s.signature),
    ] {
      if let v, !v.isEmpty { company[k] = .text(v) }
    }
    let multiple = l.invoices.count > 1
    var v: [String: TemplateValue] = [
      "salutation": .text(l.salutation), "customer": .text(l.first.customer),
      "numbers": .text(l.numbersText), "count": .text(String(l.invoices.count)),
      "total": money(l.total), "amountDue": money(l.amountDue),
      "deadline": date(l.deadline), "termDays": .text(String(l.termDays)),
      "date": date(l.date),
      "daysOverdue": .text(String(l.daysOverdue)), "longOverdue": .flag(l.isLongOverdue),
      "recentlyOverdue": .flag(!l.isLongOverdue),
      "remindersPerInvoice": .flag(multiple && !l.remindedOn.isEmpty),
      "vatPercent": .text(String(CollectionCosts.vatPercent)),
      "minimumCosts": money(
        Money(cents: CollectionCosts.minimum.cents, currency: l.first.currency)),
      "claimCompensation": .flag(l.claimsCompensation),
      "waiveCompensation": .flag(!l.claimsCompensation),
      "replacing": .flag(!l.replaces.isEmpty), "replacesSeveral": .flag(l.replaces.count > 1),
      "paymentReference": .text(l.structuredReference ?? l.paymentDescription ?? l.first.number),
      "single": .flag(!multiple), "multiple": .flag(multiple),
      "consumer": .flag(l.kind == .consumer), "business": .flag(l.kind == .business),
      "resend": .flag(l.isResend),
      "partlyPaid": .flag(l.invoices.contains { $0.paid.cents > 0 }),
      "costsIncludeVAT": .flag(l.costsIncludeVAT),
      "invoice": invoice(l.first), "invoices": .list(l.invoices.map(invoice)),
      "company": .object(company),
    ]
    if let c = l.first.contact, !c.isEmpty { v["contact"] = .text(c) }
    if let f = l.firstSentOn { v["firstSentOn"] = date(f) }
    if let r = l.structuredReference { v["structuredReference"] = .text(r) }
    if let d = l.paymentDescription { v["paymentDescription"] = .text(d) }
    if !l.replaces.isEmpty {
      v["replaces"] = .text(Letter.list(l.replaces.map { $0.formatted(language: lang) }, lang))
    }
    if let c = l.costs {
      v["costs"] = money(c)
      v["totalWithCosts"] = money(l.total + c)
      if let b = l.costsBeforeVAT { v["costsBeforeVAT"] = money(b) }
      if let t = l.costsVAT { v["costsVAT"] = money(t) }
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
