import Foundation
import HerinnerCore
import HerinnerLedger
import Testing

/// `herinner bounces import` run as a user runs it, against a real ledger file.
@Suite struct BouncesCommandTests {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

  static func binary() throws -> String {
    let candidates = [
      ProcessInfo.processInfo.environment["HERINNER_BIN"], repoRoot + "/.build/debug/herinner",
    ].compactMap { $0 }
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else {
      Issue.record("herinner executable not found (tried \(candidates)); run `swift build` first")
      throw CancellationError()
    }
    return path
  }

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(_ args: [String]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try binary())
    p.arguments = args
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // The outputs here are small: reading one pipe after the other cannot block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  /// A minimal administration; with `sent`, a ledger that recorded invoice 2026-0042's first
  /// reminder (the fixtures' original) as sent.
  static func administration(sent: Bool) throws -> String {
    let dir = NSTemporaryDirectory() + "herinner-bounces-\(UUID().uuidString)"
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/pdf", withIntermediateDirectories: true)
    for lang in ["nl", "en"] {
      try fm.createDirectory(atPath: dir + "/Templates/" + lang, withIntermediateDirectories: true)
    }
    let config = """
      {"company": {"name": "Studio Vermeer B.V.", "email": "administratie@studiovermeer.example",
        "iban": "NL91ABNA0417164300"},
       "invoices": {"path": "invoices.csv", "attachments": "pdf", "columns": {}},
       "templates": "Templates", "ledger": "herinner.sqlite", "archive": "archive",
       "timezone": "Europe/Amsterdam",
       "smtp": {"url": "smtp://127.0.0.1:2525", "security": "none"}}
      """
    try config.write(toFile: dir + "/herinner.json", atomically: true, encoding: .utf8)
    try "number;customer;email;issued;due;amount;pdf\n".write(
      toFile: dir + "/invoices.csv", atomically: true, encoding: .utf8)
    if sent {
      let ledger = try SQLiteLedger(path: dir + "/herinner.sqlite")
      let id = "herinner.first.2026-0042.20261130.k3j4h5g6@studiovermeer.example"
      try ledger.begin([
        NewAttempt(
          messageKey: "m1", invoices: ["2026-0042"], step: .first, isResend: false,
          runDate: CalendarDate(year: 2026, month: 11, day: 30)!, deadline: nil, costs: nil,
          recipients: ["inkoop@bakkerij.example"], messageID: id, inReplyTo: nil)
      ])
      try ledger.finish([
        DeliveryResult(
          messageKey: "m1", state: .sent, replyCode: 250, reply: "250 2.0.0 Ok: queued",
          archivePath: nil)
      ])
    }
    return dir
  }

  static func objects(_ stdout: String) throws -> [[String: Any]] {
    try stdout.split(separator: "\n").map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  @Test func aHardBounceOfOurReminderIsMatchedAndNeedsAPerson() throws {
    let dir = try Self.administration(sent: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json",
      fixtures + "/dsn-failed-userunknown.eml", fixtures + "/autoreply-afwezig.eml",
    ])
    #expect(r.status == 1, "\(r.stderr)")
    let objs = try Self.objects(r.stdout)
    try #require(objs.count == 2)
    #expect(
      Set(objs[0].keys) == ["file", "kind", "status", "recipient", "messageId", "invoice", "step"])
    #expect(objs[0]["kind"] as? String == "hard")
    #expect(objs[0]["status"] as? String == "5.1.1")
    #expect(objs[0]["invoice"] as? String == "2026-0042")
    #expect(objs[0]["step"] as? String == "first")
    // An auto-reply is listed but is no bounce: it is tied to nothing.
    #expect(objs[1]["kind"] as? String == "auto-reply")
    #expect(objs[1]["invoice"] is NSNull)
  }

  /// Recorded once: the delivery is `bounced` in the ledger, `history` shows the report, and
  /// the same file again changes nothing and needs no person.
  @Test func aHardBounceIsRecordedOnceAndShownByHistory() throws {
    let dir = try Self.administration(sent: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let args = [
      "bounces", "import", "--config", dir + "/herinner.json",
      fixtures + "/dsn-failed-userunknown.eml",
    ]
    let first = try Self.run(args)
    #expect(first.status == 1, "\(first.stderr)")
    #expect(first.stdout.contains("bounced"))
    let ledger = try #require(try SQLiteLedger.openForReading(path: dir + "/herinner.sqlite"))
    #expect(try ledger.deliveries().map(\.state) == [.bounced])
    #expect(try ledger.bounces(invoice: "2026-0042").map(\.bounce.kind) == [.hard])

    let again = try Self.run(args)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.contains("read before"))
    #expect(try ledger.bounces(invoice: nil).count == 1)

    let history = try Self.run(["history", "--config", dir + "/herinner.json", "2026-0042"])
    #expect(history.status == 0, "\(history.stderr)")
    #expect(history.stdout.contains("bounced"))
    #expect(history.stdout.contains("returned mail: hard 5.1.1"))
  }

  @Test func aDelayIsNotedAndTheDeliveryStaysSent() throws {
    let dir = try Self.administration(sent: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json",
      fixtures + "/dsn-delayed.eml",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let ledger = try #require(try SQLiteLedger.openForReading(path: dir + "/herinner.sqlite"))
    #expect(try ledger.deliveries().map(\.state) == [.sent])
    #expect(try ledger.bounces(invoice: "2026-0042").map(\.bounce.kind) == [.soft])
  }

  @Test func fetchWithoutAMailboxConfiguredIsAConfigProblem() throws {
    let dir = try Self.administration(sent: false)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run(["bounces", "fetch", "--config", dir + "/herinner.json"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("bounces.imap"))
  }

  @Test func withoutALedgerNothingIsOurs() throws {
    let dir = try Self.administration(sent: false)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json",
      fixtures + "/dsn-failed-userunknown.eml",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let objs = try Self.objects(r.stdout)
    try #require(objs.count == 1)
    #expect(objs[0]["invoice"] is NSNull)
    #expect(objs[0]["step"] is NSNull)
    #expect(!FileManager.default.fileExists(atPath: dir + "/herinner.sqlite"))
  }

  @Test(arguments: ["malformed-cut-off.eml", "malformed-no-headers.eml", "malformed-empty.eml"])
  func aMalformedFileIsExit2AndNothingIsListed(file: String) throws {
    let dir = try Self.administration(sent: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json",
      fixtures + "/dsn-failed-userunknown.eml", fixtures + "/" + file,
    ])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains(file))
  }

  @Test func anMboxListsEveryMessage() throws {
    let dir = try Self.administration(sent: false)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json",
      fixtures + "/two-messages.mbox",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let objs = try Self.objects(r.stdout)
    #expect(objs.map { $0["kind"] as? String } == ["hard", "not-a-bounce"])
  }

  @Test func aReportWithoutTheOriginalIsMatchedByTheEnvelopeTag() throws {
    let dir = try Self.administration(sent: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let report = """
      From: MAILER-DAEMON@mail.example
      To: administratie+d2026-0042-first@studiovermeer.example
      Subject: failure notice
      Date: Mon, 30 Nov 2026 02:10:00 +0100

      I'm afraid I wasn't able to deliver your message to the following addresses.
      This is a permanent error; I've given up.

      <someone-else@bakkerij.example>:
      Remote host said: 550 5.1.1 unknown user

      """
    try report.write(toFile: dir + "/tagged.eml", atomically: true, encoding: .utf8)
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json", dir + "/tagged.eml",
    ])
    #expect(r.status == 1, "\(r.stderr)")
    let objs = try Self.objects(r.stdout)
    try #require(objs.count == 1)
    #expect(objs[0]["messageId"] is NSNull)
    #expect(objs[0]["invoice"] as? String == "2026-0042")
    #expect(objs[0]["step"] as? String == "first")
    #expect(r.stderr.contains("2026-0042"))
  }

  @Test func aMaildirSkipsWhatItCannotReadAndSaysSo() throws {
    let dir = try Self.administration(sent: false)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fm = FileManager.default
    for sub in ["new", "cur", "tmp"] {
      try fm.createDirectory(atPath: dir + "/Maildir/" + sub, withIntermediateDirectories: true)
    }
    try fm.copyItem(
      atPath: fixtures + "/qmail-permanent.eml", toPath: dir + "/Maildir/new/1.host")
    try fm.copyItem(
      atPath: fixtures + "/malformed-no-headers.eml", toPath: dir + "/Maildir/cur/2.host:2,")
    try fm.copyItem(atPath: fixtures + "/plain-mail.eml", toPath: dir + "/Maildir/tmp/3.host")
    let r = try Self.run([
      "bounces", "import", "--json", "--config", dir + "/herinner.json", dir + "/Maildir",
    ])
    #expect(r.status == 1)
    let objs = try Self.objects(r.stdout)
    #expect(
      objs.map { ($0["file"] as? String).map { ($0 as NSString).lastPathComponent } } == [
        "1.host"
      ])
    #expect(r.stderr.contains("2.host:2,"))
  }
}
