import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLedger

/// Every implementation of the payments port, on fresh storage.
enum PaymentBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
  case sqlite, memory, memoryLedger
  var testDescription: String { rawValue }

  func make() throws -> (any PaymentStore, AnyObject?) {
    switch self {
    case .sqlite:
      let dir = TempFolder()
      return (try SQLiteLedger(path: dir.ledger, clock: Backend.clock), dir)
    case .memory:
      return (MemoryPayments(), nil)
    case .memoryLedger:
      return (MemoryLedger(clock: Backend.clock), nil)
    }
  }
}

func credit(
  _ key: String, _ cents: Int64, on day: String = "2026-11-30", name: String? = "J. Jansen",
  iban: String? = "NL02ABNA0123456789", reversal: Bool = false
) -> BankTransaction {
  BankTransaction(
    key: key, account: "NL91ABNA0417164300", bookingDate: CalendarDate(parsing: day)!,
    amount: Money(cents: cents), isCredit: !reversal, isReversal: reversal, debtorName: name,
    debtorIBAN: iban, remittance: "factuur 2026-0101")
}

/// Matches every credit to invoice 2026-0101, except those it is told to leave unmatched.
func matcher(unmatched: Set<String> = []) -> (BankTransaction, [String: Int64]) -> PaymentMatch {
  { t, _ in
    unmatched.contains(t.key)
      ? .unmatched(reason: "no certain match", suspects: ["2026-0101"])
      : .matched(
        rule: .invoiceNumber, allocations: ["2026-0101": t.amount], overpaid: Money(cents: 0))
  }
}

/// The payments port's semantics, written once and run against every backend.
@Suite struct PaymentStorePortTests {
  @Test(arguments: PaymentBackend.allCases)
  func aStatementIsImportedOnceAndACreditCountedOnce(_ b: PaymentBackend) throws {
    let (store, keep) = try b.make()
    defer { _ = keep }
    let first = try store.importStatement(
      fileHash: "h1", file: "/in/a.xml", format: "camt053",
      latestBooking: CalendarDate(parsing: "2026-11-30"),
      transactions: [credit("e1", 50_00), credit("e2", 25_00)], match: matcher())
    #expect(first.credits == 2 && first.newCredits == 2 && first.matched == 2)
    #expect(try store.statementImported(fileHash: "h1"))
    #expect(try store.importStatement(
      fileHash: "h1", file: "/in/a.xml", format: "camt053", latestBooking: nil,
      transactions: [credit("e1", 50_00)], match: matcher()
    ).alreadyImported)
    // An overlapping statement: the known entry counts nothing twice.
    let overlap = try store.importStatement(
      fileHash: "h2", file: "/in/b.xml", format: "camt053",
      latestBooking: CalendarDate(parsing: "2026-12-01"),
      transactions: [credit("e2", 25_00), credit("e3", 10_00, on: "2026-12-01")], match: matcher())
    #expect(overlap.credits == 2 && overlap.newCredits == 1)
    #expect(try store.allocationTotals() == ["2026-0101": 85_00])
    #expect(try store.latestStatementDate()?.iso == "2026-12-01")
    let rows = try store.payments()
    #expect(rows.map(\.statement) == ["a.xml", "a.xml", "b.xml"])
    #expect(rows.map(\.state) == ["matched", "matched", "matched"])
    #expect(rows[0].invoices == ["2026-0101": 50_00])
  }

  @Test(arguments: PaymentBackend.allCases)
  func anUnmatchedCreditWaitsForAPersonsVerdict(_ b: PaymentBackend) throws {
    let (store, keep) = try b.make()
    defer { _ = keep }
    _ = try store.importStatement(
      fileHash: "h1", file: "a.sta", format: "mt940", latestBooking: nil,
      transactions: [credit("e1", 40_00), credit("e2", 60_00)], match: matcher(unmatched: ["e2"]))
    let waiting = try store.payments(status: "unmatched")
    #expect(waiting.count == 1 && waiting[0].suspects == ["2026-0101"])
    #expect(try !store.resolvePayment(id: 999, invoice: "2026-0101", amount: nil))
    #expect(try store.resolvePayment(id: waiting[0].id, invoice: "2026-0102", amount: nil))
    #expect(try !store.resolvePayment(id: waiting[0].id, invoice: "2026-0102", amount: nil))
    #expect(try store.allocationTotals() == ["2026-0101": 40_00, "2026-0102": 60_00])
    #expect(try store.payments(status: "unmatched").isEmpty)
    #expect(try store.payments().map(\.state) == ["matched", "matched"])
  }

  @Test(arguments: PaymentBackend.allCases)
  func aSetAsideCreditPaysNothing(_ b: PaymentBackend) throws {
    let (store, keep) = try b.make()
    defer { _ = keep }
    _ = try store.importStatement(
      fileHash: "h1", file: "a.sta", format: "mt940", latestBooking: nil,
      transactions: [credit("e1", 40_00)], match: matcher(unmatched: ["e1"]))
    let id = try #require(try store.payments().first?.id)
    #expect(try store.resolvePayment(id: id, invoice: nil, amount: nil))
    #expect(try store.allocationTotals().isEmpty)
    #expect(try store.payments().map(\.state) == ["set-aside"])
  }

  @Test(arguments: PaymentBackend.allCases)
  func aReversalUndoesTheOneCreditItTakesBack(_ b: PaymentBackend) throws {
    let (store, keep) = try b.make()
    defer { _ = keep }
    _ = try store.importStatement(
      fileHash: "h1", file: "a.xml", format: "camt053", latestBooking: nil,
      transactions: [credit("e1", 50_00), credit("e2", 70_00, iban: "NL44RABO0123456789")],
      match: matcher())
    let r = try store.importStatement(
      fileHash: "h2", file: "b.xml", format: "camt053", latestBooking: nil,
      transactions: [
        credit("r1", 50_00, on: "2026-12-02", reversal: true),
        // Fits no credit (another amount): left to a person, never a guess.
        credit("r2", 99_00, on: "2026-12-02", reversal: true),
      ], match: matcher())
    #expect(r.reversed.count == 1 && r.reversed[0].invoices == ["2026-0101"])
    #expect(r.unplacedReversals.map(\.key) == ["r2"])
    #expect(try store.allocationTotals() == ["2026-0101": 70_00])
    let rows = try store.payments()
    #expect(rows.map(\.state) == ["reversed", "matched"])
    #expect(rows[0].invoices.isEmpty && rows[0].allocations.count == 1)
    #expect(try store.payments(status: "matched").count == 1, "a reversed credit is left out")
  }
}
