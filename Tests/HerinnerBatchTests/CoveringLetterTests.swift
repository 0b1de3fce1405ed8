import Foundation
import HerinnerCore
import HerinnerLetters
import Testing

@testable import HerinnerBatch

/// Art. 6:96 lid 7 BW in the plan: a consumer's 14-day letter covers all of that consumer's
/// open claims past their due date, the costs once over their summed principal.
@Suite struct CoveringLetterTests {
  let planner = Planner(
    policy: {
      var p = Policy()
      p.businessDaysOnly = false
      return p
    }(), sender: sender)

  func second(
    _ date: String, deadline: String, id: String, resend: Bool = false
  ) -> DeliveryRecord {
    DeliveryRecord(
      step: .second, state: .sent, date: d(date), isResend: resend, deadline: d(deadline),
      messageID: id)
  }

  func plan(_ invoices: [Invoice], _ histories: [String: InvoiceHistory], on day: String)
    -> NightPlan
  {
    planner.plan(invoices: invoices, histories: histories, on: d(day)) { n, s in
      (histories[n]?.deliveries ?? []).filter { $0.step == s }.compactMap(\.messageID)
    }
  }

  @Test func aSecondCoversEveryOpenClaimPastDueWhateverItsStep() throws {
    let invoices = [
      inv("A", due: "2026-10-01", amount: 150_000),  // second due tonight
      inv("B", due: "2026-11-02", amount: 80_000),  // first due tonight: not sent any more
      inv("C", due: "2026-11-05", amount: 20_000),  // past due, first not yet due
      inv("D", due: "2026-11-20", amount: 50_000),  // not yet due: not in the letter
      inv("P", due: "2026-10-01", amount: 10_000, paid: 10_000),  // paid: not in the letter
    ]
    let histories = ["A": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])]
    let p = plan(invoices, histories, on: "2026-11-09")
    #expect(p.messages.count == 1, "B's first reminder is not sent: the 14-day letter covers it")
    let m = try #require(p.messages.first)
    #expect(m.step == .second)
    #expect(Set(m.numbers) == ["A", "B", "C"], "each covered claim takes its second tonight")
    let letter = m.letter
    #expect(letter.invoices.map(\.number) == ["A", "B", "C"], "due-date order")
    #expect(letter.costs == CollectionCosts.wik(principal: Money(cents: 250_000)))
    #expect(letter.remindedOn == ["A": d("2026-10-08")])
    #expect(letter.replaces.isEmpty)
    #expect(p.waiting["not-yet-due"] == 1, "only D waits")
  }

  @Test func aBusinessInvoiceOfTheSameCustomerIDIsNeverInTheConsumersLetter() throws {
    let invoices = [
      inv("A", due: "2026-10-01"), inv("Z", kind: .business, due: "2026-10-01"),
    ]
    let first = InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])
    let p = plan(invoices, ["A": first, "Z": first], on: "2026-11-09")
    #expect(p.messages.map(\.numbers) == [["A"], ["Z"]])
    #expect(p.messages.map(\.letter.kind) == [.consumer, .business])
  }

  @Test func anotherCurrencyIsAnotherLetter() throws {
    var usd = inv("U", due: "2026-11-02")
    usd.amount = Money(cents: 100_000, currency: "USD")
    usd.paid = Money(cents: 0, currency: "USD")
    let invoices = [inv("A", due: "2026-10-01"), usd]
    let p = plan(
      invoices, ["A": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])], on: "2026-11-09")
    #expect(p.messages.map(\.step) == [.second, .first])
    #expect(p.messages.map(\.numbers) == [["A"], ["U"]])
  }

  /// A claim that falls due after a 14-day letter joins a new one when its own second is due;
  /// the new letter lists the earlier claim again, states the costs over the new sum and names
  /// the letter it replaces; the earlier claim does not go to collection that night.
  @Test func aLaterLetterListsTheEarlierClaimsAndReplacesTheirLetter() throws {
    let invoices = [inv("A", due: "2026-10-01", amount: 150_000), inv("B", due: "2026-10-20")]
    let histories = [
      "A": InvoiceHistory(deliveries: [
        sent(.first, "2026-10-08"), second("2026-10-22", deadline: "2026-11-06", id: "<l1@x>"),
      ]),
      "B": InvoiceHistory(deliveries: [sent(.first, "2026-10-27")]),
    ]
    // Without B's letter, A would go to collection on 2026-11-07.
    let before = plan(invoices, histories, on: "2026-11-08")
    #expect(before.collection.map(\.number) == ["A"])
    let p = plan(invoices, histories, on: "2026-11-10")
    let m = try #require(p.messages.first)
    #expect(p.messages.count == 1)
    #expect(m.numbers == ["B"], "A already had its second: listed, not recorded again")
    #expect(m.letter.invoices.map(\.number) == ["A", "B"])
    #expect(m.letter.replaces == [d("2026-10-22")])
    #expect(m.letter.costs == CollectionCosts.wik(principal: Money(cents: 300_000)))
    #expect(p.collection.isEmpty, "the new letter's term applies to A too")
  }

  /// After the replacing letter, the earlier claim waits for the new deadline: it moves to
  /// collection the day after it, never on it.
  @Test func theReplacingLettersDeadlineGovernsEveryClaimItListed() throws {
    let invoices = [inv("A", due: "2026-10-01"), inv("B", due: "2026-10-20")]
    let histories = [
      "A": InvoiceHistory(deliveries: [
        sent(.first, "2026-10-08"), second("2026-10-22", deadline: "2026-11-06", id: "<l1@x>"),
      ]),
      "B": InvoiceHistory(deliveries: [
        sent(.first, "2026-10-27"), second("2026-11-10", deadline: "2026-11-25", id: "<l2@x>"),
      ]),
    ]
    let covered = ConsumerClaims.coveredHistories(invoices: invoices, histories: histories)
    #expect(covered["A"]?.latestSent(.second)?.deadline == d("2026-11-25"))
    #expect(covered["B"] == histories["B"])
    #expect(plan(invoices, histories, on: "2026-11-25").collection.isEmpty)
    #expect(plan(invoices, histories, on: "2026-11-26").collection.map(\.number) == ["A", "B"])
    // A claim paid off in between is not covered by the later letter.
    var paid = invoices
    paid[0].paid = paid[0].amount
    let c = ConsumerClaims.coveredHistories(invoices: paid, histories: histories)
    #expect(c["A"] == histories["A"])
    #expect(
      ConsumerClaims.listed(by: "<l2@x>", invoices: invoices, covered: covered) == ["A", "B"])
  }

  @Test func aCallDueTonightIsNotNeededForAClaimTheLetterCovers() throws {
    let invoices = [inv("A", due: "2026-10-01"), inv("B", due: "2026-10-25")]
    let histories = [
      "A": InvoiceHistory(deliveries: [sent(.first, "2026-10-26")]),
      "B": InvoiceHistory(deliveries: [sent(.first, "2026-11-02")]),
    ]
    // On 2026-11-09 A's second is due and B's call: B's second comes with A's letter.
    let p = plan(invoices, histories, on: "2026-11-09")
    #expect(p.calls.isEmpty)
    #expect(Set(p.messages.first?.numbers ?? []) == ["A", "B"])
    #expect(
      p.messages.first?.letter.remindedOn == ["A": d("2026-10-26"), "B": d("2026-11-02")])
  }

  @Test func anUnknownDeliveryIsNotCoveredBeforeAPersonDecides() throws {
    let invoices = [inv("A", due: "2026-10-01"), inv("B", due: "2026-10-25")]
    let histories = [
      "A": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")]),
      "B": InvoiceHistory(deliveries: [
        DeliveryRecord(step: .first, state: .unknown, date: d("2026-11-01"))
      ]),
    ]
    let p = plan(invoices, histories, on: "2026-11-09")
    #expect(p.messages.map(\.numbers) == [["A"]])
    #expect(p.attention.map(\.invoice) == ["B"])
  }

  @Test func aConsumersFourteenDayLetterIsNeverSplit() throws {
    var p = planner
    p.maxMessageBytes = 60_000
    p.attachmentSize = { _ in 30_000 }
    let invoices = [inv("A", due: "2026-10-01"), inv("B", due: "2026-10-02")]
    let histories = [
      "A": InvoiceHistory(deliveries: [
        sent(.first, "2026-10-08"), second("2026-10-22", deadline: "2026-11-06", id: "<l1@x>"),
      ]),
      "B": InvoiceHistory(deliveries: [sent(.first, "2026-10-27")]),
    ]
    let night = p.plan(invoices: invoices, histories: histories, on: d("2026-11-10")) { _, _ in [] }
    #expect(night.messages.count == 1, "one letter, as art. 6:96 lid 7 BW requires")
    #expect(night.messages.first?.letter.invoices.map(\.number) == ["A", "B"])
    #expect(night.messages.first?.letter.replaces == [d("2026-10-22")])
    #expect(
      night.messages.first?.letter.costs == CollectionCosts.wik(principal: Money(cents: 300_000)))
  }

  /// The business second letter carries `policy.businessCompensation` (claim or waive).
  @Test(arguments: [BusinessCompensation.claim, .waiveIfPaidInTime])
  func theBusinessLetterCarriesThePolicy(_ choice: BusinessCompensation) throws {
    var policy = Policy()
    policy.businessCompensation = choice
    let p = Planner(policy: policy, sender: sender).plan(
      invoices: [inv("Z", kind: .business, due: "2026-10-01")],
      histories: ["Z": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])],
      on: d("2026-11-09")
    ) { _, _ in [] }
    #expect(p.messages.first?.letter.businessCompensation == choice)
  }

  @Test func withOneLetterPerInvoiceNoLetterCoversAnother() throws {
    var policy = planner.policy
    policy.onePerCustomer = false
    let invoices = [inv("A", due: "2026-10-01"), inv("B", due: "2026-10-20")]
    let histories = [
      "A": InvoiceHistory(deliveries: [
        sent(.first, "2026-10-08"), second("2026-10-22", deadline: "2026-11-06", id: "<l1@x>"),
      ]),
      "B": InvoiceHistory(deliveries: [sent(.first, "2026-10-27")]),
    ]
    let p = Planner(policy: policy, sender: sender).plan(
      invoices: invoices, histories: histories, on: d("2026-11-10")
    ) { _, _ in [] }
    #expect(p.messages.map(\.numbers) == [["B"]])
    #expect(p.messages.first?.letter.invoices.count == 1)
    #expect(p.collection.map(\.number) == ["A"])
  }

  @Test func aClaimBelowTheMinimumIsNotTakenAlong() throws {
    let invoices = [inv("A", due: "2026-10-01"), inv("S", due: "2026-10-20", amount: 300)]
    let p = plan(
      invoices, ["A": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])],
      on: "2026-11-09")
    #expect(p.messages.map(\.numbers) == [["A"]])
    #expect(p.messages.first?.letter.invoices.count == 1)
  }
}
