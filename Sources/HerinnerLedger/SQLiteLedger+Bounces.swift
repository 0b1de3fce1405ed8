import CSQLite
import HerinnerCore

/// The `bounces` table (returned mail, one row per report read) and `imap_cursors`.
extension SQLiteLedger: BounceStore {
  enum BounceColumns {
    static let list =
      "b.id, b.report_id, b.message_key, b.kind, b.status, b.recipient, b.diagnostic, b.report_date, b.source, b.counted_as_hard, b.created_at"
  }

  static func bounce(_ r: Row) -> BounceRow {
    BounceRow(
      id: r.int(0),
      bounce: NewBounce(
        reportID: r.text(1), messageKey: r.optionalText(2),
        kind: BounceRecordKind(rawValue: r.text(3)) ?? .notABounce, status: r.optionalText(4),
        recipient: r.optionalText(5), diagnostic: r.optionalText(6),
        reportDate: r.optionalText(7).flatMap(CalendarDate.init(parsing:)), source: r.text(8)),
      countedAsHard: r.int(9) != 0, createdAt: r.text(10))
  }

  /// Records one report and what it does to its delivery, in one transaction.
  public func recordBounce(_ bounce: NewBounce) throws(LedgerError) -> BounceOutcome {
    let now = stamp()
    return try db.transaction { () throws(LedgerError) -> BounceOutcome in
      var known = false
      try db.prepare("SELECT 1 FROM bounces WHERE report_id = ?").query([bounce.reportID]) {
        (_) throws(LedgerError) in known = true
      }
      if known { return .alreadyRecorded }
      var changed: [DeliveryRow] = []
      if let key = bounce.messageKey {
        var earlier = Set<CalendarDate>()
        try db.prepare(
          "SELECT report_date FROM bounces WHERE message_key = ? AND kind = 'soft' AND report_date IS NOT NULL"
        ).query([key]) { (r) throws(LedgerError) in
          if let d = CalendarDate(parsing: r.text(0)) { earlier.insert(d) }
        }
        if BounceRule.countsAsHard(bounce, earlierSoftDays: earlier) {
          let states = BounceRule.bounceable.map { "'\($0.rawValue)'" }.sorted()
            .joined(separator: ",")
          try db.prepare(
            "SELECT \(DeliveryColumns.list) FROM deliveries WHERE message_key = ? AND state IN (\(states)) ORDER BY id"
          ).query([key]) { (r) throws(LedgerError) in
            var row = Self.delivery(r)
            row.state = .bounced
            row.updatedAt = now
            changed.append(row)
          }
          try db.prepare(
            "UPDATE deliveries SET state = 'bounced', updated_at = ? WHERE message_key = ? AND state IN (\(states))"
          ).run([now, key])
        }
      }
      try db.prepare(
        "INSERT INTO bounces (report_id, message_key, kind, status, recipient, diagnostic, report_date, source, counted_as_hard, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      ).run([
        bounce.reportID, bounce.messageKey, bounce.kind.rawValue, bounce.status, bounce.recipient,
        bounce.diagnostic, bounce.reportDate?.iso, bounce.source,
        bounce.kind == .soft && !changed.isEmpty, now,
      ])
      return changed.isEmpty ? .noted : .bounced(changed)
    }
  }

  public func bounces(invoice: String?) throws(LedgerError) -> [BounceRow] {
    var rows: [BounceRow] = []
    // A ledger of an earlier schema opened read-only (`history`) has no bounces yet.
    var exists = false
    try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bounces'").query {
      (_) throws(LedgerError) in exists = true
    }
    guard exists else { return [] }
    let sql =
      invoice == nil
      ? "SELECT \(BounceColumns.list) FROM bounces b ORDER BY b.id"
      : "SELECT \(BounceColumns.list) FROM bounces b WHERE b.message_key IN (SELECT message_key FROM deliveries WHERE invoice = ?) ORDER BY b.id"
    try db.prepare(sql).query(invoice.map { [$0] } ?? []) { (r) throws(LedgerError) in
      rows.append(Self.bounce(r))
    }
    return rows
  }

  public func mailboxCursor(_ mailbox: String) throws(LedgerError) -> MailboxCursor? {
    var cursor: MailboxCursor?
    try db.prepare("SELECT uid_validity, last_uid FROM imap_cursors WHERE mailbox = ?").query([
      mailbox
    ]) { (r) throws(LedgerError) in
      // UIDs are 32-bit unsigned (RFC 3501 §2.3.1.1); anything else was not written by us.
      if let v = UInt32(exactly: r.int(0)), let u = UInt32(exactly: r.int(1)) {
        cursor = MailboxCursor(uidValidity: v, lastUID: u)
      }
    }
    return cursor
  }

  public func saveMailboxCursor(_ cursor: MailboxCursor, for mailbox: String) throws(LedgerError) {
    try db.prepare(
      "INSERT INTO imap_cursors (mailbox, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at"
    ).run([mailbox, Int64(cursor.uidValidity), Int64(cursor.lastUID), stamp()])
  }
}
