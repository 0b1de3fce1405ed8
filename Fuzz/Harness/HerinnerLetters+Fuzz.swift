// Compiled into the HerinnerLetters module by scripts/fuzz only (never by SwiftPM), so that the
// fuzz target reaches the template engine's internals. Arbitrary bytes may be refused with a
// TemplateError but must never trap, hang or exhaust memory.
import HerinnerCore

public enum FuzzLetters {
  /// A sample context with every shape the schema has: text, flags, objects and lists.
  static let root: TemplateValue = {
    let invoice: TemplateValue = .object([
      "number": .text("2026-0101"), "amount": .text("€ 1.250,00"), "partlyPaid": .flag(false),
      "reference": .text("<PO & 7>"),
    ])
    return .object([
      "salutation": .text("Geachte heer Jansen,"), "customer": .text("Jansen & Zn."),
      "total": .text("€ 1.250,00"), "single": .flag(true), "multiple": .flag(false),
      "invoice": invoice, "invoices": .list([invoice, invoice]), "none": .list([]),
      "company": .object([
        "name": .text("Studio Vermeer B.V."),
        "address": .list([.object(["line": .text("Keizersgracht 1")])]),
      ]),
    ])
  }()

  /// The bytes up to the first NUL are the main template; each later NUL-separated piece is a
  /// partial, named `p`, `q`, `r`, … so that partials including partials (and themselves) occur.
  public static func templates(_ bytes: [UInt8]) {
    let pieces = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
      TemplateSet.normalizedLineEnds(String(decoding: $0, as: UTF8.self))
    }
    guard let main = pieces.first else { return }
    var partials: [String: CompiledTemplate] = [:]
    var broken: Set<String> = []
    for (n, body) in pieces.dropFirst().prefix(8).enumerated() {
      let name = String(UnicodeScalar(UInt8(ascii: "p") + UInt8(n)))
      if let t = try? CompiledTemplate(body) { partials[name] = t } else { broken.insert(name) }
    }
    guard let template = try? CompiledTemplate(main) else { return }
    var checker = TemplateChecker(
      file: "first.txt.mustache", partials: partials, brokenPartials: broken)
    checker.check(template)
    // As TemplateSet.load: only a template the checker accepts is ever rendered.
    guard checker.errors.isEmpty else { return }
    var renderer = TemplateRenderer(
      partials: partials, optionalRootNames: LetterSchema.optionalLeaves)
    _ = renderer.render(template, root: root, html: false)
    _ = renderer.render(template, root: root, html: true)
  }
}
