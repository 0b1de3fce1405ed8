import CSQLite
import Foundation
import HerinnerCore

extension SQLiteLedger {
  // MARK: Payments

  /// The outcome of importing one statement file.
  public struct ImportResult: Sendable {
    public var alreadyImported = false
    public var credits = 0
    public var newCredits = 0
    public var matched = 0
    public var unmatched = 0
    public var overpaid: [(payment: Int64, invoice: String, amount: Money)] = []
  }

  /// Imports a statement in one transaction (nothing half-imported). Credits already known by
  /// their entry key (an overlapping statement, the same file again) are never counted twice.
  /// `match` decides for each new credit, given the allocations so far.
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
        "INSERT OR IGNORE INTO payments (entry_key, statement_id, account, booking_date, amount_cents, currency, debtor_name, debtor_iban, remittance, structured_ref, status, rule, reason, suspects, overpaid_cents, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      )
      let allocate = try db.prepare(
        "INSERT INTO allocations (payment_id, invoice, amount_cents, created_at) VALUES (?, ?, ?, ?)"
      )
      for t in transactions where t.isCredit && !t.isReversal {
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

  /// Amount allocated per invoice from matched bank payments.
  public func allocationTotals() throws(LedgerError) -> [String: Int64] {
    var out: [String: Int64] = [:]
    try db.prepare("SELECT invoice, SUM(amount_cents) FROM allocations GROUP BY invoice").query {
      (r) throws(LedgerError) in
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
    public var invoices: [String: Int64]
  }

  /// Payments, optionally only those in one status, with their allocations.
  public func payments(status: String? = nil) throws(LedgerError) -> [PaymentRow] {
    var rows: [PaymentRow] = []
    let sql =
      "SELECT id, booking_date, amount_cents, currency, debtor_name, debtor_iban, remittance, status, rule, reason, suspects, overpaid_cents FROM payments"
      + (status == nil ? "" : " WHERE status = ?") + " ORDER BY id"
    try db.prepare(sql).query(status.map { [$0] } ?? []) { (r) throws(LedgerError) in
      rows.append(
        PaymentRow(
          id: r.int(0), bookingDate: r.text(1), amount: Money(cents: r.int(2), currency: r.text(3)),
          debtorName: r.optionalText(4),
          debtorIBAN: r.optionalText(5), remittance: r.optionalText(6), status: r.text(7),
          rule: r.optionalText(8),
          reason: r.optionalText(9),
          suspects: (r.optionalText(10) ?? "").split(separator: ",").map(String.init),
          overpaid: r.int(11), invoices: [:]))
    }
    var byPayment: [Int64: [String: Int64]] = [:]
    try db.prepare("SELECT payment_id, invoice, amount_cents FROM allocations").query {
      (r) throws(LedgerError) in
      byPayment[r.int(0), default: [:]][r.text(1), default: 0] += r.int(2)
    }
    return rows.map {
      var p = $0
      p.invoices = byPayment[p.id] ?? [:]
      return p
    }
  }

  /// A person's verdict on an unmatched payment: allocate it to an invoice, or set it aside.
  public func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws(LedgerError)
    -> Bool
  {
    try db.transaction { () throws(LedgerError) -> Bool in
      var found: Int64? = nil
      try db.prepare("SELECT amount_cents FROM payments WHERE id = ? AND status = 'unmatched'")
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

