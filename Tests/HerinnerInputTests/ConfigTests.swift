import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

let minimalConfig = """
  {
    "company": { "name": "Studio Vermeer B.V.", "email": "administratie@studiovermeer.nl",
                 "iban": "NL91ABNA0417164300" },
    "invoices": { "path": "invoices.csv", "attachments": "pdf" },
    "smtp": { "url": "smtp://127.0.0.1:2525", "security": "none" }
  }
  """

func parseConfig(_ text: String, folder: String = "/srv/admin") throws(Problems) -> Config {
  try Config.parse(bytes: Array(text.utf8), file: "herinner.json", folder: folder)
}

func problems(_ text: String) -> [String] {
  do {
    _ = try parseConfig(text)
    return []
  } catch {
    return error.all.map(\.description)
  }
}

@Suite struct ConfigTests {
  @Test func theBundledExampleLoadsWithDefaults() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent()
    let c = try Config.load(path: root.appendingPathComponent("config.example.json").path)
    #expect(c.company.name == "Studio Vermeer B.V.")
    #expect(c.invoices.path == root.appendingPathComponent("Examples/invoices.csv").path)
    #expect(c.smtp.security == .starttls)
    #expect(c.smtp.port == 587)
    #expect(c.policy.secondReminderDaysAfterFirst == 14)
    #expect(c.policy.minimumOutstanding.cents == 500)
    #expect(c.timezone.identifier == "Europe/Amsterdam")
  }

  @Test func pathsResolveAgainstTheConfigFolder() throws {
    let c = try parseConfig(minimalConfig)
    #expect(c.invoices.path == "/srv/admin/invoices.csv")
    #expect(c.invoices.attachments == "/srv/admin/pdf")
    #expect(c.ledger == "/srv/admin/herinner.sqlite")
    #expect(c.templates == "/srv/admin/Templates")
  }

  @Test func unknownKeyIsNamedByItsPath() {
    let text = minimalConfig.replacingOccurrences(
      of: "\"security\": \"none\"", with: "\"security\": \"none\", \"passwrd\": \"x\"")
    let p = problems(text)
    #expect(p.count == 1)
    #expect(p.first?.contains("smtp.passwrd: unknown key") == true)
    #expect(p.first?.hasPrefix("herinner.json:5:") == true)
  }

  @Test func wrongTypesAreNamed() {
    let text = minimalConfig.replacingOccurrences(
      of: "\"security\": \"none\"",
      with: "\"security\": \"none\", \"connections\": \"two\", \"timeoutSeconds\": 1.5")
    let p = problems(text).joined(separator: "\n")
    #expect(p.contains("smtp.connections: expected a whole number, found a string"))
    #expect(p.contains("smtp.timeoutSeconds: expected a whole number"))
  }

  @Test func aPasswordInTheFileIsRefused() {
    let text = minimalConfig.replacingOccurrences(
      of: "\"security\": \"none\"", with: "\"security\": \"none\", \"password\": \"geheim\"")
    let p = problems(text).joined(separator: "\n")
    #expect(p.contains("smtp.password: secrets never go in the config file"))
    #expect(!p.contains("geheim"))
  }

  @Test func plaintextOnlyToLoopback() {
    let text = minimalConfig.replacingOccurrences(
      of: "smtp://127.0.0.1:2525", with: "smtp://mail.example.nl:25")
    #expect(
      problems(text).joined().contains(
        "smtp.security: \"none\" (no TLS) is only allowed to a loopback address"))
  }

  @Test func missingSectionsAndBadValues() {
    let p = problems(
      """
      { "company": { "name": "X", "email": "not-an-address", "iban": "NL00ABNA0417164300" },
        "policy": { "businessDaysOnly": "yes", "minimumOutstanding": "vijf" },
        "timezone": "Mars/Olympus" }
      """
    ).joined(separator: "\n")
    #expect(p.contains("company.email: not a valid email address"))
    #expect(p.contains("company.iban: not a valid IBAN"))
    #expect(p.contains("invoices: missing (required)"))
    #expect(p.contains("smtp: missing (required)"))
    #expect(p.contains("policy.businessDaysOnly: expected true or false"))
    #expect(p.contains("policy.minimumOutstanding: not an amount"))
    #expect(p.contains("timezone: unknown time zone"))
  }

  /// A JSON number in the config is a number: `5.000` is € 5,00 (not five thousand).
  @Test(
    arguments: [
      ("5.000", 500), ("5", 500), ("5.00", 500), ("12.5", 1250), ("0", 0), ("\"5,00\"", 500),
      ("\"1.000,00\"", 100_000),
    ] as [(String, Int64)])
  func minimumOutstandingIsReadExactly(_ literal: String, _ cents: Int64) throws {
    let text = minimalConfig.replacingOccurrences(
      of: "\"invoices\":",
      with: "\"policy\": { \"minimumOutstanding\": \(literal) },\n  \"invoices\":")
    #expect(try parseConfig(text).policy.minimumOutstanding.cents == cents)
  }

  @Test(arguments: [
    ("5.001", "more than two decimals"), ("\"5,001\"", "ambiguous amount"),
    ("-1", "must not be negative"),
  ])
  func minimumOutstandingRefusesWhatIsNotExact(_ literal: String, _ message: String) {
    let text = minimalConfig.replacingOccurrences(
      of: "\"invoices\":",
      with: "\"policy\": { \"minimumOutstanding\": \(literal) },\n  \"invoices\":")
    let p = problems(text)
    #expect(p.count == 1)
    #expect(
      p.first?.hasPrefix("herinner.json:4: policy.minimumOutstanding: \(message)") == true, "\(p)")
  }

  @Test(
    arguments: [
      (nil, InvoiceEncoding.utf8), ("utf-8", .utf8), ("UTF-8", .utf8),
      ("windows-1252", .windows1252), ("Windows-1252", .windows1252),
    ] as [(String?, InvoiceEncoding)])
  func invoicesEncoding(_ value: String?, _ expected: InvoiceEncoding) throws {
    let text = minimalConfig.replacingOccurrences(
      of: "\"attachments\": \"pdf\"",
      with: "\"attachments\": \"pdf\"" + (value.map { ", \"encoding\": \"\($0)\"" } ?? ""))
    #expect(try parseConfig(text).invoices.encoding == expected)
  }

  @Test func anUnknownEncodingIsNamed() {
    let text = minimalConfig.replacingOccurrences(
      of: "\"attachments\": \"pdf\"", with: "\"attachments\": \"pdf\", \"encoding\": \"latin-9\"")
    #expect(
      problems(text) == [
        "herinner.json:4: invoices.encoding: must be \"utf-8\" or \"windows-1252\", found \"latin-9\""
      ])
  }

  @Test func invalidJSONNamesTheLine() {
    let p = problems("{\n \"company\": {,\n}")
    #expect(p.first?.hasPrefix("herinner.json:2: invalid JSON") == true)
  }

  @Test func unknownColumnMappingField() {
    let text = minimalConfig.replacingOccurrences(
      of: "\"attachments\": \"pdf\"",
      with: "\"attachments\": \"pdf\", \"columns\": {\"nummer\": \"Factuurnummer\"}")
    #expect(problems(text).joined().contains("invoices.columns.nummer: unknown invoice field"))
  }

  @Test(arguments: [
    ("smtp://mail.example.nl", "mail.example.nl", 587),
    ("smtps://mail.example.nl", "mail.example.nl", 465),
    ("smtp://127.0.0.1:2525/ehlo", "127.0.0.1", 2525), ("smtp://[::1]:25", "[::1]", 25),
  ])
  func smtpURLs(_ url: String, _ host: String, _ port: Int) throws {
    let r = try #require(Config.parseSMTPURL(url))
    #expect(r.1 == host)
    #expect((r.2 ?? (r.0 == "smtps" ? 465 : 587)) == port)
  }

  @Test(arguments: ["NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "DE89370400440532013000"])
  func validIBANs(_ iban: String) { #expect(IBAN.isValid(iban)) }

  @Test(arguments: ["NL92ABNA0417164300", "NL91", "NL91ABNA04171643!0"])
  func invalidIBANs(_ iban: String) { #expect(!IBAN.isValid(iban)) }
}

@Suite struct JSONParserTests {
  @Test func keepsNumberTextAndLines() throws {
    let n = try JSONParser.parse(Array("[\n {\"a\": 1234.56,\n  \"b\": \"z\\u00EBe\"}\n]".utf8))
    guard case .array(let items) = n.value, case .object(let m) = items[0].value else {
      Issue.record("not an array of objects")
      return
    }
    #expect(items[0].line == 2)
    #expect(m[0].value.value == .number("1234.56"))
    #expect(m[1].value.value == .string("zëe"))
    #expect(m[1].value.line == 3)
  }

  @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "[1] x", "{\"a\":\"\u{01}\"}"])
  func refusesBadJSON(_ text: String) {
    #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
  }
}

@Suite struct InterestRateFileTests {
  @Test func theShippedTableEqualsTheBuiltInOne() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent()
    let t = try InterestRateFile.load(
      path: root.appendingPathComponent("Data/wettelijke-rente.csv").path)
    #expect(t == InterestTable.builtIn)
  }

  @Test func badRowsAreNamed() {
    #expect {
      try InterestRateFile.parse(
        "from;consumer;commercial\n2027-01-01;vier;10\n", file: "rente.csv")
    } throws: {
      ($0 as? Problems)?.all.first?.description == "rente.csv:2: expected from;consumer;commercial"
    }
  }
}
