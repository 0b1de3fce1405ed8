import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLedger

final class TempFolder: @unchecked Sendable {
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

func result(_ key: String, _ state: DeliveryState, _ code: Int? = 250, _ reply: String = "ok")
  -> DeliveryResult
{
  DeliveryResult(messageKey: key, state: state, replyCode: code, reply: reply, archivePath: nil)
}

/// Every implementation of the ledger port, each on fresh storage. A PostgreSQL ledger joins
/// this list and must pass the same suite.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
  case sqlite, memory
  var testDescription: String { rawValue }

  static let clock = WallClock.fixed(Date(timeIntervalSince1970: 1_796_112_000.25))

  /// The ledger, and what keeps its storage alive for the test.
  func make() throws -> (any LedgerStore, AnyObject?) {
    switch self {
    case .sqlite:
      let dir = TempFolder()
      return (try SQLiteLedger(path: dir.ledger, clock: Self.clock), dir)
    case .memory:
      return (MemoryLedger(clock: Self.clock), nil)
    }
  }
}

/// The ledger port's semantics, written once and run against every backend.
@Suite struct LedgerPortTests {
  @Test(arguments: Backend.allCases)
  func recordsAnAttemptAndItsOutcome(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["2026-0001"])])
    #expect(try l.deliveries(invoice: "2026-0001").first?.state == .sending)
    try l.finish([
      DeliveryResult(
        messageKey: "m1", state: .sent, replyCode: 250, reply: "250 2.0.0 OK queued as ABC",
        archivePath: "archive/x.eml")
    ])
    let rows = try l.deliveries(invoice: "2026-0001")
    #expect(rows.count == 1)
    #expect(rows[0].state == .sent)
    #expect(rows[0].replyCode == 250)
    #expect(rows[0].reply == "250 2.0.0 OK queued as ABC")
    #expect(rows[0].archivePath == "archive/x.eml")
    #expect(rows[0].messageID == "<m1@studiovermeer.nl>")
    #expect(rows[0].deadline?.iso == "2026-11-16")
    // Stamps come from the injected clock, not the machine's.
    #expect(rows[0].createdAt == "2026-12-01T08:00:00.250Z")
  }

  @Test(arguments: Backend.allCases)
  func refusesASecondLiveOriginalOfTheSameStep(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["2026-0001"])])
    try l.finish([result("m1", .sent)])
    #expect {
      try l.begin([attempt("m2", ["2026-0001"])])
    } throws: { ($0 as? LedgerError)?.code == .duplicate }
    // A resend is allowed, and so is the next step.
    try l.begin([attempt("m3", ["2026-0001"], resend: true)])
    try l.begin([attempt("m4", ["2026-0001"], .second)])
    #expect(try l.deliveries(invoice: "2026-0001").count == 3)
  }

  @Test(arguments: Backend.allCases)
  func aFailedCommitRecordsNothingOfIt(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["B"])])
    #expect(throws: LedgerError.self) {
      try l.commit(finishing: [result("m1", .sent)], beginning: [attempt("m2", ["A", "B"])])
    }
    #expect(try l.deliveries(invoice: "A").isEmpty)
    // The outcome in the same transaction was not recorded either: all or none.
    #expect(try l.deliveries(invoice: "B").map(\.state) == [.sending])
  }

  @Test(arguments: Backend.allCases)
  func deferredAndRejectedMayBeFollowedByANewAttempt(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"])])
    try l.finish([result("m1", .deferred, 451, "try later")])
    try l.begin([attempt("m2", ["A"], on: "2026-11-10")])
    try l.finish([result("m2", .sent)])
    let h = try l.histories()["A"] ?? .empty
    #expect(h.deliveries.map(\.state) == [.deferred, .sent])
    #expect(h.deliveries.map(\.messageID) == ["<m1@studiovermeer.nl>", "<m2@studiovermeer.nl>"])
    #expect(h.firstSent(.first)?.date.iso == "2026-11-10")
  }

  @Test(arguments: Backend.allCases)
  func interruptedSendingBecomesUnknownAndIsResolvedByAPerson(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["A", "B"])])
    let unknown = try l.markInterruptedAsUnknown()
    #expect(unknown.map(\.invoice) == ["A", "B"])
    #expect(unknown.allSatisfy { $0.state == .unknown && $0.reply != nil })
    #expect(try l.deliveries(state: .unknown).count == 2)
    #expect(try l.markInterruptedAsUnknown().isEmpty)
    #expect(try l.resolve(invoice: "A", step: .first, sent: true) == 1)
    #expect(try l.resolve(invoice: "B", step: .first, sent: false) == 1)
    #expect(try l.deliveries(invoice: "A").first?.state == .sent)
    #expect(try l.deliveries(invoice: "B").first?.state == .notSent)
    // not-sent frees the step for a new original attempt.
    try l.begin([attempt("m2", ["B"])])
  }

  @Test(arguments: Backend.allCases)
  func aRejectedDeliveryIsDueAgainOnlyByNotSent(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"])])
    try l.finish([result("m1", .rejected, 550, "550 5.1.1 no such user")])
    #expect(try l.resolve(invoice: "A", step: .first, sent: true) == 0)
    #expect(try l.resolve(invoice: "A", step: .second, sent: false) == 0)
    #expect(try l.resolve(invoice: "A", step: .first, sent: false) == 1)
    #expect(try l.deliveries(invoice: "A").map(\.state) == [.notSent])
  }

  @Test(arguments: Backend.allCases)
  func abandonRemovesOnlyWhatIsStillSending(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"]), attempt("m2", ["B"])])
    try l.finish([result("m1", .sent)])
    try l.abandon(["m1", "m2"])
    #expect(try l.deliveries().map(\.invoice) == ["A"])
  }

  @Test(arguments: Backend.allCases)
  func callsAndHistories(_ backend: Backend) throws {
    let (l, keep) = try backend.make()
    defer { _ = keep }
    try l.recordCall(
      invoice: "A", date: CalendarDate(parsing: "2026-11-17")!, note: "Belooft vrijdag te betalen")
    try l.begin([attempt("m1", ["A"])])
    let all = try l.histories()
    #expect(all["A"]?.calls.map(\.iso) == ["2026-11-17"])
    #expect(all["A"]?.deliveries.count == 1)
    #expect(try l.calls(invoice: "A").first?.note == "Belooft vrijdag te betalen")
    #expect(try l.calls(invoice: "B").isEmpty)
    #expect(try l.history(invoice: "A") == all["A"])
  }
}

/// What only the SQLite file can show: durability across opens, read-only opens, two
/// connections, the schema version, the stamp format.
@Suite struct SQLiteLedgerTests {
  @Test func anOutcomeSurvivesReopening() throws {
    let dir = TempFolder()
    do {
      let l = try SQLiteLedger(path: dir.ledger)
      try l.begin([attempt("m1", ["2026-0001"])])
      try l.finish([result("m1", .sent, 250, "250 2.0.0 OK queued as ABC")])
    }
    let rows = try SQLiteLedger(path: dir.ledger).deliveries(invoice: "2026-0001")
    #expect(rows.map(\.state) == [.sent])
    #expect(rows.first?.reply == "250 2.0.0 OK queued as ABC")
  }

  @Test func aSendingLeftByACrashIsStillThereAfterReopening() throws {
    let dir = TempFolder()
    do {
      let l = try SQLiteLedger(path: dir.ledger)
      try l.begin([attempt("m1", ["A", "B"])])
    }  // the "crash": the process ends with the attempt still `sending`
    #expect(try SQLiteLedger(path: dir.ledger).markInterruptedAsUnknown().count == 2)
  }

  @Test func readingDoesNotCreateAFile() throws {
    let dir = TempFolder()
    #expect(try SQLiteLedger.openForReading(path: dir.ledger) == nil)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    do {
      let l = try SQLiteLedger(path: dir.ledger)
      try l.begin([attempt("m1", ["A"])])
    }
    let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    let r = try #require(try SQLiteLedger.openForReading(path: dir.ledger))
    #expect(try r.deliveries().count == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == before)
  }

  @Test func twoConnectionsSeeEachOthersCommits() throws {
    let dir = TempFolder()
    let a = try SQLiteLedger(path: dir.ledger)
    let b = try SQLiteLedger(path: dir.ledger)
    try a.begin([attempt("m1", ["A"])])
    #expect(try b.deliveries(invoice: "A").count == 1)
    #expect(throws: LedgerError.self) { try b.begin([attempt("m2", ["A"])]) }
  }

  @Test func migrationsSetTheSchemaVersion() throws {
    let dir = TempFolder()
    let l = try SQLiteLedger(path: dir.ledger)
    #expect(try l.userVersion() == SQLiteLedger.schemaVersion)
  }

  @Test func aFailedStatementNamesItsSQL() throws {
    let dir = TempFolder()
    let l = try SQLiteLedger(path: dir.ledger)
    #expect {
      try l.db.prepare("SELECT nothing FROM nowhere")
    } throws: { e in
      let e = e as? LedgerError
      return e?.sql == "SELECT nothing FROM nowhere" && e?.resultCode != nil
    }
  }

  /// The record timestamps read as ISO8601DateFormatter wrote them (UTC, milliseconds).
  @Test func stampsReadAsISO8601DateFormatterWritesThem() {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    var g = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let d = Date(
        timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &g)) / 1000)
      #expect(LedgerTimestamp.string(d) == f.string(from: d))
    }
  }
}
