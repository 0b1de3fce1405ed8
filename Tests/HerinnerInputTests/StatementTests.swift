import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .appendingPathComponent("Fixtures/statements").path

func statement(_ name: String) throws -> StatementFile {
  let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))
  return try StatementFile.parse(bytes: [UInt8](data), file: name)
}

@Suite struct StatementTests {
  @Test func ingStyleCAMT053() throws {
    let s = try statement("ing-camt053.xml")
    #expect(s.format == .camt053)
    #expect(s.transactions.count == 3)
    let credits = s.transactions.filter(\.isCredit)
    #expect(credits.count == 2)
    #expect(credits[0].amount.cents == 125_000)
    #expect(credits[0].debtorIBAN == "NL20INGB0001234567")
    #expect(credits[0].remittance == "Factuur 2026-0101 dank u")
    #expect(credits[1].structuredReference == "8000000020260113")
    #expect(s.latestBooking?.iso == "2026-11-30")
    #expect(credits[0].key == "NL91ABNA0417164300|ING-0001")
  }

  @Test func rabobankStyleBatchEntryAndReversal() throws {
    let s = try statement("rabobank-camt053.xml")
    let credits = s.transactions.filter { $0.isCredit && !$0.isReversal }
    #expect(
      credits.map(\.amount.cents) == [150_000, 150_000],
      "a batch entry splits into its transactions")
    #expect(credits.map(\.key) == ["NL91ABNA0417164300|RABO-77-1", "NL91ABNA0417164300|RABO-77-2"])
    #expect(s.transactions.contains { $0.isReversal })
  }

  @Test func abnAmroStyleVersion8WithoutEntryReferences() throws {
    let s = try statement("abnamro-camt053-v8.xml")
    #expect(s.transactions.count == 2)
    #expect(s.transactions[0].debtorName == "M. de Vries")
    #expect(s.transactions[0].bookingDate.iso == "2026-12-02")
    #expect(s.transactions[0].key.hasPrefix("NL91ABNA0417164300|2026-12-02|50000|"))
  }

  @Test func ingStyleMT940() throws {
    let s = try statement("ing-mt940.sta")
    #expect(s.format == .mt940)
    #expect(s.transactions.count == 2)
    let c = s.transactions[0]
    #expect(c.isCredit && c.amount.cents == 8_995)
    #expect(c.debtorName == "J. Jansen")
    #expect(c.debtorIBAN == "NL77INGB0009876543")
    #expect(c.remittance == "Factuur 2026-0102")
    #expect(!s.transactions[1].isCredit)
  }

  @Test func rabobankStyleMT940() throws {
    let s = try statement("rabobank-mt940.swi")
    #expect(s.transactions.first?.amount.cents == 150_000)
    #expect(s.transactions.first?.debtorName == "Z. Simic-Orsted")
  }

  @Test func aBankCSVExport() throws {
    let s = try statement("ing-export.csv")
    #expect(s.format == .csv)
    #expect(s.transactions.map(\.isCredit) == [true, false])
    #expect(s.transactions[0].amount.cents == 250)
  }

  @Test func aBankCSVWithItsOwnHeadersThroughTheMapping() throws {
    let csv =
      "Boekdag,Bedrag in EUR,Wie,Rekening tegenpartij,Toelichting\n01-12-2026,\"1.250,00\",Bakkerij,NL20INGB0001234567,factuur 2026-0101\n"
    #expect(throws: Problems.self) {
      try StatementFile.parse(bytes: Array(csv.utf8), file: "x.csv")
    }
    let s = try StatementFile.parse(
      bytes: Array(csv.utf8), file: "x.csv",
      csvColumns: [
        "date": "Boekdag", "amount": "Bedrag in EUR", "name": "Wie", "iban": "Rekening tegenpartij",
        "description": "Toelichting",
      ])
    #expect(s.transactions.first?.amount.cents == 125_000)
    #expect(s.transactions.first?.remittance == "factuur 2026-0101")
  }

  @Test(arguments: [
    ("truncated.xml", "the XML is broken or ends early"),
    ("wrong-namespace.xml", "not a camt.053 statement"),
    ("bad-amount.xml", "an amount that is not a number: \"12x0.00\""),
  ])
  func malformedFilesAreRejectedWhole(_ name: String, _ message: String) {
    #expect {
      try statement(name)
    } throws: { e in
      guard let p = e as? Problems else { return false }
      return p.all.first?.message.contains(message) == true
        && p.all.first?.message.contains("nothing imported") == true
        && !p.description.contains("Error Domain")
    }
  }

  @Test func mt940BadStatementLine() {
    let text = ":20:X\n:25:NL91ABNA0417164300\n:61:26XX01C1,00N\n:86:x\n"
    #expect(throws: Problems.self) {
      try StatementFile.parse(bytes: Array(text.utf8), file: "bad.sta")
    }
  }
}
