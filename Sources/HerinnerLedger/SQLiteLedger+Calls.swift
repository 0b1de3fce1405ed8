import HerinnerCore

/// The `calls` table: phone calls a person logged.
extension SQLiteLedger {
  public func recordCall(invoice: String, date: CalendarDate, note: String) throws(LedgerError) {
    try db.prepare("INSERT INTO calls (invoice, date, note, created_at) VALUES (?, ?, ?, ?)")
      .run([invoice, date.iso, note, stamp()])
  }

  public func calls(invoice: String?) throws(LedgerError) -> [CallRow] {
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
}
