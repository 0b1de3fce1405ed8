import Testing

@testable import HerinnerInput

@Suite struct SharedNumberTests {
  @Test func aGoodRowThatSharesItsNumberWithABadRowIsSkippedToo() throws {
    let load = try readInvoices(
      "number;customer;email;issued;due;amount;pdf\n"
        + "2026-0013;A;a@example.nl;2026-10-01;2026-13-45;100,00;a.pdf\n"
        + "2026-0014;B;b@example.nl;2026-10-01;2026-10-31;50,00;b.pdf\n"
        + "2026-0013;A;a@example.nl;2026-10-01;2026-10-31;1000,00;a.pdf\n")
    #expect(load.invoices.map(\.number) == ["2026-0014"])
    #expect(
      load.problems.contains {
        $0.line == 4 && $0.field == "number" && $0.message.contains("also on line 2")
      }, "\(load.problems)")
  }
}
