import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLedger

final class TempFolder {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "herinner-ledger-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
  var ledger: String { path + "/herinner.sqlite" }
}

func attempt(
  _ key: String, _ invoices: [String], _ step: Step = .first, resend: Bool = false,
  on day: String = "2026-11-09"
) -> NewAttempt {
  NewAttempt(
    messageKey: key, invoices: invoices, step: step, isResend: resend,
    runDate: CalendarDate(parsing: day)!,
    deadline: CalendarDate(parsing: day)!.adding(days: 7), costs: nil,
    recipients: ["klant@example.nl"],
    messageID: "<\(key)@studiovermeer.nl>", inReplyTo: nil)
}

@Suite struct LedgerTests {
  @Test func recordsAnAttemptAndItsOutcomeDurablyAcrossReopen() throws {
    let dir = TempFolder()
    do {
      let l = try Ledger(path: dir.ledger)
      try l.begin(attempt("m1", ["2026-0001"]))
      #expect(try l.deliveries(invoice: "2026-0001").first?.state == .sending)
      try l.finish(
        messageKey: "m1", state: .sent, replyCode: 250, reply: "250 2.0.0 OK queued as ABC",
        archivePath: "archive/x.eml")
    }
    let reopened = try Ledger(path: dir.ledger)
    let rows = try reopened.deliveries(invoice: "2026-0001")
    #expect(rows.count == 1)
    #expect(rows[0].state == .sent)
    #expect(rows[0].reply == "250 2.0.0 OK queued as ABC")
    #expect(rows[0].archivePath == "archive/x.eml")
    #expect(rows[0].messageID == "<m1@studiovermeer.nl>")
    #expect(rows[0].deadline?.iso == "2026-11-16")
  }

  @Test func theSchemaRefusesASecondLiveOriginalOfTheSameStep() throws {
    let dir = TempFolder()
    let l = try Ledger(path: dir.ledger)
    try l.begin(attempt("m1", ["2026-0001"]))
    try l.finish(messageKey: "m1", state: .sent, replyCode: 250, reply: "ok", archivePath: nil)
    #expect(throws: LedgerError.self) { try l.begin(attempt("m2", ["2026-0001"])) }
    // A resend is allowed, and so is the next step.
    try l.begin(attempt("m3", ["2026-0001"], resend: true))
    try l.begin(attempt("m4", ["2026-0001"], .second))
    #expect(try l.deliveries(invoice: "2026-0001").count == 3)
  }

  @Test func aFailedMultiInvoiceBeginRecordsNothing() throws {
    let dir = TempFolder()
    let l = try Ledger(path: dir.ledger)
    try l.begin(attempt("m1", ["B"]))
    #expect(throws: LedgerError.self) { try l.begin(attempt("m2", ["A", "B"])) }
    #expect(try l.deliveries(invoice: "A").isEmpty)
  }

  @Test func deferredAndRejectedAttemptsMayBeFollowedByANewOne() throws {
    let dir = TempFolder()
    let l = try Ledger(path: dir.ledger)
    try l.begin(attempt("m1", ["A"]))
    try l.finish(
      messageKey: "m1", state: .deferred, replyCode: 451, reply: "try later", archivePath: nil)
    try l.begin(attempt("m2", ["A"], on: "2026-11-10"))
    try l.finish(messageKey: "m2", state: .sent, replyCode: 250, reply: "ok", archivePath: nil)
    let h = try l.history(invoice: "A")
    #expect(h.deliveries.map(\.state) == [.deferred, .sent])
    #expect(h.firstSent(.first)?.date.iso == "2026-11-10")
  }

  @Test func interruptedSendingBecomesUnknownAndIsResolvedByAPerson() throws {
    let dir = TempFolder()
    do {
      let l = try Ledger(path: dir.ledger)
      try l.begin(attempt("m1", ["A", "B"]))
    }  // the "crash": the process ends with the attempt still `sending`
    let l = try Ledger(path: dir.ledger)
    let unknown = try l.markInterruptedAsUnknown()
    #expect(unknown.map(\.invoice) == ["A", "B"])
    #expect(try l.deliveries(state: .unknown).count == 2)
    #expect(try l.markInterruptedAsUnknown().isEmpty)
    #expect(try l.resolve(invoice: "A", step: .first, sent: true) == 1)
    #expect(try l.resolve(invoice: "B", step: .first, sent: false) == 1)
    #expect(try l.deliveries(invoice: "A").first?.state == .sent)
    #expect(try l.deliveries(invoice: "B").first?.state == .notSent)
    // not-sent frees the step for a new original attempt.
    try l.begin(attempt("m2", ["B"]))
  }

  @Test func callsAndHistories() throws {
    let dir = TempFolder()
    let l = try Ledger(path: dir.ledger)
    try l.recordCall(
      invoice: "A", date: CalendarDate(parsing: "2026-11-17")!, note: "Belooft vrijdag te betalen")
    try l.begin(attempt("m1", ["A"]))
    let all = try l.histories()
    #expect(all["A"]?.calls.map(\.iso) == ["2026-11-17"])
    #expect(all["A"]?.deliveries.count == 1)
    #expect(try l.calls(invoice: "A").first?.note == "Belooft vrijdag te betalen")
  }

  @Test func readingDoesNotCreateAFile() throws {
    let dir = TempFolder()
    #expect(try Ledger.openForReading(path: dir.ledger) == nil)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    do {
      let l = try Ledger(path: dir.ledger)
      try l.begin(attempt("m1", ["A"]))
    }
    let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    let r = try #require(try Ledger.openForReading(path: dir.ledger))
    #expect(try r.deliveries().count == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == before)
  }

  @Test func twoConnectionsSeeEachOthersCommits() throws {
    let dir = TempFolder()
    let a = try Ledger(path: dir.ledger)
    let b = try Ledger(path: dir.ledger)
    try a.begin(attempt("m1", ["A"]))
    #expect(try b.deliveries(invoice: "A").count == 1)
    #expect(throws: LedgerError.self) { try b.begin(attempt("m2", ["A"])) }
  }

  @Test func migrationsSetTheSchemaVersion() throws {
    let dir = TempFolder()
    let l = try Ledger(path: dir.ledger)
    #expect(try l.userVersion() == Ledger.schemaVersion)
  }
}

@Suite struct TimestampTests {
  /// The record timestamps read as ISO8601DateFormatter wrote them (UTC, milliseconds).
  @Test func sameTextAsISO8601DateFormatter() {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    var g = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let d = Date(
        timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &g)) / 1000)
      #expect(Ledger.timestamp(d) == f.string(from: d))
    }
  }
}
