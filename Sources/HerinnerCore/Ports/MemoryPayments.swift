import Synchronization

/// The payments half of the in-memory ledger: statements, credits, allocations and reversals,
/// with the same semantics as the SQLite tables (the port-level suite holds both to them).
public final class MemoryPayments: PaymentStore, Sendable {
  struct Credit {
    var record: PaymentRecord
    var entryKey: String
    var account: String
    var reversedBy: String?
  }
  struct State {
    var statements: [(hash: String, latest: CalendarDate?)] = []
    var credits: [Credit] = []
    var allocations: [(payment: Int64, invoice: String, cents: Int64)] = []
    var nextID: Int64 = 1
  }
  private let state = Mutex(State())

  public init() {}

  public func statementImported(fileHash: String) throws -> Bool {
    state.withLock { s in s.statements.contains { $0.hash == fileHash } }
  }

  public func importStatement(
    fileHash: String, file: String, format: String, latestBooking: CalendarDate?,
    transactions: [BankTransaction], match: (BankTransaction, [String: Int64]) -> PaymentMatch
  ) throws -> StatementImportResult {
    // Under the lock from the first read to the last write: as one SQLite transaction.
    return state.withLock { (live: inout State) -> StatementImportResult in
      var s = live
      var result = StatementImportResult()
      if s.statements.contains(where: { $0.hash == fileHash }) {
        result.alreadyImported = true
        return result
      }
      s.statements.append((fileHash, latestBooking))
      var allocated = Self.totals(s)
      let name = String(file.split(separator: "/").last ?? Substring(file))
      for t in transactions {
        if t.undoesACredit, t.amount.cents > 0 {
          Self.reverse(t, in: &s, into: &result, allocated: &allocated)
          continue
        }
        guard t.isIncomingPayment else { continue }
        result.credits += 1
        if s.credits.contains(where: { $0.entryKey == t.key }) { continue }
        result.newCredits += 1
        let verdict = match(t, allocated)
        let id = s.nextID
        s.nextID += 1
        var record = PaymentRecord(
          id: id, bookingDate: t.bookingDate.iso, amount: t.amount, debtorName: t.debtorName,
          debtorIBAN: t.debtorIBAN, remittance: t.remittance, status: "unmatched", rule: nil,
          reason: nil, suspects: [], overpaid: 0, invoices: [:], statement: name,
          structuredReference: t.structuredReference, endToEndID: t.endToEndID)
        switch verdict {
        case .matched(let rule, let allocations, let over):
          record.status = "matched"
          record.rule = rule.rawValue
          record.overpaid = over.cents
          result.matched += 1
          for (invoice, amount) in allocations.sorted(by: { $0.key < $1.key }) {
            s.allocations.append((id, invoice, amount.cents))
            allocated[invoice, default: 0] += amount.cents
          }
          if over.cents > 0, let last = allocations.keys.sorted().last {
            result.overpaid.append((id, last, over))
          }
        case .unmatched(let why, let suspects):
          record.reason = why
          record.suspects = suspects
          result.unmatched += 1
        }
        s.credits.append(Credit(record: record, entryKey: t.key, account: t.account))
      }
      live = s  // the whole file or nothing
      return result
    }
  }

  /// The one credit a reversal takes back (same amount, currency and account, booked on or
  /// before it, not reversed yet, the same payer as far as both say); none or several: left to
  /// a person.
  static func reverse(
    _ t: BankTransaction, in s: inout State, into result: inout StatementImportResult,
    allocated: inout [String: Int64]
  ) {
    if s.credits.contains(where: { $0.reversedBy == t.key }) { return }
    func norm(_ v: String?) -> String? {
      v.map { String($0.uppercased().filter { $0.isLetter || $0.isNumber }) }.flatMap {
        $0.isEmpty ? nil : $0
      }
    }
    var candidates: [(index: Int, e2e: Bool)] = []
    for (i, c) in s.credits.enumerated()
    where c.reversedBy == nil && c.record.amount == t.amount && c.account == t.account
      && c.record.bookingDate <= t.bookingDate.iso
    {
      let r = c.record
      if let a = t.endToEndID, let b = r.endToEndID, a != b { continue }
      if let a = norm(t.debtorIBAN), let b = norm(r.debtorIBAN) {
        if a != b { continue }
      } else if let a = norm(t.debtorName), let b = norm(r.debtorName), a != b {
        continue
      }
      candidates.append((i, t.endToEndID != nil && t.endToEndID == r.endToEndID))
    }
    let sure = candidates.filter(\.e2e)
    guard
      let i = (candidates.count == 1 ? candidates.first : sure.count == 1 ? sure.first : nil)?
        .index
    else {
      result.unplacedReversals.append(t)
      return
    }
    s.credits[i].reversedBy = t.key
    s.credits[i].record.reversedOn = t.bookingDate.iso
    let id = s.credits[i].record.id
    var invoices: [String] = []
    for a in s.allocations where a.payment == id {
      invoices.append(a.invoice)
      allocated[a.invoice, default: 0] -= a.cents
    }
    result.reversed.append((id, invoices))
  }

  static func totals(_ s: State) -> [String: Int64] {
    let reversed = Set(s.credits.filter { $0.reversedBy != nil }.map(\.record.id))
    var out: [String: Int64] = [:]
    for a in s.allocations where !reversed.contains(a.payment) {
      out[a.invoice, default: 0] += a.cents
    }
    return out
  }

  public func allocationTotals() throws -> [String: Int64] { state.withLock { Self.totals($0) } }

  public func payments(status: String?) throws -> [PaymentRecord] {
    state.withLock { s in
      s.credits.filter { c in
        status == nil || (c.record.status == status && c.reversedBy == nil)
      }.map { c in
        var r = c.record
        r.allocations = s.allocations.filter { $0.payment == r.id }.map { ($0.invoice, $0.cents) }
        if r.reversedOn == nil {
          for a in r.allocations { r.invoices[a.invoice, default: 0] += a.cents }
        }
        return r
      }
    }
  }

  public func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws -> Bool {
    state.withLock { s in
      guard
        let i = s.credits.firstIndex(where: {
          $0.record.id == id && $0.record.status == "unmatched" && $0.reversedBy == nil
        })
      else { return false }
      if let invoice {
        s.allocations.append((id, invoice, amount ?? s.credits[i].record.amount.cents))
      }
      s.credits[i].record.status = "resolved"
      s.credits[i].record.rule = invoice == nil ? "set-aside" : "manual"
      return true
    }
  }

  public func latestStatementDate() throws -> CalendarDate? {
    state.withLock { s in s.statements.compactMap(\.latest).max() }
  }
}

/// The in-memory ledger holds payments too, so that it is a twin of the whole SQLite ledger.
extension MemoryLedger: PaymentStore {
  public func statementImported(fileHash: String) throws -> Bool {
    try paymentStore.statementImported(fileHash: fileHash)
  }
  public func importStatement(
    fileHash: String, file: String, format: String, latestBooking: CalendarDate?,
    transactions: [BankTransaction], match: (BankTransaction, [String: Int64]) -> PaymentMatch
  ) throws -> StatementImportResult {
    try paymentStore.importStatement(
      fileHash: fileHash, file: file, format: format, latestBooking: latestBooking,
      transactions: transactions, match: match)
  }
  public func allocationTotals() throws -> [String: Int64] { try paymentStore.allocationTotals() }
  public func payments(status: String?) throws -> [PaymentRecord] {
    try paymentStore.payments(status: status)
  }
  public func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws -> Bool {
    try paymentStore.resolvePayment(id: id, invoice: invoice, amount: amount)
  }
  public func latestStatementDate() throws -> CalendarDate? {
    try paymentStore.latestStatementDate()
  }
}
