import Foundation
import HerinnerCore
import HerinnerLedger
import HerinnerTestSupport
import Testing

extension ExampleCopy {
  /// Points the copy's config at a test server.
  func useServer(
    port: Int, security: String = "none", extra: [String: Any] = [:], policy: [String: Any] = [:]
  ) throws {
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config)))
      as! [String: Any]
    var smtp: [String: Any] = [
      "url": "smtp://127.0.0.1:\(port)", "security": security, "connections": 2,
      "timeoutSeconds": 20,
    ]
    for (k, v) in extra { smtp[k] = v }
    c["smtp"] = smtp
    var p = c["policy"] as? [String: Any] ?? [:]
    for (k, v) in policy { p[k] = v }
    c["policy"] = p
    try JSONSerialization.data(withJSONObject: c, options: [.prettyPrinted]).write(
      to: URL(fileURLWithPath: config))
  }

  func ledger() throws -> SQLiteLedger { try SQLiteLedger(path: path + "/Examples/herinner.sqlite") }

  /// A `send` left running in the background (to race or to kill).
  func startSend(_ date: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try herinnerBinary())
    p.arguments = ["send", "--config", config, "--date", date]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
  }

  func send(_ date: String, _ more: [String] = [], env: [String: String] = [:]) throws -> RunResult
  {
    try herinner(["send", "--config", config, "--date", date] + more, in: path, environment: env)
  }
}

/// Subjects of what the server received, in order.
func subjects(_ server: TestSMTPServer) -> [String] {
  server.received().map { m in
    let text = String(decoding: m.data.prefix(4000), as: UTF8.self)
    return text.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }.map {
      String($0.dropFirst(9))
    } ?? "?"
  }
}

func header(_ name: String, in data: [UInt8]) -> String? {
  let text = String(decoding: data.prefix(6000), as: UTF8.self)
  return text.components(separatedBy: "\r\n").first { $0.hasPrefix(name + ": ") }.map {
    String($0.dropFirst(name.count + 2))
  }
}

@Suite(.serialized) struct SendTests {
  /// The example administration walked through weeks of nightly runs.
  @Test func weeksOfNightlyRunsWalkTheLadder() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)

    let first = try ex.send("2026-12-01")
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("sent 6"))
    #expect(server.received().count == 6)
    #expect(subjects(server).contains("Herinnering: facturen 2026-0111 en 2026-0112"))
    // bcc never in headers; archive holds the exact bytes.
    let rows = try ex.ledger().deliveries()
    #expect(rows.count == 7 && rows.allSatisfy { $0.state == .sent })
    for r in rows {
      let archived = try #require(
        r.archivePath.flatMap { FileManager.default.contents(atPath: $0) })
      let received = server.received().first { header("Message-ID", in: $0.data) == r.messageID }
      #expect(
        received.map { Array(archived) == $0.data } == true,
        "archive equals what the server got for \(r.invoice)")
    }

    // Rerun the same night: nothing twice.
    let again = try ex.send("2026-12-01")
    #expect(again.status == 0)
    #expect(again.stdout.contains("sent 0"))
    #expect(server.received().count == 6)

    // A week later: the call list, and a logged call.
    let calls = try herinner(["calls", "--config", ex.config, "--date", "2026-12-08"], in: ex.path)
    #expect(calls.stdout.contains("2026-0101") && calls.stdout.contains("030 234 5678"))
    #expect(
      try herinner(
        [
          "call", "2026-0101", "--note", "Betaalt vrijdag", "--config", ex.config, "--date",
          "2026-12-08",
        ], in: ex.path
      ).status == 0)
    #expect(try ex.send("2026-12-08").stdout.contains("sent 0"))

    // Two weeks after the first: second reminders, threaded to the first.
    let second = try ex.send("2026-12-15")
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout.contains("sent 6"))
    let all = server.received()
    let zoeFirst = try #require(
      all.first { header("Message-ID", in: $0.data)?.contains("first.2026-0111+2026-0112") == true }
    )
    let zoeSecond = try #require(
      all.first {
        header("Message-ID", in: $0.data)?.contains("second.2026-0111+2026-0112") == true
      })
    #expect(header("In-Reply-To", in: zoeSecond.data) == header("Message-ID", in: zoeFirst.data))
    #expect(header("Subject", in: zoeSecond.data)?.hasPrefix("=?utf-8?") == false)
    let zoeText = String(decoding: zoeSecond.data, as: UTF8.self)
    #expect(
      zoeText.contains("=E2=82=AC 425,00"),
      "WIK over the summed principal: € 1.500 + € 1.500 → € 425")
    #expect(zoeText.contains("30 december 2026"))

    // Collection after the consumer's deadline (15 + 15 = 30 Dec) → from 31 Dec; business from 31 Dec (15 + 16).
    let status = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-31"], in: ex.path)
    #expect(status.stdout.contains("\"dueToday\" : \"collection\""))
    let export = try herinner(
      ["export", "--config", ex.config, "--date", "2026-12-31"], in: ex.path)
    #expect(export.status == 0, "\(export.stderr)")
    let csv = try String(
      contentsOfFile: ex.path + "/Examples/export/2026-12-31/dossiers.csv", encoding: .utf8)
    #expect(csv.contains("2026-0111;Zoë Šimić-Ørsted"))
    let dossier = try FileManager.default.contentsOfDirectory(
      atPath: ex.path + "/Examples/export/2026-12-31/2026-0111")
    #expect(dossier.contains("factuur-2026-0111.pdf"))
    #expect(dossier.filter { $0.hasSuffix(".eml") }.count == 2)
    // Only 2026-0109 (due 20 December) gets its first reminder; collection sends no email.
    let last = try ex.send("2026-12-31")
    #expect(last.stdout.contains("sent 1"))
    #expect(subjects(server).last == "Herinnering: factuur 2026-0109")
  }

  @Test func rejectedIsReportedAndNotRetried() throws {
    let server = try TestSMTPServer(["--reject-rcpt", "korenschoof"])
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    let r = try ex.send("2026-12-01")
    #expect(r.status == 1)
    #expect(r.stdout.contains("sent 5, deferred 0, rejected 1"))
    #expect(r.stderr.contains("2026-0101") && r.stderr.contains("User unknown"))
    let again = try ex.send("2026-12-02")
    #expect(again.stdout.contains("sent 0"))
    #expect(again.status == 1, "a rejected delivery keeps needing attention")
    #expect(try ex.ledger().deliveries(invoice: "2026-0101").map(\.state) == [.rejected])
  }

  @Test func deferredIsRetriedNextRun() throws {
    let ex = try ExampleCopy()
    do {
      let server = try TestSMTPServer(["--defer-data"])
      try ex.useServer(port: server.port)
      let r = try ex.send("2026-12-01")
      #expect(r.status == 1)
      #expect(r.stdout.contains("sent 0, deferred 6"))
    }
    let server = try TestSMTPServer()
    try ex.useServer(port: server.port)
    let r = try ex.send("2026-12-02")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("sent 6"))
    #expect(server.received().count == 6)
  }

  @Test func serverDownExitsFourAndMarksNothing() throws {
    let ex = try ExampleCopy()
    try ex.useServer(port: try freePort())
    let r = try ex.send("2026-12-01")
    #expect(r.status == 4, "\(r.stderr)")
    #expect(r.stderr.contains("nothing sent, nothing marked"))
    #expect(try ex.ledger().deliveries().isEmpty)
  }

  @Test func wrongPasswordExitsFourAndNeverPrintsIt() throws {
    let server = try TestSMTPServer(["--tls", "starttls", "--auth", "herinner:juist"])
    let ex = try ExampleCopy()
    try ex.useServer(
      port: server.port, security: "starttls",
      extra: ["username": "herinner", "passwordEnv": "TEST_SMTP_PW", "caFile": server.caFile!])
    let r = try ex.send("2026-12-01", env: ["TEST_SMTP_PW": "onjuist-geheim"])
    #expect(r.status == 4)
    #expect(!(r.stdout + r.stderr).contains("onjuist-geheim"))
    #expect(server.received().isEmpty)
    let ok = try ex.send("2026-12-01", env: ["TEST_SMTP_PW": "juist"])
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(server.received().count == 6)
    // The variable unset: a config problem before connecting (exit 2), nothing is marked.
    let before = try ex.ledger().deliveries().count
    let missing = try ex.send("2026-12-15", env: ["TEST_SMTP_PW": ""])
    #expect(missing.status == 2, "\(missing.stderr)")
    #expect(server.received().count == 6, "no session was opened")
    #expect(missing.stderr.contains("TEST_SMTP_PW is not set"))
    #expect(try ex.ledger().deliveries().count == before, "nothing marked")
  }

  @Test func aSecondSendOnTheSameLedgerExitsThree() throws {
    let server = try TestSMTPServer(["--delay", "1.0"])
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port, extra: ["connections": 1])
    let p = try ex.startSend("2026-12-01")
    Thread.sleep(forTimeInterval: 1.5)
    let second = try ex.send("2026-12-01")
    #expect(second.status == 3)
    #expect(
      second.stderr.contains("holds the lock")
        && second.stderr.contains("pid \(p.processIdentifier)"))
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(server.received().count == 6)
  }

  /// kill -9 at many points of a batch, then rerun: every due invoice received exactly once, or
  /// reported unknown and received at most once. Never twice.
  @Test(arguments: [0.3, 0.9, 1.6, 2.4, 3.1])
  func aCrashAtAnyMomentNeverCausesADuplicateOrASilentGap(_ after: Double) throws {
    let server = try TestSMTPServer(["--delay", "0.5"])
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port, extra: ["connections": 1])
    let p = try ex.startSend("2026-12-01")
    Thread.sleep(forTimeInterval: after)
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()

    let rerun = try ex.send("2026-12-01")
    let rows = try ex.ledger().deliveries()
    let unknown = Set(rows.filter { $0.state == .unknown }.map(\.messageID))
    if !unknown.isEmpty {
      #expect(rerun.status == 1)
      #expect(rerun.stderr.contains("unknown"))
    }
    var received: [String: Int] = [:]
    for m in server.received() {
      received[header("Message-ID", in: m.data) ?? "?", default: 0] += 1
    }
    // Each invoice that was due: exactly one live delivery.
    let due = [
      "2026-0101", "2026-0102", "2026-0108", "2026-0111", "2026-0112", "2026-0113", "2026-0114",
    ]
    for n in due {
      let live = rows.filter { $0.invoice == n && ($0.state == .sent || $0.state == .unknown) }
      #expect(live.count == 1, "invoice \(n): \(live.map(\.state))")
      if let l = live.first {
        let count = received[l.messageID] ?? 0
        if l.state == .sent {
          #expect(count == 1, "invoice \(n) sent: received \(count)×")
        } else {
          #expect(count <= 1)
        }
      }
    }
    // No subject arrived twice.
    let subjectsSeen = subjects(server)
    #expect(Set(subjectsSeen).count == subjectsSeen.count, "\(subjectsSeen)")
  }

  @Test func resolveAndResend() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    #expect(try ex.send("2026-12-01").status == 0)

    // Resend the first reminder of 2026-0101 to another address: threaded, a resend, not a step.
    let r = try herinner(
      [
        "resend", "2026-0101", "--to", "boekhouding@korenschoof.example.nl", "--config", ex.config,
        "--date", "2026-12-03",
      ], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    let last = try #require(server.received().last)
    #expect(last.to == ["boekhouding@korenschoof.example.nl"])
    let original = try ex.ledger().deliveries(invoice: "2026-0101").first { !$0.isResend }
    #expect(header("In-Reply-To", in: last.data) == original?.messageID)
    #expect(header("Auto-Submitted", in: last.data) == nil)
    #expect(
      String(decoding: last.data, as: UTF8.self).contains("10 december 2026"),
      "re-rendered for today: new deadline")
    let rows = try ex.ledger().deliveries(invoice: "2026-0101")
    #expect(rows.map(\.isResend) == [false, true])
    // The schedule does not move: second still 14 days after the original first.
    let s = try herinner(
      ["status", "--json", "--config", ex.config, "--date", "2026-12-15"], in: ex.path)
    #expect(s.stdout.contains("\"dueToday\" : \"second\""))

    // Refusals.
    #expect(
      try herinner(
        ["resend", "2026-0101", "--stage", "second", "--config", ex.config], in: ex.path
      ).status == 2)
    #expect(try herinner(["resend", "2026-0109", "--config", ex.config], in: ex.path).status == 2)
    #expect(try herinner(["resend", "9999", "--config", ex.config], in: ex.path).status == 2)
    #expect(
      try herinner(
        ["resolve", "2026-0101", "--stage", "first", "--sent", "--config", ex.config], in: ex.path
      ).status == 2)

    // An unknown delivery: reported until resolved; --not-sent makes the step due again.
    let ledger = try ex.ledger()
    try ledger.begin(
      NewAttempt(
        messageKey: "k1", invoices: ["2026-0109"], step: .first, isResend: false,
        runDate: CalendarDate(parsing: "2026-12-28")!, deadline: nil, costs: nil,
        recipients: ["x@y.nl"], messageID: "<k1@studiovermeer.nl>", inReplyTo: nil))
    let next = try ex.send("2026-12-29")
    #expect(next.status == 1)
    #expect(next.stderr.contains("2026-0109"))
    #expect(
      try herinner(
        ["resolve", "2026-0109", "--stage", "first", "--not-sent", "--config", ex.config],
        in: ex.path
      ).status == 0)
    let after = try ex.send("2026-12-29")
    #expect(after.status == 0, "\(after.stderr)")
    #expect(subjects(server).last == "Herinnering: factuur 2026-0109")
  }

  @Test func badRowsAreSkippedAndTheRestStillGoes() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    var csv = try String(contentsOfFile: ex.path + "/Examples/invoices.csv", encoding: .utf8)
    csv +=
      "2026-0199;K-099;Kapot;;kapot@@example.nl;business;2026-10-01;2026-10-31;10,00;0;EUR;open;factuur-2026-0101.pdf;nl;;\n"
    ex.write("Examples/invoices.csv", csv)
    let r = try ex.send("2026-12-01")
    #expect(r.status == 1)
    #expect(r.stderr.contains("invoices.csv:16: email: not a valid email address"))
    #expect(r.stdout.contains("sent 6"))
    #expect(r.stdout.contains("invalid-row 1"))
  }

  @Test func aHolidaySendsNothing() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    let r = try ex.send("2026-12-25")
    #expect(r.status == 0)
    #expect(r.stdout.contains("not a business day (Eerste Kerstdag)"))
    #expect(server.received().isEmpty)
  }
}
