import Foundation
import HerinnerCore
import HerinnerLedger
import HerinnerTestSupport
import Testing

/// Where in the batch `send` is killed: while the server holds back its reply to the Nth MAIL
/// (the message's data not yet sent) or to the Nth end of data (the server has stored the
/// message), or after a plain delay.
struct KillPoint: Sendable, CustomTestStringConvertible {
  enum Trigger: Sendable {
    case hold(phase: String, n: Int)
    case delay(Double)
  }
  var connections: Int
  var trigger: Trigger

  var testDescription: String {
    switch trigger {
    case .hold(let phase, let n): "connections \(connections), held \(phase) #\(n)"
    case .delay(let s): "connections \(connections), after \(s) s"
    }
  }

  var serverOptions: [String] {
    switch trigger {
    case .hold(let phase, let n): ["--hold", "\(phase):\(n)"]
    // A reply to the end of data that takes a while: kills land mostly in the crash window.
    case .delay: ["--delay", "0.1"]
    }
  }

  /// The bounded sweep for CI; HERINNER_SWEEP=full adds many more points.
  static var sweep: [KillPoint] {
    let full = ProcessInfo.processInfo.environment["HERINNER_SWEEP"] == "full"
    var points: [KillPoint] = []
    for c in [1, 4] {
      let data = full ? Array(1...CrashSweepTests.invoiceCount) : [1, 5, 13, 27, 36]
      let mail = full ? Array(stride(from: 1, through: CrashSweepTests.invoiceCount, by: 3)) : [3]
      // The night takes about 36 × 0.1 s / connections once the process is up.
      let last = c == 1 ? 3.0 : 1.0
      let delays =
        full ? stride(from: 0.1, through: last, by: c == 1 ? 0.2 : 0.1).map { $0 } : [0.5]
      points += data.map { KillPoint(connections: c, trigger: .hold(phase: "data", n: $0)) }
      points += mail.map { KillPoint(connections: c, trigger: .hold(phase: "mail", n: $0)) }
      points += delays.map { KillPoint(connections: c, trigger: .delay($0)) }
    }
    return points
  }
}

/// kill -9 through the real binary at many points of a night, then the same night again: no
/// message accepted twice, no due invoice left without its reminder unless its delivery is
/// `unknown`, at most one `unknown` per connection and only for a message whose data the
/// server received, and no archive file for a message the server never received.
@Suite(.serialized) struct CrashSweepTests {
  static let invoiceCount = 36
  static let date = "2026-12-01"

  /// One business invoice per customer, each due for its first reminder on `date`.
  static func invoices() -> String {
    var csv =
      "number;customer_id;customer;contact;email;kind;issued;due;amount;paid;currency;status;pdf\n"
    for i in 1...invoiceCount {
      let n = String(format: "2026-%04d", 500 + i)
      csv +=
        "\(n);S-\(i);Klant \(i) B.V.;;klant\(i)@example.nl;business;2026-10-01;2026-11-01;"
        + "\(100 + i),00;0;EUR;open;factuur-2026-0101.pdf\n"
    }
    return csv
  }

  static func numbers() -> [String] {
    (1...invoiceCount).map { String(format: "2026-%04d", 500 + $0) }
  }

  @Test(arguments: KillPoint.sweep)
  func aKillAtAnyPointLeavesNoDuplicateAndNoSilentGap(_ point: KillPoint) throws {
    let server = try TestSMTPServer(point.serverOptions)
    let ex = try Self.administration(server: server, connections: point.connections)

    let killed = try Self.killSend(ex, at: point, server: server)
    #expect(killed, "the run ended before the kill point: the point tests nothing")
    // What the server had when the process died: the end of data of these messages arrived.
    let dataReceived = Self.receivedLog(server)
    try Self.release(server)

    let rerun = try ex.send(Self.date)
    #expect(rerun.status == 0 || rerun.status == 1, "\(rerun.stderr)")
    let rows = try ex.ledger().deliveries()
    let unknown = rows.filter { $0.state == .unknown }
    if !unknown.isEmpty {
      #expect(rerun.status == 1 && rerun.stderr.contains("unknown"), "\(rerun.stderr)")
    }
    #expect(
      unknown.count <= point.connections, "at most one unknown per connection: \(unknown.count)")
    for u in unknown {
      #expect(
        dataReceived.contains(u.messageID),
        "invoice \(u.invoice) is unknown but the server never received its data")
    }
    Self.expectNoDuplicateAndNoGap(server: server, rows: rows)
    Self.expectArchiveOnlyForReceived(ex, server: server, rows: rows)
    // Reported for the sweep's numbers (swift test prints it with the result).
    print("sweep \(point.testDescription): unknown \(unknown.count)")
  }

  /// A power loss (or a kernel crash) loses the journal's notes, or leaves notes of another
  /// boot: recovery may then make more deliveries unknown, but never sends one twice.
  @Test(arguments: ["another boot", "no journal"])
  func afterAPowerLossStillNoDuplicate(_ journal: String) throws {
    let point = KillPoint(connections: 4, trigger: .hold(phase: "data", n: 9))
    let server = try TestSMTPServer(point.serverOptions)
    let ex = try Self.administration(server: server, connections: 4)
    #expect(try Self.killSend(ex, at: point, server: server))
    let dataReceived = Self.receivedLog(server)
    try Self.release(server)

    let path = ex.path + "/Examples/herinner.sqlite.journal"
    let written = try #require(FileManager.default.contents(atPath: path), "a journal was kept")
    if journal == "no journal" {
      try FileManager.default.removeItem(atPath: path)
    } else {
      // The header names the boot it was written on: "herinner-journal N<TAB>boot id".
      var lines = String(decoding: written, as: UTF8.self).components(separatedBy: "\n")
      let head = lines[0].components(separatedBy: "\t")
      try #require(head.count == 2)
      lines[0] = head[0] + "\t00000000-0000-0000-0000-000000000000"
      try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    let rerun = try ex.send(Self.date)
    #expect(rerun.status == 1, "the interrupted deliveries await a verdict: \(rerun.stderr)")
    let rows = try ex.ledger().deliveries()
    let unknown = rows.filter { $0.state == .unknown }
    #expect(!unknown.isEmpty)
    // Every message the server had stored when the process died is accounted for: unknown or
    // sent, never sent again.
    for id in dataReceived {
      #expect(rows.contains { $0.messageID == id && ($0.state == .sent || $0.state == .unknown) })
    }
    Self.expectNoDuplicateAndNoGap(server: server, rows: rows)
    // Unknown ones may not have reached the server; every other file is of a received message.
    // Without any journal nothing names the files the renderer wrote ahead for messages never
    // recorded, so only a journal of another boot is held to this.
    guard journal == "another boot" else { return }
    let live = Set(rows.filter { $0.state == .sent || $0.state == .unknown }.map(\.messageID))
    for (file, id) in Self.archived(ex) {
      #expect(live.contains(id), "archive file \(file) belongs to no delivery")
    }
  }

  // MARK: - The administration, the kill, the checks

  static func administration(server: TestSMTPServer, connections: Int) throws -> ExampleCopy {
    let ex = try ExampleCopy()
    ex.write("Examples/invoices.csv", invoices())
    try ex.useServer(port: server.port, extra: ["connections": connections])
    return ex
  }

  /// Starts `send` and kills it with SIGKILL at `point`; false when the run ended first.
  static func killSend(_ ex: ExampleCopy, at point: KillPoint, server: TestSMTPServer) throws
    -> Bool
  {
    let p = try ex.startSend(date)
    switch point.trigger {
    case .delay(let seconds):
      Thread.sleep(forTimeInterval: seconds)
    case .hold:
      let held = server.folder + "/held"
      let deadline = Date().addingTimeInterval(60)
      while !FileManager.default.fileExists(atPath: held) && p.isRunning && Date() < deadline {
        usleep(5_000)
      }
    }
    let running = p.isRunning
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    return running && p.terminationReason == .uncaughtSignal
  }

  /// Lets the server answer again (the rerun must not be held).
  static func release(_ server: TestSMTPServer) throws {
    try Data().write(to: URL(fileURLWithPath: server.folder + "/release"))
  }

  /// Message-IDs of every message whose end of data the server received.
  static func receivedLog(_ server: TestSMTPServer) -> Set<String> {
    let text = (try? String(contentsOfFile: server.folder + "/received.log", encoding: .utf8)) ?? ""
    return Set(text.split(separator: "\n").map(String.init))
  }

  /// Every message accepted once (by Message-ID, and by invoice and step), and every due
  /// invoice with exactly one live delivery: `sent` and accepted once, or `unknown`.
  static func expectNoDuplicateAndNoGap(server: TestSMTPServer, rows: [DeliveryRow]) {
    var byID: [String: Int] = [:]
    var byInvoiceStep: [String: Int] = [:]
    for (i, m) in server.received().enumerated() {
      byID[header("Message-ID", in: m.data) ?? "? \(i)", default: 0] += 1
      let subject = header("Subject", in: m.data) ?? "?"
      let invoice = subject.components(separatedBy: "factuur ").last ?? subject
      let step = subject.hasPrefix("Herinnering:") ? "first" : subject
      byInvoiceStep[invoice + " " + step, default: 0] += 1
    }
    for (id, n) in byID where n > 1 { Issue.record("message \(id) accepted \(n)×") }
    for (key, n) in byInvoiceStep where n > 1 { Issue.record("\(key) accepted \(n)×") }
    for n in numbers() {
      let live = rows.filter { $0.invoice == n && ($0.state == .sent || $0.state == .unknown) }
      guard live.count == 1, let l = live.first else {
        Issue.record("invoice \(n): \(rows.filter { $0.invoice == n }.map(\.state))")
        continue
      }
      if l.state == .sent {
        #expect(
          byID[l.messageID] == 1, "invoice \(n) is sent but was accepted \(byID[l.messageID] ?? 0)×"
        )
        #expect(byInvoiceStep[n + " first"] == 1)
      }
    }
  }

  /// No archive file for a message the server never received, and one for every sent one.
  static func expectArchiveOnlyForReceived(
    _ ex: ExampleCopy, server: TestSMTPServer, rows: [DeliveryRow]
  ) {
    let received = receivedLog(server)
    let files = archived(ex)
    for (file, id) in files where !received.contains(id) {
      Issue.record("archive file \(file): the server never received \(id)")
    }
    let archivedIDs = Set(files.map(\.id))
    for r in rows where r.state == .sent && !archivedIDs.contains(r.messageID) {
      Issue.record("invoice \(r.invoice) is sent but its message is not archived")
    }
  }

  /// The archive's files and the Message-ID each holds.
  static func archived(_ ex: ExampleCopy) -> [(file: String, id: String)] {
    let root = ex.path + "/Examples/archive"
    let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
    return names.filter { $0.hasSuffix(".eml") }.sorted().map { name in
      let bytes = FileManager.default.contents(atPath: root + "/" + name).map { [UInt8]($0) } ?? []
      return (name, header("Message-ID", in: bytes) ?? "?")
    }
  }
}
