import Foundation
import Testing

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
