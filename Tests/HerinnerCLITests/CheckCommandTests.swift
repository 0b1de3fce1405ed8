import Foundation
import Testing

let invoiceFixtures = repoRoot + "/Tests/Fixtures/invoices"

@Suite struct CheckCommandTests {
  @Test func theBundledExampleIsValid() throws {
    let r = try herinner(["check", "--config", "config.example.json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("ok: 14 invoices"))
  }

  @Test func listsAllFiveProblemsWithLinesAndExitsTwo() throws {
    let ex = try ExampleCopy()
    ex.write(
      "Examples/invoices.csv",
      """
      number;customer;email;issued;due;amount;pdf
      2026-0201;"Inject\r\nBcc: all@example.com";a@b.nl;2026-10-01;2026-10-31;10,00;factuur-2026-0101.pdf
      2026-0202;Escape;a@b.nl;2026-10-01;2026-10-31;10,00;../../herinner.json
      2026-0203;Bad date;a@b.nl;2026-10-01;2026-02-30;10,00;factuur-2026-0101.pdf
      2026-0204;Dup;a@b.nl;2026-10-01;2026-10-31;10,00;factuur-2026-0101.pdf
      2026-0204;Dup;a@b.nl;2026-10-01;2026-10-31;10,00;factuur-2026-0101.pdf
      2026-0205;Bad amount;a@b.nl;2026-10-01;2026-10-31;tien euro;factuur-2026-0101.pdf

      """)
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    // The injected CR LF sits inside a quoted field: that record spans lines 2–3.
    #expect(r.status == 2)
    let lines = r.stderr.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.contains("invoices.csv:2: customer: control character") })
    #expect(
      lines.contains { $0.contains("invoices.csv:4: pdf: path leaves the attachments folder") })
    #expect(lines.contains { $0.contains("invoices.csv:5: due: not a date") })
    #expect(lines.contains { $0.contains("invoices.csv:6: number: duplicate invoice number") })
    #expect(lines.contains { $0.contains("invoices.csv:7: number: duplicate invoice number") })
    #expect(lines.contains { $0.contains("invoices.csv:8: amount: not an amount") })
  }

  // MARK: reading is exact or it refuses (the fixtures' rows name the example PDFs)

  /// The example administration with its invoice file replaced by a fixture.
  func exampleWith(_ fixture: String, as name: String = "invoices.csv") throws -> ExampleCopy {
    let ex = try ExampleCopy()
    let target = ex.path + "/Examples/" + name
    try? FileManager.default.removeItem(atPath: target)
    try FileManager.default.copyItem(atPath: invoiceFixtures + "/" + fixture, toPath: target)
    if name != "invoices.csv" {
      let text = try String(contentsOfFile: ex.config, encoding: .utf8)
        .replacingOccurrences(of: "Examples/invoices.csv", with: "Examples/" + name)
      ex.write("herinner.json", text)
    }
    return ex
  }

  @Test func anExcelForMacExportWithCRLineEndsChecksOK() throws {
    let ex = try exampleWith("cr-only.csv")
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("ok: 3 invoices"))
  }

  @Test(arguments: [
    ("header-only.csv", "no invoices: the file has a header but no rows", "0 row(s)"),
    (
      "extra-field.csv", "invoices.csv:3: 9 fields where the header has 8",
      "3 row(s): 2 invoice(s), 1 bad row(s)"
    ),
    (
      "unclosed-quote.csv", "invoices.csv:3: a quote (\") opened on this line is never closed",
      "5 row(s): 4 invoice(s), 1 bad row(s)"
    ),
    ("windows-1252.csv", "invoices.csv:2: customer: not valid UTF-8", "could not be read"),
  ])
  func aFileThatIsNotReadAsWrittenExitsTwo(_ fixture: String, _ problem: String, _ summary: String)
    throws
  {
    let ex = try exampleWith(fixture)
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stderr.contains(problem), "\(r.stderr)")
    #expect(r.stdout.contains(summary), "\(r.stdout)")
    #expect(!r.stdout.contains("ok:"))
  }

  @Test func everyRowBadExitsTwoAndCountsRowsNotProblems() throws {
    let ex = try ExampleCopy()
    ex.write(
      "Examples/invoices.csv",
      """
      number;customer;email;issued;due;amount;pdf
      2026-0401;A;not-an-address;gisteren;2026-10-31;tien;factuur-2026-0101.pdf
      2026-0402;B;b@example.nl;2026-10-01;2026-10-31;10,00;missing.pdf

      """)
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stderr.contains("no invoices: every one of the 2 rows is bad"))
    #expect(r.stdout.contains("2 row(s): 0 invoice(s), 2 bad row(s)"), "\(r.stdout)")
  }

  @Test func invoicesEncodingReadsAWindows1252Export() throws {
    let ex = try exampleWith("windows-1252.csv")
    let text = try String(contentsOfFile: ex.config, encoding: .utf8)
      .replacingOccurrences(
        of: "\"attachments\": \"Examples/pdf\"",
        with: "\"attachments\": \"Examples/pdf\", \"encoding\": \"windows-1252\"")
    ex.write("herinner.json", text)
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("ok: 2 invoices"))
    let s = try herinner(["status", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(s.stdout.contains("Caf\u{E9} De Fl\u{E8}che"), "\(s.stdout)")
  }

  /// `"amount": 1.250` is € 1,25; `12.505` is a bad row; a due date of 9999-12-31 is an ordinary
  /// date for `status` (it trapped).
  @Test func jsonNumbersAndASentinelDueDateEndToEnd() throws {
    let ex = try exampleWith("amounts.json", as: "invoices.json")
    let c = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(c.status == 2)
    #expect(c.stderr.contains("invoices.json:6: amount: more than two decimals"), "\(c.stderr)")
    #expect(c.stdout.contains("4 row(s): 3 invoice(s), 1 bad row(s)"), "\(c.stdout)")
    let s = try herinner(["status", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(s.status == 0, "\(s.stderr)")
    let lines = s.stdout.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix("2026-0341") && $0.contains("\u{20AC} 1,25 ") })
    #expect(lines.contains { $0.hasPrefix("2026-0342") && $0.contains("\u{20AC} 1.249,50") })
    #expect(lines.contains { $0.hasPrefix("2026-0344") && $0.contains("10000-01-07") })
    let j = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(j.status == 0, "\(j.stderr)")
  }

  @Test func anUnknownConfigKeyExitsTwoNamingIt() throws {
    let ex = try ExampleCopy()
    let text = try String(contentsOfFile: ex.config, encoding: .utf8)
      .replacingOccurrences(of: "\"caFile\": null", with: "\"caFile\": null, \"passwrd\": \"x\"")
    ex.write("herinner.json", text)
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stderr.contains("smtp.passwrd: unknown key"))
  }

  @Test func aMissingRequiredColumnExitsTwo() throws {
    let ex = try ExampleCopy()
    ex.write(
      "Examples/invoices.csv",
      "number;customer;email;issued;due;pdf\n1;A;a@b.nl;2026-01-01;2026-02-01;factuur-2026-0101.pdf\n"
    )
    let r = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stderr.contains("amount: required column \"amount\" missing"))
  }

  @Test func aMissingConfigExitsTwo() throws {
    let r = try herinner(["check", "--config", "/nonexistent/herinner.json"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("cannot read the config file"))
  }

  @Test func versionHelpAndUsageErrors() throws {
    let v = try herinner(["--version"])
    #expect(v.status == 0)
    #expect(v.stdout.contains("herinner"))
    let h = try herinner(["--help"])
    #expect(h.status == 0)
    for command in ["check", "status", "calls", "call", "history"] {
      #expect(h.stdout.contains(command), "help lists \(command)")
    }
    #expect(try herinner(["frobnicate"]).status == 64)
    #expect(try herinner(["status", "--date", "gisteren"]).status == 64)
    #expect(try herinner(["call", "2026-0101"]).status == 64)  // --note is required
  }
}
