import CSQLite
import HerinnerCore

/// The `deliveries` table, one row per invoice of each attempt.
extension SQLiteLedger {
  enum DeliveryColumns {
    static let list =
      "id, message_key, invoice, stage, state, resend, run_date, deadline, costs_cents, recipients, message_id, in_reply_to, reply_code, reply, archive_path, created_at, updated_at"
  }

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

  /// Records several attempts as `sending` in one durable transaction (a group commit): all
  /// or none. Throws when an original delivery of that step is already live for an invoice.
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
    let now = stamp()
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
            if error.code == .duplicate { throw LedgerError.duplicate(invoice: inv, step: a.step) }
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

  public func markInterruptedAsUnknown() throws(LedgerError) -> [DeliveryRow] {
    try db.transaction { () throws(LedgerError) -> [DeliveryRow] in
      var rows: [DeliveryRow] = []
      try db.prepare(
        "SELECT \(DeliveryColumns.list) FROM deliveries WHERE state = 'sending' ORDER BY id"
      )
      .query { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
      try db.prepare(
        "UPDATE deliveries SET state = 'unknown', reply = COALESCE(reply, ?), updated_at = ? WHERE state = 'sending'"
      )
      .run([LedgerText.interrupted, stamp()])
      return rows.map {
        var r = $0
        r.state = .unknown
        r.reply = r.reply ?? LedgerText.interrupted
        return r
      }
    }
  }

  public func deliveries(invoice: String?) throws(LedgerError) -> [DeliveryRow] {
    var rows: [DeliveryRow] = []
    if let invoice {
      try db.prepare(
        "SELECT \(DeliveryColumns.list) FROM deliveries WHERE invoice = ? ORDER BY id"
      )
      .query([invoice]) { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    } else {
      try db.prepare("SELECT \(DeliveryColumns.list) FROM deliveries ORDER BY id")
        .query { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    }
    return rows
  }

  public func deliveries(state: DeliveryState) throws(LedgerError) -> [DeliveryRow] {
    var rows: [DeliveryRow] = []
    try db.prepare("SELECT \(DeliveryColumns.list) FROM deliveries WHERE state = ? ORDER BY id")
      .query([state.rawValue]) { (r) throws(LedgerError) in rows.append(Self.delivery(r)) }
    return rows
  }

  /// Every invoice's history in two queries (the night reads them all at once).
  public func histories() throws(LedgerError) -> [String: InvoiceHistory] {
    var out: [String: InvoiceHistory] = [:]
    try db.prepare(
      "SELECT invoice, stage, state, resend, run_date, deadline, reply, message_id FROM deliveries ORDER BY id"
    )
    .query { (r) throws(LedgerError) in
      out[r.text(0), default: .empty].deliveries.append(
        DeliveryRecord(
          step: Step(rawValue: r.text(1)) ?? .first,
          state: DeliveryState(rawValue: r.text(2)) ?? .unknown,
          date: CalendarDate(parsing: r.text(4)) ?? CalendarDate(dayNumber: 0),
          isResend: r.int(3) != 0, deadline: r.optionalText(5).flatMap(CalendarDate.init(parsing:)),
          reply: r.optionalText(6), messageID: r.text(7)))
    }
    try db.prepare("SELECT invoice, date FROM calls ORDER BY id").query { (r) throws(LedgerError) in
      if let d = CalendarDate(parsing: r.text(1)) {
        out[r.text(0), default: .empty].calls.append(d)
      }
    }
    return out
  }

  @discardableResult
  public func resolve(invoice: String, step: Step, sent: Bool) throws(LedgerError) -> Int {
    let from = DeliveryState.resolvable(sent: sent).map { "'\($0.rawValue)'" }.joined(
      separator: ",")
    try db.prepare(
      "UPDATE deliveries SET state = ?, reply = COALESCE(reply, '') || ?, updated_at = ? WHERE invoice = ? AND stage = ? AND state IN (\(from))"
    ).run([
      sent ? DeliveryState.sent.rawValue : DeliveryState.notSent.rawValue,
      LedgerText.resolved(sent: sent), stamp(), invoice, step.rawValue,
    ])
    return db.changes
  }
}
