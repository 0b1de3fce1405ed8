import CSQLite
import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLedger

/// A ledger that records both deliveries and returned mail, on fresh storage.
func bounceLedger(_ backend: Backend) throws -> (any LedgerStore & BounceStore, AnyObject?) {
  switch backend {
  case .sqlite:
    let dir = TempFolder()
    return (try SQLiteLedger(path: dir.ledger, clock: Backend.clock), dir)
  case .memory:
    return (MemoryLedger(clock: Backend.clock), nil)
  }
}

func report(
  _ id: String, _ key: String?, _ kind: BounceRecordKind, on day: String = "2026-11-10"
) -> NewBounce {
  NewBounce(
    reportID: id, messageKey: key, kind: kind, status: kind == .hard ? "5.1.1" : "4.4.1",
    recipient: "klant@example.nl", diagnostic: "550 5.1.1 user unknown",
    reportDate: CalendarDate(parsing: day), source: "/tmp/\(id).eml")
}

/// The bounce port's semantics, run against every backend.
@Suite struct BounceStoreTests {
  /// One message for two invoices, sent.
  func sentLetter(_ l: any LedgerStore) throws {
    try l.begin([attempt("m1", ["A", "B"])])
    try l.finish([result("m1", .sent)])
  }

  @Test(arguments: Backend.allCases)
  func aHardReportBouncesEveryInvoiceOfTheMessage(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try sentLetter(l)
    let outcome = try l.recordBounce(report("r1", "m1", .hard))
    guard case .bounced(let rows) = outcome else {
      Issue.record("expected bounced, got \(outcome)")
      return
    }
    #expect(rows.map(\.invoice) == ["A", "B"])
    #expect(rows.allSatisfy { $0.state == .bounced })
    #expect(try l.deliveries().map(\.state) == [.bounced, .bounced])
    #expect(try l.bounces(invoice: "A").map(\.bounce.reportID) == ["r1"])
    #expect(try l.bounces(invoice: "B").map(\.bounce.reportID) == ["r1"])
    #expect(try l.bounces(invoice: "C").isEmpty)
  }

  @Test(arguments: Backend.allCases)
  func theSameReportTwiceChangesNothing(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try sentLetter(l)
    _ = try l.recordBounce(report("r1", "m1", .soft))
    #expect(try l.recordBounce(report("r1", "m1", .hard)) == .alreadyRecorded)
    #expect(try l.deliveries().map(\.state) == [.sent, .sent])
    #expect(try l.bounces(invoice: nil).count == 1)
  }

  @Test(arguments: Backend.allCases)
  func aSoftReportIsNotedOnly(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try sentLetter(l)
    #expect(try l.recordBounce(report("r1", "m1", .soft)) == .noted)
    #expect(try l.recordBounce(report("r2", "m1", .autoReply)) == .noted)
    #expect(try l.deliveries().map(\.state) == [.sent, .sent])
    let kinds = try l.bounces(invoice: "A").map(\.bounce.kind)
    #expect(kinds == [.soft, .autoReply])
  }

  /// Three soft reports on one day are one delay; on three different days the server is not
  /// getting through.
  @Test(arguments: Backend.allCases)
  func softReportsOnThreeDaysCountAsHard(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try sentLetter(l)
    #expect(try l.recordBounce(report("r1", "m1", .soft, on: "2026-11-10")) == .noted)
    #expect(try l.recordBounce(report("r2", "m1", .soft, on: "2026-11-10")) == .noted)
    #expect(try l.recordBounce(report("r3", "m1", .soft, on: "2026-11-11")) == .noted)
    #expect(try l.deliveries().map(\.state) == [.sent, .sent])
    let third = try l.recordBounce(report("r4", "m1", .soft, on: "2026-11-12"))
    guard case .bounced(let rows) = third else {
      Issue.record("expected bounced, got \(third)")
      return
    }
    #expect(rows.count == 2)
    #expect(try l.bounces(invoice: "A").map(\.countedAsHard) == [false, false, false, true])
  }

  @Test(arguments: Backend.allCases)
  func anUnmatchedReportIsRecordedAndChangesNoDelivery(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try sentLetter(l)
    #expect(try l.recordBounce(report("r1", nil, .hard)) == .noted)
    #expect(try l.deliveries().map(\.state) == [.sent, .sent])
    #expect(try l.bounces(invoice: nil).map(\.bounce.messageKey) == [nil])
    #expect(try l.bounces(invoice: "A").isEmpty)
  }

  /// Only a message that may have reached a server can bounce; a second report on a bounced
  /// one is kept but changes nothing more.
  @Test(arguments: Backend.allCases)
  func onlySentOrUnknownDeliveriesBounce(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"]), attempt("m2", ["B"])])
    try l.finish([result("m1", .rejected, 550, "550 no such user"), result("m2", .sent)])
    #expect(try l.recordBounce(report("r1", "m1", .hard)) == .noted)
    guard case .bounced = try l.recordBounce(report("r2", "m2", .hard)) else {
      Issue.record("m2 should have bounced")
      return
    }
    #expect(try l.recordBounce(report("r3", "m2", .hard)) == .noted)
    #expect(try l.deliveries().map(\.state) == [.rejected, .bounced])
  }

  /// A bounced step is no longer live: `resolve --not-sent` makes it due again and a new
  /// original of that step can be recorded.
  @Test(arguments: Backend.allCases)
  func aBouncedStepCanBeResolvedAndSentAgain(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"])])
    try l.finish([result("m1", .sent)])
    _ = try l.recordBounce(report("r1", "m1", .hard))
    #expect(try l.resolve(invoice: "A", step: .first, sent: true) == 0)
    #expect(try l.resolve(invoice: "A", step: .first, sent: false) == 1)
    try l.begin([attempt("m2", ["A"], on: "2026-11-12")])
    #expect(try l.deliveries().map(\.state) == [.notSent, .sending])
  }

  @Test(arguments: Backend.allCases)
  func theMailboxCursorIsKeptPerMailbox(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    #expect(try l.mailboxCursor("imaps://a/INBOX") == nil)
    try l.saveMailboxCursor(MailboxCursor(uidValidity: 7, lastUID: 3), for: "imaps://a/INBOX")
    try l.saveMailboxCursor(
      MailboxCursor(uidValidity: 4_000_000_000, lastUID: 4_294_967_295), for: "imaps://a/INBOX")
    try l.saveMailboxCursor(MailboxCursor(uidValidity: 1, lastUID: 1), for: "imaps://b/INBOX")
    #expect(
      try l.mailboxCursor("imaps://a/INBOX")
        == MailboxCursor(uidValidity: 4_000_000_000, lastUID: 4_294_967_295))
    #expect(try l.mailboxCursor("imaps://b/INBOX") == MailboxCursor(uidValidity: 1, lastUID: 1))
  }
}

/// A ledger of the schema before bounces, read by `history` without migrating it.
@Test func aLedgerOfTheEarlierSchemaReadOnlyHasNoBounces() throws {
  let dir = TempFolder()
  do {
    let db = try Database(path: dir.ledger, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    for (i, sql) in SQLiteLedger.migrations.prefix(3).enumerated() {
      try db.execute(sql)
      try db.execute("PRAGMA user_version = \(i + 1)")
    }
  }
  let l = try #require(try SQLiteLedger.openForReading(path: dir.ledger))
  #expect(try l.bounces(invoice: nil).isEmpty)
  #expect(try l.bounces(invoice: "A").isEmpty)
}

/// The migration that lets deliveries be `bounced` rebuilds the table: a ledger written by the
/// schema before it keeps every row and the one-live-original invariant.
@Suite struct BounceMigrationTests {
  @Test func aLedgerOfTheEarlierSchemaKeepsEveryRowAndItsInvariant() throws {
    let dir = TempFolder()
    do {
      let db = try Database(path: dir.ledger, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
      for (i, sql) in SQLiteLedger.migrations.prefix(3).enumerated() {
        try db.execute(sql)
        try db.execute("PRAGMA user_version = \(i + 1)")
      }
      try db.execute(
        """
        INSERT INTO deliveries (message_key, invoice, stage, state, resend, run_date, recipients,
          message_id, reply_code, reply, created_at, updated_at)
        VALUES ('m1', 'A', 'first', 'sent', 0, '2026-11-09', 'klant@example.nl', '<m1@x>', 250,
          'ok', '2026-11-09T08:00:00.000Z', '2026-11-09T08:00:00.000Z'),
        ('m2', 'B', 'second', 'rejected', 0, '2026-11-09', 'b@example.nl', '<m2@x>', 550,
          'no such user', '2026-11-09T08:00:00.000Z', '2026-11-09T08:00:00.000Z');
        """)
    }
    let l = try SQLiteLedger(path: dir.ledger, clock: Backend.clock)
    let rows = try l.deliveries()
    #expect(rows.map(\.messageKey) == ["m1", "m2"])
    #expect(rows.map(\.state) == [.sent, .rejected])
    #expect(rows.map(\.replyCode) == [250, 550])
    #expect(try l.userVersion() == SQLiteLedger.schemaVersion)
    // The invariant survived the rebuild.
    #expect(throws: LedgerError.self) { try l.begin([attempt("m3", ["A"])]) }
    var indexes: [String] = []
    try l.db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL ORDER BY name"
    ).query { (r) throws(LedgerError) in indexes.append(r.text(0)) }
    #expect(
      indexes == [
        "deliveries_invoice", "deliveries_message", "deliveries_one_live_step", "deliveries_state",
      ])
    guard case .bounced = try l.recordBounce(report("r1", "m1", .hard)) else {
      Issue.record("a migrated sent delivery should bounce")
      return
    }
  }
}
