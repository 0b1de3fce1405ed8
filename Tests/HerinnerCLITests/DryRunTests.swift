import Foundation
import Testing

@Suite struct DryRunTests {
  @Test func dryRunPrintsTonightsRemindersAndWritesNothing() throws {
    let ex = try ExampleCopy()
    let before = ex.files()
    let r = try herinner(
      ["send", "--dry-run", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(ex.files() == before, "a dry run creates no file")
    #expect(r.stdout.contains("Subject: Herinnering: factuur 2026-0101"))
    #expect(r.stdout.contains("Subject: Herinnering: facturen 2026-0111 en 2026-0112"))
    #expect(r.stdout.contains("Subject: Reminder: invoice 2026-0113"))
    #expect(r.stdout.contains("Attachment: factuur-2026-0101.pdf (application/pdf, 691 bytes)"))
    #expect(!r.stdout.contains("2026-0103"), "paid invoice must get nothing")
    #expect(r.stdout.contains("6 message(s) would be sent for 7 invoice(s)"))
  }

  @Test func withEmlTheJSONSummaryGoesToStderrTooLeavingTheMboxWhole() throws {
    let ex = try ExampleCopy()
    let r = try herinner(
      ["send", "--dry-run", "--eml", "--json", "--config", ex.config, "--date", "2026-12-01"],
      in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("From "))
    #expect(!r.stdout.contains("\"readyForCollection\""))
    #expect(r.stderr.contains("\"readyForCollection\""))
  }

  @Test func emlIsAnMboxPythonReadsWithoutDefects() throws {
    let ex = try ExampleCopy()
    let r = try herinner(
      ["send", "--dry-run", "--eml", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("would be sent"), "the summary goes to stderr")
    // A Unix mbox: LF line ends (mutt would show ^M after every header otherwise).
    #expect(!r.stdout.contains("\r"))
    let mbox = ex.path + "/out.mbox"
    FileManager.default.createFile(atPath: mbox, contents: Data(r.stdout.utf8))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", repoRoot + "/Tests/tools/parse_eml.py", "--mbox", mbox]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    let messages = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    #expect(messages.count == 6)
    for m in messages {
      #expect((m["defects"] as? [String]) == [], "\(m["subject"] ?? "")")
      #expect((m["bare_lf"] as? Int ?? 0) > 0, "LF line ends")
      #expect(m["bcc"] == nil || m["bcc"] is NSNull)
    }
    let zoe = messages.first { ($0["subject"] as? String)?.contains("2026-0111") == true }
    #expect(zoe?["to_name"] as? String == "Zoë Šimić-Ørsted")
    let pdfs = (zoe?["parts"] as? [[String: Any]] ?? []).filter {
      $0["type"] as? String == "application/pdf"
    }
    let original = try Data(
      contentsOf: URL(fileURLWithPath: ex.path + "/Examples/pdf/factuur-2026-0111.pdf"))
    #expect(pdfs.count == 2)
    #expect(pdfs.first?["size"] as? Int == original.count)
  }

  @Test func aWeekendSendsNothingAndSaysWhy() throws {
    let ex = try ExampleCopy()
    let r = try herinner(
      ["send", "--dry-run", "--config", ex.config, "--date", "2026-12-05"], in: ex.path)
    #expect(r.status == 0)
    #expect(r.stdout.contains("is not a business day (Saturday)"))
    #expect(r.stdout.contains("0 message(s) would be sent"))
  }

  @Test func invoiceAndLimitRestrictTheBatch() throws {
    let ex = try ExampleCopy()
    let one = try herinner(
      [
        "send", "--dry-run", "--invoice", "2026-0113", "--config", ex.config, "--date",
        "2026-12-01",
      ], in: ex.path)
    #expect(one.stdout.contains("1 message(s) would be sent"))
    let two = try herinner(
      ["send", "--dry-run", "--limit", "2", "--config", ex.config, "--date", "2026-12-01"],
      in: ex.path)
    #expect(two.stdout.contains("2 message(s) would be sent"))
  }

  @Test func aBrokenTemplateExitsTwoBeforeAnything() throws {
    let ex = try ExampleCopy()
    ex.write("Templates/nl/first.txt.mustache", "Subject: x\n\n{{bedrag}}\n")
    let r = try herinner(
      ["send", "--dry-run", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(r.status == 2)
    #expect(r.stderr.contains("first.txt.mustache:3: unknown variable \"bedrag\""))
    let c = try herinner(["check", "--config", ex.config], in: ex.path)
    #expect(c.status == 2)
  }
}
