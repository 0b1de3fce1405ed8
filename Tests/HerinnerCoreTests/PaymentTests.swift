import Testing

@testable import HerinnerCore

@Suite struct BetalingskenmerkTests {
  @Test func theBetaalverenigingExampleIsValid() {
    #expect(Betalingskenmerk.isValid("5000056789012345"))
    #expect(!Betalingskenmerk.isValid("4000056789012345"))
    #expect(!Betalingskenmerk.isValid("500005678901234x"))
  }

  @Test func generatedReferencesAreValidAndSixteenDigits() {
    for n in ["2026-0042", "1", "F-123456789012345", "2026/0113"] {
      let r = Betalingskenmerk.generate(for: n)
      #expect(r?.count == 16)
      #expect(r.map(Betalingskenmerk.isValid) == true, "\(n) → \(r ?? "nil")")
    }
    #expect(Betalingskenmerk.generate(for: "ABC") == nil)
    #expect(Betalingskenmerk.generate(for: "2026-0113") == "8000000020260113")
  }
}

@Suite struct PaymentMatcherTests {
  static func inv(
    _ n: String, _ cents: Int64, customer: String = "Bakkerij B.V.", paid: Int64 = 0,
    reference: String? = nil
  ) -> Invoice {
    Invoice(
      number: n, customer: customer, email: "a@b.nl", issued: date("2026-10-01"),
      due: date("2026-10-31"),
      amount: Money(cents: cents), paid: Money(cents: paid), pdf: "f.pdf", reference: reference)
  }
  let invoices = [
    Self.inv("2026-0101", 125_000), Self.inv("2026-0102", 8_995, customer: "J. Jansen"),
    Self.inv("2026-0111", 150_000, customer: "Z. Simic"),
    Self.inv("2026-0112", 150_000, customer: "Z. Simic"),
    Self.inv("2026-0120", 50_000, customer: "Twee B.V."),
    Self.inv("2026-0121", 50_000, customer: "Twee B.V."),
    Self.inv("2026-0130", 10_000, reference: "5000056789012345"),
  ]
  func credit(
    _ cents: Int64, text: String? = nil, name: String? = nil, iban: String? = nil,
    ref: String? = nil
  ) -> BankTransaction {
    BankTransaction(
      key: "k", account: "NL91ABNA0417164300", bookingDate: date("2026-12-01"),
      amount: Money(cents: cents), isCredit: true,
      debtorName: name, debtorIBAN: iban, remittance: text, structuredReference: ref)
  }

  @Test(arguments: [
    "Factuur 2026-0101", "factuur nr. 2026 0101", "INV2026-0101", "F2026-0101 dank", "2026-0101",
    "betaling 2026/0101",
  ])
  func invoiceNumbersInFreeText(_ text: String) {
    let m = PaymentMatcher(invoices: invoices).match(credit(125_000, text: text))
    #expect(
      m
        == .matched(
          rule: .invoiceNumber, allocations: ["2026-0101": Money(cents: 125_000)],
          overpaid: Money(cents: 0)))
  }

  @Test func theBetalingskenmerkComesFirst() {
    let m = PaymentMatcher(invoices: invoices).match(
      credit(10_000, text: "2026-0101", ref: "5000056789012345"))
    #expect(
      m
        == .matched(
          rule: .reference, allocations: ["2026-0130": Money(cents: 10_000)],
          overpaid: Money(cents: 0)))
  }

  @Test func aGeneratedReferenceTypedInTheText() {
    let ref = Betalingskenmerk.generate(for: "2026-0102")!
    let m = PaymentMatcher(invoices: invoices).match(credit(8_995, text: "kenmerk \(ref)"))
    #expect(
      m
        == .matched(
          rule: .reference, allocations: ["2026-0102": Money(cents: 8_995)],
          overpaid: Money(cents: 0)))
  }

  @Test func severalNumbersThatAddUp() {
    let m = PaymentMatcher(invoices: invoices).match(
      credit(300_000, text: "2026-0111 en 2026-0112"))
    #expect(
      m
        == .matched(
          rule: .invoiceNumber,
          allocations: ["2026-0111": Money(cents: 150_000), "2026-0112": Money(cents: 150_000)],
          overpaid: Money(cents: 0)))
  }

  @Test func severalNumbersThatDoNotAddUpWaitForAPerson() {
    guard
      case .unmatched(_, let suspects) = PaymentMatcher(invoices: invoices).match(
        credit(100_000, text: "2026-0111 2026-0112"))
    else {
      Issue.record("expected unmatched")
      return
    }
    #expect(Set(suspects) == ["2026-0111", "2026-0112"])
  }

  @Test func partialAndOverPaymentsByTheCustomer() {
    let part = PaymentMatcher(invoices: invoices).match(
      credit(50_000, text: "2026-0101", name: "Bakkerij BV"))
    #expect(
      part
        == .matched(
          rule: .invoiceNumber, allocations: ["2026-0101": Money(cents: 50_000)],
          overpaid: Money(cents: 0)))
    let over = PaymentMatcher(invoices: invoices).match(
      credit(130_000, text: "2026-0101", name: "BAKKERIJ B.V."))
    #expect(
      over
        == .matched(
          rule: .invoiceNumber, allocations: ["2026-0101": Money(cents: 125_000)],
          overpaid: Money(cents: 5_000)))
  }

  /// An invoice number alone is no proof: a stranger paying another amount waits for a person.
  @Test(arguments: [(50_000 as Int64, "Onbekend"), (130_000, "Iemand Anders"), (90_000, "")])
  func aNumberFromAStrangerWithAnotherAmountWaits(_ cents: Int64, _ name: String) {
    guard
      case .unmatched(_, let suspects) = PaymentMatcher(invoices: invoices).match(
        credit(cents, text: "factuur 2026-0101", name: name.isEmpty ? nil : name))
    else {
      Issue.record("a number alone must not settle invoice 2026-0101")
      return
    }
    #expect(suspects == ["2026-0101"])
  }

  /// A stranger's € 900 with a date in its text is not a payment of invoice 2026-0101.
  @Test(arguments: [
    "Huur 2026-01-01", "periode 2026-01-01 t/m 2026-01-31", "2026-0101-2", "12026-0101",
    "2026-01 01", "ref 2026.01.01",
  ])
  func aDateOrALongerNumberIsNotTheInvoiceNumber(_ text: String) {
    let stranger = [Self.inv("2026-0101", 90_000)]
    let matcher = PaymentMatcher(invoices: stranger)
    #expect(matcher.numbers(in: text).isEmpty, "\(text)")
    guard case .unmatched = matcher.match(credit(90_000, text: text, name: "Verhuur B.V."))
    else {
      Issue.record("\(text) settled invoice 2026-0101")
      return
    }
  }

  @Test func invoicesInAnotherCurrencyAreNoCandidates() {
    let usd = [
      Invoice(
        number: "2026-0101", customer: "Bakkerij B.V.", email: "a@b.nl",
        issued: date("2026-10-01"), due: date("2026-10-31"),
        amount: Money(cents: 125_000, currency: "USD"), pdf: "f.pdf")
    ]
    guard
      case .unmatched = PaymentMatcher(invoices: usd).match(
        credit(125_000, text: "2026-0101", name: "Bakkerij B.V."))
    else {
      Issue.record("a euro payment settled a dollar invoice")
      return
    }
  }

  @Test func amountAndDebtorForASingleOpenInvoice() {
    let m = PaymentMatcher(invoices: invoices).match(
      credit(8_995, text: "bedankt", name: "J. JANSEN"))
    #expect(
      m
        == .matched(
          rule: .amountAndDebtor, allocations: ["2026-0102": Money(cents: 8_995)],
          overpaid: Money(cents: 0)))
    // A known IBAN identifies the debtor whatever name the bank gives.
    let known = PaymentMatcher(
      invoices: invoices, knownIBANs: [invoices[1].customerKey: ["NL77INGB0009876543"]])
    #expect(
      known.match(credit(8_995, name: "Familie J", iban: "NL77 INGB 0009 8765 43"))
        != .unmatched(reason: "", suspects: []))
  }

  @Test func twoOpenInvoicesOfTheSameAmountAreAmbiguous() {
    guard
      case .unmatched(_, let suspects) = PaymentMatcher(invoices: invoices).match(
        credit(50_000, name: "Twee B.V."))
    else {
      Issue.record("expected unmatched")
      return
    }
    #expect(Set(suspects) == ["2026-0120", "2026-0121"])
  }

  @Test func nothingRecognisable() {
    guard
      case .unmatched = PaymentMatcher(invoices: invoices).match(
        credit(7_700, text: "gift", name: "Onbekend"))
    else {
      Issue.record("expected unmatched")
      return
    }
  }

  @Test func settledInvoicesAreNotCandidates() {
    let paid = [Self.inv("2026-0101", 125_000, paid: 125_000)]
    guard case .unmatched = PaymentMatcher(invoices: paid).match(credit(125_000, text: "2026-0101"))
    else {
      Issue.record("a settled invoice cannot take a payment")
      return
    }
  }
}

@Suite struct PaymentStateTests {
  let invoices = [
    PaymentMatcherTests.inv("2026-0101", 125_000),
    Invoice(
      number: "2026-0102", customer: "J. Jansen", email: "jan@jansen.nl",
      issued: date("2026-10-01"), due: date("2026-10-31"), amount: Money(cents: 8_995),
      pdf: "f.pdf"),
  ]

  @Test func matchedPaymentsLowerTheOutstandingAndUnmatchedOnesHoldTheCustomer() {
    let state = PaymentState(
      allocated: ["2026-0101": 50_000],
      unmatched: [
        .init(
          id: 7, amount: Money(cents: 8_995), bookingDate: "2026-12-01", suspects: ["2026-0102"])
      ],
      matched: [(iban: "NL20 INGB 0001 2345 67", invoices: ["2026-0101"])], invoices: invoices)
    var histories: [String: InvoiceHistory] = [:]
    let out = state.applied(invoices, &histories)
    #expect(out[0].outstanding.cents == 75_000)
    #expect(out[1].outstanding.cents == 8_995)
    #expect(histories["2026-0102"]?.hold?.contains("#7") == true)
    #expect(histories["2026-0101"]?.hold == nil)
    #expect(state.knownIBANs[invoices[0].customerKey] == ["NL20INGB0001234567"])
  }

  @Test func withoutPaymentsTheInvoicesAreUntouched() {
    var histories: [String: InvoiceHistory] = [:]
    #expect(PaymentState().applied(invoices, &histories) == invoices)
    #expect(histories.isEmpty)
  }
}
