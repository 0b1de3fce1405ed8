import Foundation
import HerinnerCore
import Mustache
import Testing

@testable import HerinnerLetters

/// herinner's template engine against swift-mustache, the reference implementation it replaced:
/// the same template and the same values must give the same bytes.
@Suite struct TemplateEngineTests {
  /// The reference rendering: swift-mustache with the values as plain Swift dictionaries.
  static func reference(
    _ template: String, _ value: TemplateValue, partials: [String: String] = [:], text: Bool
  ) throws -> String {
    var library = MustacheLibrary()
    for (name, body) in partials { try library.register(body, named: name) }
    let t = try MustacheTemplate(string: (text ? "{{% CONTENT_TYPE: TEXT}}\n" : "") + template)
    return t.render(any(value), library: library)
  }

  static func any(_ v: TemplateValue) -> Any {
    switch v {
    case .text(let s): return s
    case .flag(let b): return b
    case .object(let m): return m.mapValues { any($0) }
    case .list(let items): return items.map { any($0) }
    }
  }

  static func ours(
    _ template: String, _ value: TemplateValue, partials: [String: String] = [:], text: Bool
  ) throws -> String {
    var renderer = TemplateRenderer(
      partials: try partials.mapValues { try CompiledTemplate($0) }, optionalRootNames: [])
    return renderer.render(try CompiledTemplate(template), root: value, html: !text)
  }

  static let values: TemplateValue = .object([
    "name": .text("Jansen"), "empty": .text(""), "yes": .flag(true), "no": .flag(false),
    "list": .list([.object(["n": .text("een")]), .object(["n": .text("twee")])]),
    "none": .list([]),
    "inner": .object(["deep": .object(["x": .text("diep")]), "y": .text("ipsilon")]),
  ])

  /// Standalone lines, indentation, whitespace around tags, CRLF, end of file without newline.
  @Test(arguments: [
    "Hallo {{name}}!\n",
    "{{#yes}}\nja\n{{/yes}}\n{{^no}}\nnee\n{{/no}}\neind",
    "  {{#yes}}\n  ingesprongen\n  {{/yes}}\n",
    "a {{#yes}}b{{/yes}} c\n  {{#no}}x{{/no}}  \nd",
    "{{#list}}\n- {{n}} ({{name}})\n{{/list}}\n{{^none}}\ngeen\n{{/none}}",
    "{{#list}}{{n}}, {{/list}}\n{{#none}}nooit{{/none}}",
    "{{inner.deep.x}} {{inner.y}} {{#inner}}{{y}} {{name}}{{/inner}} {{inner.nope}}.",
    "  {{! een opmerking }}\nregel\n{{! inline }} na\nx {{! midden }} y\n",
    "begin\n  {{> p}}\neind\n",
    "{{#yes}}\n    {{> p}}\n{{/yes}}\n",
    "voor {{> p}} na\n",
    "r1\r\n{{#yes}}\r\nr2\r\n{{/yes}}\r\nr3",
    "{{#empty}}[{{.}}]{{/empty}}{{^empty}}leeg{{/empty}}|{{#name}}<{{.}}>{{/name}}",
    "laatste regel zonder newline {{name}}",
    "{{#yes}}\n{{/yes}}",
    "\t{{#list}}\t\n\t{{n}}\n\t{{/list}}\t\n",
    "{{{name}}} {{&name}} {{ name }}\n",
    "{{#no}}\nweg\n{{/no}}\n   \n{{name}}   \n",
  ])
  func sameBytesAsSwiftMustache(_ template: String) throws {
    let partials = ["p": "een\n{{name}}\n  {{#yes}}\n  ja {{> q}}\n  {{/yes}}\n", "q": "q{{name}}"]
    for text in [true, false] {
      let expected = try Self.reference(template, Self.values, partials: partials, text: text)
      let got = try Self.ours(template, Self.values, partials: partials, text: text)
      #expect(
        got == expected, "text=\(text)\n--- swift-mustache:\n\(expected)\n--- herinner:\n\(got)")
    }
  }

  /// Every shipped template, with letters that take every branch: the bytes match the reference
  /// (values without HTML specials: swift-mustache escapes them in text partials, see below).
  @Test func everyShippedTemplateRendersAsTheReferenceDoes() throws {
    // Every step, kind, language, VAT, compensation policy, replacing letter and opening.
    let letters = LetterWordingTests.everyLetter()
    let folder = repoRoot + "/Templates"
    var compared = 0
    for l in letters {
      let dir = folder + "/" + l.language.rawValue
      let files = try FileManager.default.contentsOfDirectory(atPath: dir)
      var partials: [String: String] = [:]
      for f in files where f.hasSuffix(".mustache") {
        let name = String(f.dropLast(".mustache".count))
        if !TemplateSet.names.contains(where: { name == "\($0).txt" || name == "\($0).html" }) {
          partials[name] = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
        }
      }
      let value = LetterContext.values(l)
      for (suffix, text) in [("txt", true), ("html", false)] {
        let path = "\(dir)/\(l.templateName).\(suffix).mustache"
        guard let body = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
        let expected = try Self.reference(body, value, partials: partials, text: text)
        let got = try Self.ours(body, value, partials: partials, text: text)
        #expect(got == expected, "\(path)")
        compared += 1
      }
    }
    #expect(compared >= 160)  // 128 text letters and the 32 first reminders with HTML
  }

  /// Where herinner deliberately differs: swift-mustache renders a partial as HTML even inside a
  /// plain-text template ("Jansen &amp; Zn" in the text of a letter); herinner keeps the
  /// including template's content type.
  @Test func aPartialInAPlainTextLetterIsNotHTMLEscaped() throws {
    var s = sender
    s.name = "Jansen & Zn <Bakkers>"
    s.accountHolder = "Jansen & Zn"
    let l = Letter.make(
      step: .first, invoices: [sampleInvoice()], sender: s, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil)
    let r = try templates().render(l)
    #expect(r.text.contains("T.n.v.:           Jansen & Zn\n"))
    #expect(r.text.contains("\nJansen & Zn <Bakkers>\n"))
    #expect(!r.text.contains("&amp;"))
    #expect(r.html?.contains("Jansen &amp; Zn &lt;Bakkers&gt;") == true)
  }

  @Test(arguments: [
    ("a\n{{#x}}\nb\n", 2, "\"x\" is never closed"), ("{{/x}}", 1, "never opened"),
    ("a\n\n{{#x}}{{/y}}", 3, "\"x\" is open"), ("{{=<% %>=}}", 1, "delimiters"),
    ("{{upper(name)}}", 1, "transforms"), ("x {{! open", 1, "unclosed comment"),
  ])
  func syntaxErrorsHaveALine(_ template: String, _ line: Int, _ message: String) {
    #expect {
      _ = try CompiledTemplate(template)
    } throws: { error in
      guard let e = error as? TemplateSyntaxError else { return false }
      return e.line == line && e.message.contains(message)
    }
  }
}
