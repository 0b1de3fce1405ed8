import CSQLite
import Foundation
import HerinnerCore

extension SQLiteLedger: PaymentStore {
  public typealias ImportResult = StatementImportResult
  public typealias PaymentRow = PaymentRecord

  // MARK: Payments

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

  /// Payments, optionally only those in one status (reversed ones then left out), with their
  /// allocations, in the order they were imported.
  public func payments(status: String?) throws(LedgerError) -> [PaymentRow] {
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
    guard try userVersion() >= 2 else { return nil }  // read-only and from before payments
    try db.prepare("SELECT MAX(latest_booking) FROM statements").query { (r) throws(LedgerError) in
      d = r.optionalText(0).flatMap(CalendarDate.init(parsing:))
    }
    return d
  }

  public func statementImported(fileHash: String) throws(LedgerError) -> Bool {
    var known = false
    guard try userVersion() >= 2 else { return false }
    try db.prepare("SELECT 1 FROM statements WHERE file_hash = ?").query([fileHash]) {
      (_) throws(LedgerError) in known = true
    }
    return known
  }
}
