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
    """,
    """
    CREATE TABLE statements (
      id INTEGER PRIMARY KEY,
      file_hash TEXT NOT NULL UNIQUE,
      file TEXT NOT NULL,
      format TEXT NOT NULL,
      latest_booking TEXT,
      transactions INTEGER NOT NULL,
      imported_at TEXT NOT NULL
    );
    CREATE TABLE payments (
      id INTEGER PRIMARY KEY,
      entry_key TEXT NOT NULL UNIQUE,
      statement_id INTEGER NOT NULL REFERENCES statements(id),
      account TEXT NOT NULL,
      booking_date TEXT NOT NULL,
      amount_cents INTEGER NOT NULL,
      currency TEXT NOT NULL,
      debtor_name TEXT,
      debtor_iban TEXT,
      remittance TEXT,
      structured_ref TEXT,
      status TEXT NOT NULL CHECK (status IN ('matched','unmatched','resolved')),
      rule TEXT,
      reason TEXT,
      suspects TEXT,
      overpaid_cents INTEGER NOT NULL DEFAULT 0,
      imported_at TEXT NOT NULL
    );
    CREATE TABLE allocations (
      id INTEGER PRIMARY KEY,
      payment_id INTEGER NOT NULL REFERENCES payments(id),
      invoice TEXT NOT NULL,
      amount_cents INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX allocations_invoice ON allocations(invoice);
    """,
    // Reversals (CAMT RvslInd, MT940 RC): the credit undone keeps its row and its
    // allocations, marked by the reversal's entry key (unique: one reversal undoes one credit).
    """
    ALTER TABLE payments ADD COLUMN end_to_end TEXT;
    ALTER TABLE payments ADD COLUMN reversed_by TEXT;
    ALTER TABLE payments ADD COLUMN reversed_on TEXT;
    CREATE UNIQUE INDEX payments_reversed_by ON payments(reversed_by) WHERE reversed_by IS NOT NULL;
    """,
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
    let walInUse =
      ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) > 0
    let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    let uri = "file:\(encoded)?mode=ro" + (walInUse ? "" : "&immutable=1")
    db = try Database(path: uri, flags: SQLITE_OPEN_READONLY)
    let v = try userVersion()
    guard v <= Self.schemaVersion else {
      throw LedgerError(
        code: 0,
        message:
          "the ledger \(path) has schema \(v), newer than this herinner (\(Self.schemaVersion))")
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
        throw LedgerError(
          code: 0,
          message:
            "the ledger \(path) has schema \(v), newer than this herinner (\(Self.migrations.count))"
        )
      }
      for (i, sql) in Self.migrations.enumerated().dropFirst(v) {
        try db.execute(sql)
        try db.execute("PRAGMA user_version = \(i + 1)")
      }
    }
  }

  /// `2026-12-01T08:00:00.123Z` (UTC, milliseconds), as ISO8601DateFormatter wrote it, without
  /// making a formatter per record.
  static func timestamp(_ date: Date = Date()) -> String {
    let total = Int64((date.timeIntervalSince1970 * 1000).rounded())
    let (seconds, ms) = (total.quotientAndRemainder(dividingBy: 1000))
    var t = time_t(ms < 0 ? seconds - 1 : seconds)
    let millis = ms < 0 ? ms + 1000 : ms
    var parts = tm()
    gmtime_r(&t, &parts)
    func p(_ v: Int32, _ w: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    return
      "\(p(parts.tm_year + 1900, 4))-\(p(parts.tm_mon + 1, 2))-\(p(parts.tm_mday, 2))T\(p(parts.tm_hour, 2)):\(p(parts.tm_min, 2)):\(p(parts.tm_sec, 2)).\(p(Int32(millis), 3))Z"
  }

  static let deliveryColumns =
    "id, message_key, invoice, stage, state, resend, run_date, deadline, costs_cents, recipients, message_id, in_reply_to, reply_code, reply, archive_path, created_at, updated_at"

  static func delivery(_ r: Row) -> DeliveryRow {
    DeliveryRow(
      id: r.int(0), messageKey: r.text(1), invoice: r.text(2),
      step: Step(rawValue: r.text(3)) ?? .first,
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
    try commit(finishing: [], beginning: attempts)
  }

  /// Records several outcomes in one transaction.
  public func finish(_ results: [DeliveryResult]) throws(LedgerError) {
    try commit(finishing: results, beginning: [])
  }

  /// The outcomes of the messages that went out and the `sending` records of the next ones, in
  /// one durable transaction: one fsync per group of the night instead of two.
  public func commit(finishing results: [DeliveryResult], beginning attempts: [NewAttempt])
    throws(LedgerError)
  {
    guard !results.isEmpty || !attempts.isEmpty else { return }
    let now = Self.timestamp()
    try db.transaction { () throws(LedgerError) in
      if !results.isEmpty {
        let update = try db.prepare(
          "UPDATE deliveries SET state = ?, reply_code = ?, reply = ?, archive_path = ?, updated_at = ? WHERE message_key = ?"
        )
        for r in results {
          try update.run([r.state.rawValue, r.replyCode, r.reply, r.archivePath, now, r.messageKey])
        }
      }
      guard !attempts.isEmpty else { return }
      let insert = try db.prepare(
        "INSERT INTO deliveries (message_key, invoice, stage, state, resend, run_date, deadline, costs_cents, recipients, message_id, in_reply_to, archive_path, created_at, updated_at) VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      )
      for a in attempts {
        for inv in a.invoices {
          do throws(LedgerError) {
            try insert.run([
              a.messageKey, inv, a.step.rawValue, a.isResend, a.runDate.iso, a.deadline?.iso,
              a.costs, a.recipients.joined(separator: ", "), a.messageID, a.inReplyTo,
              a.archivePath, now, now,
            ])
          } catch {
            if error.code & 0xFF == SQLITE_CONSTRAINT {
              throw LedgerError(
                code: error.code,
                message:
                  "invoice \(inv): a \(a.step.rawValue) reminder is already recorded (sending, sent or unknown); not recording it twice"
              )
            }
            throw error
          }
        }
      }
    }
  }

  public func abandon(_ messageKeys: [String]) throws(LedgerError) {
    try db.transaction { () throws(LedgerError) in
      let delete = try db.prepare(
        "DELETE FROM deliveries WHERE message_key = ? AND state = 'sending'")
      for k in messageKeys { try delete.run([k]) }
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
      try db.prepare(
        "SELECT \(Self.deliveryColumns) FROM deliveries WHERE state = 'sending' ORDER BY id"
      )
      .query { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
      try db.prepare(
        "UPDATE deliveries SET state = 'unknown', reply = COALESCE(reply, 'interrupted before the server''s final reply'), updated_at = ? WHERE state = 'sending'"
      )
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
      if let d = CalendarDate(parsing: r.text(1)) {
        out[r.text(0), default: .empty].calls.append(d)
      }
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
    let sql =
      "SELECT id, invoice, date, note, created_at FROM calls"
      + (invoice == nil ? "" : " WHERE invoice = ?") + " ORDER BY id"
    try db.prepare(sql).query(invoice.map { [$0] } ?? []) { (r) throws(LedgerError) in
      rows.append(
        CallRow(
          id: r.int(0), invoice: r.text(1),
          date: CalendarDate(parsing: r.text(2)) ?? CalendarDate(dayNumber: 0),
          note: r.text(3), createdAt: r.text(4)))
    }
    return rows
  }

  // MARK: Payments

  /// The outcome of importing one statement file.
  public struct ImportResult: Sendable {
    public var alreadyImported = false
    public var credits = 0
    public var newCredits = 0
    public var matched = 0
    public var unmatched = 0
    public var overpaid: [(payment: Int64, invoice: String, amount: Money)] = []
    /// Credits undone by a reversal in this file, with the invoices that are open again.
    public var reversed: [(payment: Int64, invoices: [String])] = []
    /// Reversals that could not be tied to exactly one earlier credit: a person looks.
    public var unplacedReversals: [BankTransaction] = []
  }

  /// Imports a statement in one transaction (nothing half-imported). Credits already known by
  /// their entry key (an overlapping statement, the same file again) are never counted twice.
  /// `match` decides for each new credit, given the allocations so far. A reversal undoes the
  /// one earlier credit it takes back: that credit's allocations stop counting.
  public func importStatement(
    fileHash: String, file: String, format: String, latestBooking: CalendarDate?,
    transactions: [BankTransaction],
    match: (BankTransaction, [String: Int64]) -> PaymentMatch
  ) throws(LedgerError) -> ImportResult {
    try db.transaction { () throws(LedgerError) -> ImportResult in
      var result = ImportResult()
      var known = false
      try db.prepare("SELECT 1 FROM statements WHERE file_hash = ?").query([fileHash]) {
        (_) throws(LedgerError) in known = true
      }
      if known {
        result.alreadyImported = true
        return result
      }
      let now = Self.timestamp()
      try db.prepare(
        "INSERT INTO statements (file_hash, file, format, latest_booking, transactions, imported_at) VALUES (?, ?, ?, ?, ?, ?)"
      )
      .run([fileHash, file, format, latestBooking?.iso, transactions.count, now])
      let statementID = db.lastInsertID
      var allocated = try allocationTotals()
      let insert = try db.prepare(
        "INSERT OR IGNORE INTO payments (entry_key, statement_id, account, booking_date, amount_cents, currency, debtor_name, debtor_iban, remittance, structured_ref, status, rule, reason, suspects, overpaid_cents, imported_at, end_to_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      )
      let allocate = try db.prepare(
        "INSERT INTO allocations (payment_id, invoice, amount_cents, created_at) VALUES (?, ?, ?, ?)"
      )
      for t in transactions {
        if t.undoesACredit, t.amount.cents > 0 {
          try reverse(t, into: &result, allocated: &allocated)
          continue
        }
        guard t.isIncomingPayment else { continue }
        result.credits += 1
        var exists = false
        try db.prepare("SELECT 1 FROM payments WHERE entry_key = ?").query([t.key]) {
          (_) throws(LedgerError) in exists = true
        }
        if exists { continue }
        result.newCredits += 1
        let verdict = match(t, allocated)
        var status = "unmatched"
        var rule: String? = nil
        var reason: String? = nil
        var suspects: String? = nil
        var overpaid: Int64 = 0
        switch verdict {
        case .matched(let r, _, let over):
          status = "matched"
          rule = r.rawValue
          overpaid = over.cents
        case .unmatched(let why, let s):
          reason = why
          suspects = s.joined(separator: ",")
        }
        try insert.run([
          t.key, statementID, t.account, t.bookingDate.iso, t.amount.cents, t.amount.currency,
          t.debtorName, t.debtorIBAN,
          t.remittance, t.structuredReference, status, rule, reason, suspects, overpaid, now,
          t.endToEndID,
        ])
        let paymentID = db.lastInsertID
        if case .matched(_, let allocations, let over) = verdict {
          result.matched += 1
          for (invoice, amount) in allocations.sorted(by: { $0.key < $1.key }) {
            try allocate.run([paymentID, invoice, amount.cents, now])
            allocated[invoice, default: 0] += amount.cents
          }
          if over.cents > 0, let last = allocations.keys.sorted().last {
            result.overpaid.append((paymentID, last, over))
          }
        } else {
          result.unmatched += 1
        }
      }
      return result
    }
  }

  /// Finds the one credit a reversal takes back: same amount and currency, booked on or before
  /// it, not yet reversed, and the same payer (end-to-end reference, IBAN or name, as far as
  /// both give them). None or several: left to a person, never a guess.
  func reverse(
    _ t: BankTransaction, into result: inout ImportResult, allocated: inout [String: Int64]
  ) throws(LedgerError) {
    var done = false
    try db.prepare("SELECT 1 FROM payments WHERE reversed_by = ?").query([t.key]) {
      (_) throws(LedgerError) in done = true
    }
    if done { return }
    func norm(_ s: String?) -> String? {
      s.map { String($0.uppercased().filter { $0.isLetter || $0.isNumber }) }.flatMap {
        $0.isEmpty ? nil : $0
      }
    }
    var candidates: [(id: Int64, e2e: Bool)] = []
    try db.prepare(
      "SELECT id, debtor_iban, debtor_name, end_to_end FROM payments WHERE reversed_by IS NULL AND amount_cents = ? AND currency = ? AND booking_date <= ? AND account = ? ORDER BY id"
    ).query([t.amount.cents, t.amount.currency, t.bookingDate.iso, t.account]) {
      (r) throws(LedgerError) in
      let (iban, name, e2e) = (norm(r.optionalText(1)), norm(r.optionalText(2)), r.optionalText(3))
      if let a = t.endToEndID, let b = e2e, a != b { return }
      if let a = norm(t.debtorIBAN), let b = iban {
        if a != b { return }
      } else if let a = norm(t.debtorName), let b = name, a != b {
        return
      }
      candidates.append((r.int(0), t.endToEndID != nil && t.endToEndID == e2e))
    }
    let sure = candidates.filter(\.e2e)
    guard
      let id = (candidates.count == 1 ? candidates.first : sure.count == 1 ? sure.first : nil)?.id
    else {
      result.unplacedReversals.append(t)
      return
    }
    try db.prepare("UPDATE payments SET reversed_by = ?, reversed_on = ? WHERE id = ?").run([
      t.key, t.bookingDate.iso, id,
    ])
    var invoices: [String] = []
    try db.prepare("SELECT invoice, amount_cents FROM allocations WHERE payment_id = ? ORDER BY id")
      .query([id]) { (r) throws(LedgerError) in
        invoices.append(r.text(0))
        allocated[r.text(0), default: 0] -= r.int(1)
      }
    result.reversed.append((id, invoices))
  }

  /// Amount allocated per invoice from matched bank payments that were not reversed.
  public func allocationTotals() throws(LedgerError) -> [String: Int64] {
    var out: [String: Int64] = [:]
    // A ledger opened read-only is not migrated: one from before payments has none.
    let v = try userVersion()
    guard v >= 2 else { return out }
    try db.prepare(
      v >= 3
        ? "SELECT a.invoice, SUM(a.amount_cents) FROM allocations a JOIN payments p ON p.id = a.payment_id WHERE p.reversed_by IS NULL GROUP BY a.invoice"
        : "SELECT invoice, SUM(amount_cents) FROM allocations GROUP BY invoice"
    ).query { (r) throws(LedgerError) in
      out[r.text(0)] = r.int(1)
    }
    return out
  }

  public struct PaymentRow: Sendable {
    public var id: Int64
    public var bookingDate: String
    public var amount: Money
    public var debtorName: String?
    public var debtorIBAN: String?
    public var remittance: String?
    public var status: String
    public var rule: String?
    public var reason: String?
    public var suspects: [String]
    public var overpaid: Int64
    /// What counts now: empty for a reversed payment.
    public var invoices: [String: Int64]
    /// The statement file's name (without its folder).
    public var statement: String = ""
    public var structuredReference: String?
    public var endToEndID: String?
    /// The reversal's booking date, when a reversal undid this credit.
    public var reversedOn: String?
    /// Every allocation made, in order, reversed or not.
    public var allocations: [(invoice: String, cents: Int64)] = []

    /// `matched`, `unmatched`, `set-aside` or `reversed`.
    public var state: String {
      if reversedOn != nil { return "reversed" }
      switch status {
      case "matched": return "matched"
      case "resolved": return rule == "set-aside" ? "set-aside" : "matched"
      default: return "unmatched"
      }
    }
  }

  /// Payments, optionally only those in one status (reversed ones then left out), with their
  /// allocations, in the order they were imported.
  public func payments(status: String? = nil) throws(LedgerError) -> [PaymentRow] {
    var rows: [PaymentRow] = []
    let v = try userVersion()
    guard v >= 2 else { return rows }
    let sql =
      "SELECT p.id, p.booking_date, p.amount_cents, p.currency, p.debtor_name, p.debtor_iban, p.remittance, p.status, p.rule, p.reason, p.suspects, p.overpaid_cents, s.file, p.structured_ref, "
      + (v >= 3 ? "p.end_to_end, p.reversed_on" : "NULL, NULL")
      + " FROM payments p JOIN statements s ON s.id = p.statement_id"
      + (status == nil ? "" : " WHERE p.status = ?" + (v >= 3 ? " AND p.reversed_by IS NULL" : ""))
      + " ORDER BY p.id"
    try db.prepare(sql).query(status.map { [$0] } ?? []) { (r) throws(LedgerError) in
      let file = r.text(12)
      rows.append(
        PaymentRow(
          id: r.int(0), bookingDate: r.text(1), amount: Money(cents: r.int(2), currency: r.text(3)),
          debtorName: r.optionalText(4),
          debtorIBAN: r.optionalText(5), remittance: r.optionalText(6), status: r.text(7),
          rule: r.optionalText(8),
          reason: r.optionalText(9),
          suspects: (r.optionalText(10) ?? "").split(separator: ",").map(String.init),
          overpaid: r.int(11), invoices: [:],
          statement: String(file.split(separator: "/").last ?? Substring(file)),
          structuredReference: r.optionalText(13), endToEndID: r.optionalText(14),
          reversedOn: r.optionalText(15)))
    }
    var byPayment: [Int64: [(String, Int64)]] = [:]
    try db.prepare("SELECT payment_id, invoice, amount_cents FROM allocations ORDER BY id").query {
      (r) throws(LedgerError) in
      byPayment[r.int(0), default: []].append((r.text(1), r.int(2)))
    }
    return rows.map {
      var p = $0
      p.allocations = (byPayment[p.id] ?? []).map { (invoice: $0.0, cents: $0.1) }
      if p.reversedOn == nil {
        for a in p.allocations { p.invoices[a.invoice, default: 0] += a.cents }
      }
      return p
    }
  }

  /// A person's verdict on an unmatched payment: allocate it to an invoice, or set it aside.
  public func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws(LedgerError)
    -> Bool
  {
    try db.transaction { () throws(LedgerError) -> Bool in
      var found: Int64? = nil
      try db.prepare(
        "SELECT amount_cents FROM payments WHERE id = ? AND status = 'unmatched' AND reversed_by IS NULL"
      )
      .query([id]) { (r) throws(LedgerError) in found = r.int(0) }
      guard let total = found else { return false }
      if let invoice {
        try db.prepare(
          "INSERT INTO allocations (payment_id, invoice, amount_cents, created_at) VALUES (?, ?, ?, ?)"
        )
        .run([id, invoice, amount ?? total, Self.timestamp()])
      }
      try db.prepare("UPDATE payments SET status = 'resolved', rule = ? WHERE id = ?").run([
        invoice == nil ? "set-aside" : "manual", id,
      ])
      return true
    }
  }

  /// The newest imported statement's own date (its latest booking date).
  public func latestStatementDate() throws(LedgerError) -> CalendarDate? {
    var d: CalendarDate? = nil
    try db.prepare("SELECT MAX(latest_booking) FROM statements").query { (r) throws(LedgerError) in
      d = r.optionalText(0).flatMap(CalendarDate.init(parsing:))
    }
    return d
  }

  public func statementImported(fileHash: String) throws(LedgerError) -> Bool {
    var known = false
    try db.prepare("SELECT 1 FROM statements WHERE file_hash = ?").query([fileHash]) {
      (_) throws(LedgerError) in known = true
    }
    return known
  }
}
