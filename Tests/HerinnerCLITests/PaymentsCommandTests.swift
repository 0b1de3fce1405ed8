import Foundation
import HerinnerTestSupport
import Testing

let statementFixtures = repoRoot + "/Tests/Fixtures/statements"

@Suite(.serialized) struct PaymentsCommandTests {
  /// A statement imported in the morning stops that night's reminder.
  @Test func aPaymentImportedInTheMorningStopsTonightsReminder() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    let imp = try herinner(
      ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
      in: ex.path)
    #expect(imp.status == 0, "\(imp.stderr)")
    #expect(imp.stdout.contains("2 matched"))
    let r = try ex.send("2026-12-01")
    #expect(r.status == 0, "\(r.stderr)")
    let subjectsSent = subjects(server)
    #expect(!subjectsSent.contains { $0.contains("2026-0101") }, "paid by bank: no reminder")
    #expect(
      !subjectsSent.contains { $0.contains("2026-0113") }, "paid by betalingskenmerk: no reminder")
    #expect(subjectsSent.contains("Herinnering: factuur 2026-0102"))
    #expect(r.stdout.contains("sent 4"))
  }

  @Test func reimportsCountNothingTwice() throws {
    let ex = try ExampleCopy()
    #expect(
      try herinner(
        ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let again = try herinner(
      ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
      in: ex.path)
    #expect(again.stdout.contains("already imported"))
    // An overlapping file (same entries, another file): the entries are known by their bank reference.
    let overlap = ex.path + "/overlap.xml"
    let text = try String(contentsOfFile: statementFixtures + "/ing-camt053.xml", encoding: .utf8)
      .replacingOccurrences(of: "ING-20261201-0001", with: "ING-20261201-0002")
    try text.write(toFile: overlap, atomically: true, encoding: .utf8)
    let o = try herinner(["payments", "import", overlap, "--config", ex.config], in: ex.path)
    #expect(o.stdout.contains("2 incoming credit(s), 0 new"))
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(!s.stdout.contains("\"number\" : \"2026-0101\""), "settled once, not twice")
  }

  @Test func malformedStatementsExitTwoAndImportNothing() throws {
    let ex = try ExampleCopy()
    for f in ["truncated.xml", "wrong-namespace.xml", "bad-amount.xml"] {
      let r = try herinner(
        ["payments", "import", statementFixtures + "/" + f, "--config", ex.config], in: ex.path)
      #expect(r.status == 2, "\(f)")
      #expect((r.stdout + r.stderr).contains("nothing imported"))
    }
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-01"], in: ex.path)
    #expect(
      s.stdout.contains("\"number\" : \"2026-0101\""),
      "bad-amount.xml also names 2026-0101: nothing of it applied")
  }

  @Test func anUnmatchedPaymentHoldsTheCustomerUntilResolved() throws {
    let ex = try ExampleCopy()
    #expect(
      try herinner(
        [
          "payments", "import", statementFixtures + "/abnamro-camt053-v8.xml", "--config",
          ex.config,
        ], in: ex.path
      ).status == 0)
    let u = try herinner(["payments", "unmatched", "--config", ex.config], in: ex.path)
    #expect(u.stdout.contains("€ 500,00") && u.stdout.contains("M. de Vries"))
    let dry = try ex.send("2026-12-02", ["--dry-run"])
    #expect(
      !dry.stdout.contains("2026-0108"),
      "held: no reminder while a payment of this customer is unresolved")
    let id = u.stdout.components(separatedBy: "#")[1].prefix { $0.isNumber }
    #expect(
      try herinner(
        ["payments", "resolve", String(id), "--invoice", "2026-0108", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-02"], in: ex.path)
    #expect(s.stdout.contains("\"outstanding\" : \"500.00\""))
  }

  @Test func aStaleStatementStopsTheRunWhenPaymentsAreRequired() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ex.config)))
      as! [String: Any]
    c["payments"] = ["required": true, "maxAgeDays": 3]
    try JSONSerialization.data(withJSONObject: c).write(to: URL(fileURLWithPath: ex.config))
    let none = try ex.send("2026-12-01")
    #expect(none.status == 2)
    #expect(none.stderr.contains("no bank statement"))
    #expect(
      try herinner(
        ["payments", "import", statementFixtures + "/ing-camt053.xml", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let stale = try ex.send("2026-12-04")  // statement of 30 November: 4 days old
    #expect(stale.status == 2)
    #expect(stale.stderr.contains("2026-11-30"))
    #expect(server.received().isEmpty)
    let fresh = try ex.send("2026-12-03")
    #expect(fresh.status == 0, "\(fresh.stderr)")
  }

  @Test func importFromFolderAtTheStartOfSend() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    try FileManager.default.createDirectory(
      atPath: ex.path + "/bank", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: statementFixtures + "/ing-mt940.sta", toPath: ex.path + "/bank/ing.sta")
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ex.config)))
      as! [String: Any]
    c["payments"] = ["required": true, "importFrom": "bank"]
    try JSONSerialization.data(withJSONObject: c).write(to: URL(fileURLWithPath: ex.config))
    let r = try ex.send("2026-12-02")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!subjects(server).contains { $0.contains("2026-0102") })
  }

  @Test func referencePrintsAValidBetalingskenmerk() throws {
    let r = try herinner(["reference", "2026-0113", "--config", "config.example.json"])
    #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "8000000020260113")
    #expect(try herinner(["reference", "9999", "--config", "config.example.json"]).status == 2)
  }
}
