import CSQLite
import Foundation
import HerinnerCore

/// One row of the ledger: one invoice's part in one delivery attempt of one message.
///
/// A message that covers several invoices (one letter per customer) has one row per invoice,
/// all sharing `messageKey`, `messageID` and the outcome.
public struct DeliveryRow: Sendable, Hashable {
  public var id: Int64
  public var messageKey: String
  public var invoice: String
  public var step: Step
  public var state: DeliveryState
  public var isResend: Bool
  public var runDate: CalendarDate
  public var deadline: CalendarDate?
  public var costs: Int64?
  public var recipients: String
  public var messageID: String
  public var inReplyTo: String?
  public var replyCode: Int?
  public var reply: String?
  public var archivePath: String?
  public var createdAt: String
  public var updatedAt: String

  public var record: DeliveryRecord {
    DeliveryRecord(
      step: step, state: state, date: runDate, isResend: isResend, deadline: deadline, reply: reply)
  }
}

public struct CallRow: Sendable, Hashable {
  public var id: Int64
  public var invoice: String
  public var date: CalendarDate
  public var note: String
  public var createdAt: String
}

/// The delivery ledger on a SQLite file: versioned schema, WAL, durable commits.
///
/// Invariant in the schema: at most one live (sending, sent or unknown) original delivery per
/// invoice and step, so no code path can record the same reminder twice.
public final class Ledger: DeliveryLedger {
  let db: Database
  public let path: String
  public let readOnly: Bool

  /// The schema, one migration per version. Never edit a shipped migration: add one.
  static let migrations: [String] = [
    """
    CREATE TABLE deliveries (
      id INTEGER PRIMARY KEY,
      message_key TEXT NOT NULL,
      invoice TEXT NOT NULL,
      stage TEXT NOT NULL CHECK (stage IN ('first','second')),
      state TEXT NOT NULL CHECK (state IN ('sending','sent','deferred','rejected','unknown','not-sent')),
      resend INTEGER NOT NULL DEFAULT 0 CHECK (resend IN (0,1)),
      run_date TEXT NOT NULL,
      deadline TEXT,
      costs_cents INTEGER,
      recipients TEXT NOT NULL,
      message_id TEXT NOT NULL,
      in_reply_to TEXT,
      reply_code INTEGER,
      reply TEXT,
      archive_path TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX deliveries_one_live_step ON deliveries(invoice, stage)
      WHERE resend = 0 AND state IN ('sending','sent','unknown');
    CREATE INDEX deliveries_invoice ON deliveries(invoice);
    CREATE INDEX deliveries_message ON deliveries(message_key);
    CREATE INDEX deliveries_state ON deliveries(state);
    CREATE TABLE calls (
      id INTEGER PRIMARY KEY,
      invoice TEXT NOT NULL,
      date TEXT NOT NULL,
      note TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX calls_invoice ON calls(invoice);
    """
  ]

  public static var schemaVersion: Int { migrations.count }

  /// Opens (and creates, and migrates) the ledger for writing.
  public init(path: String) throws(LedgerError) {
    self.path = path
    self.readOnly = false
    db = try Database(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    try db.execute("PRAGMA journal_mode=WAL")
    // FULL: a committed `sending` survives power loss, not only a crash of this process.
    try db.execute("PRAGMA synchronous=FULL")
    try db.execute("PRAGMA foreign_keys=ON")
    try migrate()
  }

  /// Opens an existing ledger read-only without creating any file (for dry runs and reports);
  /// nil when there is no ledger yet.
  public static func openForReading(path: String) throws(LedgerError) -> Ledger? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try Ledger(readingFrom: path)
  }

  init(readingFrom path: String) throws(LedgerError) {
    self.path = path
    self.readOnly = true
    // With no WAL in use the file is read as immutable, so SQLite creates no -shm/-wal beside it.
    let walInUse = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) > 0
    let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    let uri = "file:\(encoded)?mode=ro" + (walInUse ? "" : "&immutable=1")
    db = try Database(path: uri, flags: SQLITE_OPEN_READONLY)
    let v = try userVersion()
    guard v <= Self.schemaVersion else {
      throw LedgerError(code: 0, message: "the ledger \(path) has schema \(v), newer than this herinner (\(Self.schemaVersion))")
    }
  }

  func userVersion() throws(LedgerError) -> Int {
    var v = 0
    try db.prepare("PRAGMA user_version").query { (r) throws(LedgerError) in v = Int(r.int(0)) }
    return v
  }

  func migrate() throws(LedgerError) {
    try db.transaction { () throws(LedgerError) in
      let v = try userVersion()
      guard v <= Self.migrations.count else {
        throw LedgerError(code: 0, message: "the ledger \(path) has schema \(v), newer than this herinner (\(Self.migrations.count))")
      }
      for (i, sql) in Self.migrations.enumerated().dropFirst(v) {
        try db.execute(sql)
        try db.execute("PRAGMA user_version = \(i + 1)")
      }
    }
  }

  static func timestamp() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date())
  }

  static let deliveryColumns =
    "id, message_key, invoice, stage, state, resend, run_date, deadline, costs_cents, recipients, message_id, in_reply_to, reply_code, reply, archive_path, created_at, updated_at"

  static func delivery(_ r: Row) -> DeliveryRow {
    DeliveryRow(
      id: r.int(0), messageKey: r.text(1), invoice: r.text(2), step: Step(rawValue: r.text(3)) ?? .first,
      state: DeliveryState(rawValue: r.text(4)) ?? .unknown, isResend: r.int(5) != 0,
      runDate: CalendarDate(parsing: r.text(6)) ?? CalendarDate(dayNumber: 0),
      deadline: r.optionalText(7).flatMap(CalendarDate.init(parsing:)), costs: r.optionalInt(8),
      recipients: r.text(9), messageID: r.text(10), inReplyTo: r.optionalText(11),
      replyCode: r.optionalInt(12).map(Int.init), reply: r.optionalText(13),
      archivePath: r.optionalText(14), createdAt: r.text(15), updatedAt: r.text(16))
  }

  // MARK: Deliveries

  /// Records a new attempt as `sending`, durably, before the message goes to the server.
  /// Throws when an original delivery of that step is already live for one of the invoices.
  public func begin(_ a: NewAttempt) throws(LedgerError) {
    try begin([a])
  }

  /// Records several attempts as `sending` in one durable transaction (a group commit): all
  /// or none.
  public func begin(_ attempts: [NewAttempt]) throws(LedgerError) {
    let now = Self.timestamp()
    try db.transaction { () throws(LedgerError) in
      let insert = try db.prepare(
        "INSERT INTO deliveries (message_key, invoice, stage, state, resend, run_date, deadline, costs_cents, recipients, message_id, in_reply_to, archive_path, created_at, updated_at) VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      )
      for a in attempts {
      for inv in a.invoices {
        do throws(LedgerError) {
          try insert.run([
            a.messageKey, inv, a.step.rawValue, a.isResend, a.runDate.iso, a.deadline?.iso,
            a.costs, a.recipients.joined(separator: ", "), a.messageID, a.inReplyTo, a.archivePath, now, now,
          ])
        } catch {
          if error.code & 0xFF == SQLITE_CONSTRAINT {
            throw LedgerError(code: error.code, message: "invoice \(inv): a \(a.step.rawValue) reminder is already recorded (sending, sent or unknown); not recording it twice")
          }
          throw error
        }
      }
      }
    }
  }

  /// Records several outcomes in one transaction.
  public func finish(_ results: [DeliveryResult]) throws(LedgerError) {
    try db.transaction { () throws(LedgerError) in
      let update = try db.prepare(
        "UPDATE deliveries SET state = ?, reply_code = ?, reply = ?, archive_path = ?, updated_at = ? WHERE message_key = ?")
      let now = Self.timestamp()
      for r in results {
        try update.run([r.state.rawValue, r.replyCode, r.reply, r.archivePath, now, r.messageKey])
      }
    }
  }

  /// Records the server's final answer for every invoice of the message.
  public func finish(
    messageKey: String, state: DeliveryState, replyCode: Int?, reply: String?, archivePath: String?
  ) throws(LedgerError) {
    try db.prepare(
      "UPDATE deliveries SET state = ?, reply_code = ?, reply = ?, archive_path = COALESCE(?, archive_path), updated_at = ? WHERE message_key = ?"
    ).run([state.rawValue, replyCode, reply, archivePath, Self.timestamp(), messageKey])
  }

  /// Turns every `sending` left by an interrupted run into `unknown`; returns them.
  public func markInterruptedAsUnknown() throws(LedgerError) -> [DeliveryRow] {
    try db.transaction { () throws(LedgerError) -> [DeliveryRow] in
      var rows: [DeliveryRow] = []
      try db.prepare("SELECT \(Self.deliveryColumns) FROM deliveries WHERE state = 'sending' ORDER BY id")
        .query { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
      try db.prepare("UPDATE deliveries SET state = 'unknown', reply = COALESCE(reply, 'interrupted before the server''s final reply'), updated_at = ? WHERE state = 'sending'")
        .run([Self.timestamp()])
      return rows.map {
        var r = $0
        r.state = .unknown
        return r
      }
    }
  }

  /// Every delivery, in order, optionally for one invoice.
  public func deliveries(invoice: String? = nil) throws(LedgerError) -> [DeliveryRow] {
    var rows: [DeliveryRow] = []
    if let invoice {
      try db.prepare("SELECT \(Self.deliveryColumns) FROM deliveries WHERE invoice = ? ORDER BY id")
        .query([invoice]) { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    } else {
      try db.prepare("SELECT \(Self.deliveryColumns) FROM deliveries ORDER BY id")
        .query { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    }
    return rows
  }

  /// Deliveries in a given state.
  public func deliveries(state: DeliveryState) throws(LedgerError) -> [DeliveryRow] {
    var rows: [DeliveryRow] = []
    try db.prepare("SELECT \(Self.deliveryColumns) FROM deliveries WHERE state = ? ORDER BY id")
      .query([state.rawValue]) { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    return rows
  }

  /// Every invoice's history at once, for the nightly decisions.
  public func histories() throws(LedgerError) -> [String: InvoiceHistory] {
    var out: [String: InvoiceHistory] = [:]
    try db.prepare("SELECT \(Self.deliveryColumns) FROM deliveries ORDER BY id")
      .query { (r) throws(LedgerError) in
        let d = Self.delivery(r)
        out[d.invoice, default: .empty].deliveries.append(d.record)
      }
    try db.prepare("SELECT invoice, date FROM calls ORDER BY id").query { (r) throws(LedgerError) in
      if let d = CalendarDate(parsing: r.text(1)) { out[r.text(0), default: .empty].calls.append(d) }
    }
    return out
  }

  public func history(invoice: String) throws(LedgerError) -> InvoiceHistory {
    InvoiceHistory(
      deliveries: try deliveries(invoice: invoice).map(\.record),
      calls: try calls(invoice: invoice).map(\.date))
  }

  /// A person's verdict on `unknown` deliveries of `step` for `invoice`: delivered or not.
  /// Returns how many rows changed.
  @discardableResult
  public func resolve(invoice: String, step: Step, sent: Bool) throws(LedgerError) -> Int {
    try db.prepare(
      "UPDATE deliveries SET state = ?, reply = COALESCE(reply, '') || ?, updated_at = ? WHERE invoice = ? AND stage = ? AND state = 'unknown'"
    ).run([
      sent ? "sent" : "not-sent", sent ? " [resolved: delivered]" : " [resolved: not delivered]",
      Self.timestamp(), invoice, step.rawValue,
    ])
    return db.changes
  }

  // MARK: Calls

  public func recordCall(invoice: String, date: CalendarDate, note: String) throws(LedgerError) {
    try db.prepare("INSERT INTO calls (invoice, date, note, created_at) VALUES (?, ?, ?, ?)")
      .run([invoice, date.iso, note, Self.timestamp()])
  }

  public func calls(invoice: String? = nil) throws(LedgerError) -> [CallRow] {
    var rows: [CallRow] = []
    let sql = "SELECT id, invoice, date, note, created_at FROM calls" + (invoice == nil ? "" : " WHERE invoice = ?") + " ORDER BY id"
    try db.prepare(sql).query(invoice.map { [$0] } ?? []) { (r) throws(LedgerError) in
      rows.append(
        CallRow(
          id: r.int(0), invoice: r.text(1), date: CalendarDate(parsing: r.text(2)) ?? CalendarDate(dayNumber: 0),
          note: r.text(3), createdAt: r.text(4)))
    }
    return rows
  }
}
