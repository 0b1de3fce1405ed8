import Testing

@testable import HerinnerCore

private func day(_ s: String) -> CalendarDate { CalendarDate(parsing: s)! }
private func eur(_ cents: Int64) -> Money { Money(cents: cents) }

/// The Algemene termijnenwet days a 14-day letter's stated deadline avoids (art. 3 Atw).
@Suite struct StatutoryTermsTests {
  @Test(arguments: [
    ("2026-01-01", "Nieuwjaarsdag"), ("2026-04-03", "Goede Vrijdag"),
    ("2026-04-05", "Eerste Paasdag"), ("2026-04-06", "Tweede Paasdag"),
    ("2026-04-27", "Koningsdag"), ("2026-05-05", "Bevrijdingsdag"),
    ("2026-05-14", "Hemelvaartsdag"), ("2026-05-24", "Eerste Pinksterdag"),
    ("2026-05-25", "Tweede Pinksterdag"), ("2026-12-25", "Eerste Kerstdag"),
    ("2026-12-26", "Tweede Kerstdag"), ("2027-03-26", "Goede Vrijdag"),
    ("2025-04-26", "Koningsdag"), ("2027-05-05", "Bevrijdingsdag"),
  ])
  func atwHolidays(_ iso: String, _ name: String) {
    #expect(StatutoryTerms.closedReason(day(iso)) == name)
  }

  /// Goede Vrijdag and 5 mei outside lustrum years are Atw days but not business-day holidays.
  @Test func differsFromTheBusinessDayList() {
    #expect(BusinessCalendar().isBusinessDay(day("2026-04-03")))
    #expect(BusinessCalendar().isBusinessDay(day("2026-05-05")))
    #expect(StatutoryTerms.closedReason(day("2026-04-03")) != nil)
    #expect(StatutoryTerms.closedReason(day("2026-05-05")) != nil)
    #expect(StatutoryTerms.closedReason(day("2026-12-28")) == nil)
  }

  /// Sent + 15, then past Saturdays, Sundays and Atw holidays.
  @Test(arguments: [
    ("2026-11-23", "2026-12-08"),  // Tuesday: as is
    ("2026-12-11", "2026-12-28"),  // Sat 26 Dec (Tweede Kerstdag), Sun 27
    ("2026-12-10", "2026-12-28"),  // Fri 25 Dec (Eerste Kerstdag)
    ("2026-12-17", "2027-01-04"),  // Fri 1 Jan, weekend
    ("2027-03-11", "2027-03-30"),  // Goede Vrijdag 26 Mar, weekend, Tweede Paasdag 29 Mar
    ("2026-04-20", "2026-05-06"),  // 5 mei 2026, not a lustrum year
    ("2026-04-12", "2026-04-28"),  // Koningsdag
    ("2026-11-06", "2026-11-23"),  // Saturday 21 Nov
    ("2026-04-29", "2026-05-15"),  // Hemelvaartsdag 14 May
  ])
  func fourteenDayDeadline(_ sent: String, _ deadline: String) {
    #expect(StatutoryTerms.fourteenDayDeadline(sentOn: day(sent)) == day(deadline))
    #expect(Policy().secondDeadline(sentOn: day(sent), kind: .consumer) == day(deadline))
    // Never less than 14 days after a day of receipt, never on a closed day.
    let d = StatutoryTerms.fourteenDayDeadline(sentOn: day(sent))
    #expect(day(sent).days(until: d) >= 15)
    #expect(StatutoryTerms.closedReason(d) == nil)
  }

  @Test func aLongerTermIsKeptAndBusinessDeadlinesAreUnchanged() {
    var p = Policy()
    p.secondReminderTermDays = 21
    #expect(p.secondDeadline(sentOn: day("2026-11-23"), kind: .consumer) == day("2026-12-15"))
    #expect(
      Policy().secondDeadline(sentOn: day("2026-12-11"), kind: .business) == day("2026-12-25"))
  }

  @Test func farFutureDatesDoNotTrap() {
    let d = StatutoryTerms.fourteenDayDeadline(sentOn: day("9999-12-31"))
    #expect((15...17).contains(d.dayNumber - day("9999-12-31").dayNumber))
  }
}

@Suite struct WIKScaleAndAllocationTests {
  @Test(
    arguments: [
      (10_000, 4_000), (26_700, 4_005), (100_000, 15_000), (150_000, 22_500),
      (250_000, 37_500), (300_000, 42_500), (1_000_000, 87_500), (1_200_000, 89_500),
      (20_000_000, 277_500), (99_999_999, 677_500), (100_000_000, 677_500), (Int64.max, 677_500),
      (-5, 4_000),
    ] as [(Int64, Int64)])
  func scale(_ principal: Int64, _ costs: Int64) {
    #expect(CollectionCosts.scale(principal: eur(principal)).cents == costs)
  }

  /// The VAT part can be taken back out of any stated amount exactly.
  @Test func vatRoundTrips() {
    for cents in stride(from: Int64(4_000), through: 677_500, by: 1) {
      let stated = CollectionCosts.withVAT(eur(cents))
      #expect(CollectionCosts.withoutVAT(stated).cents == cents)
    }
    #expect(CollectionCosts.withVAT(eur(4_005)).cents == 4_846)
  }

  @Test(
    arguments: [
      (42_500, [150_000, 150_000], [21_250, 21_250]),
      (10_000, [1, 1, 1], [3_334, 3_333, 3_333]),
      (44_500, [150_000, 100_000, 90_000], [19_632, 13_088, 11_780]),
      (4_000, [0, 0], [2_000, 2_000]),
      (1, [5, 5], [1, 0]),
      (677_500, [Int64.max, Int64.max], [338_750, 338_750]),
      (0, [3, 4], [0, 0]),
    ] as [(Int64, [Int64], [Int64])])
  func allocationAddsUpExactly(_ total: Int64, _ weights: [Int64], _ shares: [Int64]) {
    let got = CollectionCosts.allocate(eur(total), proportionalTo: weights).map(\.cents)
    #expect(got == shares)
    #expect(got.reduce(0, +) == total)
  }
}

/// The claim model: costs owed once over the summed principal, art. 6:44 BW, recomputation when
/// a claim is paid off, allocation over the claims.
@Suite struct ConsumerClaimsTests {
  /// 3,65 % a year: 10 cents a day on € 1.000 in 2026, so the expected interest is plain.
  static let rates = InterestTable(rates: [
    .init(from: day("2020-01-01"), consumer: 3.65, commercial: 3.65)
  ])

  static func claim(_ n: String, _ due: String, _ cents: Int64) -> ConsumerClaims.Claim {
    .init(number: n, due: day(due), principal: eur(cents))
  }

  static func letter(_ date: String, _ deadline: String, _ claims: [String], _ costs: Int64)
    -> ConsumerClaims.Letter
  {
    .init(date: day(date), deadline: day(deadline), claims: claims, costs: eur(costs))
  }

  struct Expect: Sendable, CustomTestStringConvertible {
    var name: String
    var model: ConsumerClaims
    var on: String
    /// Per claim: (principal, costs still owed, interest) in cents.
    var rows: [String: (Int64, Int64, Int64)]
    var testDescription: String { name }
  }

  static let a = claim("A", "2026-10-16", 150_000)
  static let b = claim("B", "2026-10-02", 100_000)
  static let cases: [Expect] = [
    Expect(
      name: "no letter: no costs, interest from the day after the due date",
      model: .init(claims: [a]), on: "2026-10-26", rows: ["A": (150_000, 0, 150)]),
    Expect(
      name: "on the deadline day itself no costs are owed yet",
      model: .init(claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 22_500)]),
      on: "2026-11-23", rows: ["A": (150_000, 0, 570)]),
    Expect(
      name: "the day after the deadline the stated costs are owed",
      model: .init(claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 22_500)]),
      on: "2026-11-24", rows: ["A": (150_000, 22_500, 585)]),
    Expect(
      name: "paid within the term: no costs",
      model: .init(
        claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 22_500)],
        payments: [.init(date: day("2026-11-23"), amount: eur(150_000), claim: "A")]),
      on: "2026-12-31", rows: ["A": (0, 0, 0)]),
    Expect(
      // 35 days on the € 500 paid (175), 39 days on the € 1.000 open (390).
      name: "part paid within the term: costs over the principal left, never more than stated",
      model: .init(
        claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 22_500)],
        payments: [.init(date: day("2026-11-20"), amount: eur(50_000), claim: "A")]),
      on: "2026-11-24", rows: ["A": (100_000, 15_000, 565)]),
    Expect(
      // € 200 on 1 December: € 150 costs, € 6,35 interest (175 + 46 days on € 1.000), the rest
      // principal; interest then runs on what is left.
      name: "after the deadline a payment goes to costs, then interest, then principal",
      model: .init(
        claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 22_500)],
        payments: [
          .init(date: day("2026-11-20"), amount: eur(50_000), claim: "A"),
          .init(date: day("2026-12-01"), amount: eur(20_000), claim: "A"),
        ]),
      on: "2026-12-01", rows: ["A": (95_635, 0, 0)]),
    Expect(
      name: "two claims in one letter: costs once over the sum, spread by principal",
      model: .init(
        claims: [a, b], letters: [letter("2026-11-06", "2026-11-23", ["A", "B"], 37_500)]),
      on: "2026-11-24", rows: ["A": (150_000, 22_500, 585), "B": (100_000, 15_000, 530)]),
    Expect(
      name: "one claim paid within the term: the costs over the other only",
      model: .init(
        claims: [a, b], letters: [letter("2026-11-06", "2026-11-23", ["A", "B"], 37_500)],
        payments: [.init(date: day("2026-11-20"), amount: eur(100_000), claim: "B")]),
      on: "2026-11-24", rows: ["A": (150_000, 22_500, 585), "B": (0, 0, 0)]),
    Expect(
      // B: € 150 costs, € 4,60 interest (46 days), € 1.000 principal; the rest is unapplied.
      name: "a claim paid off after the deadline leaves the sum: costs recomputed",
      model: .init(
        claims: [a, b], letters: [letter("2026-11-06", "2026-11-23", ["A", "B"], 37_500)],
        payments: [.init(date: day("2026-12-01"), amount: eur(200_000), claim: "B")]),
      on: "2026-12-02", rows: ["A": (150_000, 22_500, 705), "B": (0, 0, 0)]),
    Expect(
      name: "a replacing letter: its term counts, costs once over the new sum",
      model: .init(
        claims: [a, claim("C", "2026-11-24", 50_000)],
        letters: [
          letter("2026-11-06", "2026-11-23", ["A"], 22_500),
          letter("2026-12-02", "2026-12-17", ["A", "C"], 30_000),
        ]),
      on: "2026-12-18", rows: ["A": (150_000, 22_500, 945), "C": (50_000, 7_500, 120)]),
    Expect(
      name: "between a replacing letter and its deadline no costs are owed",
      model: .init(
        claims: [a, claim("C", "2026-11-24", 50_000)],
        letters: [
          letter("2026-11-06", "2026-11-23", ["A"], 22_500),
          letter("2026-12-02", "2026-12-17", ["A", "C"], 30_000),
        ]),
      on: "2026-12-10", rows: ["A": (150_000, 0, 825), "C": (50_000, 0, 80)]),
    Expect(
      // € 1.200 without an invoice number: B (due 2 October) first, then A.
      name: "a payment naming no claim goes to the oldest claim due",
      model: .init(
        claims: [a, b], payments: [.init(date: day("2026-10-20"), amount: eur(120_000))]),
      on: "2026-10-20", rows: ["A": (130_000, 0, 60), "B": (0, 0, 0)]),
    Expect(
      name: "costs with VAT: the stated amount including VAT",
      model: .init(
        claims: [a], letters: [letter("2026-11-06", "2026-11-23", ["A"], 27_225)],
        costsIncludeVAT: true),
      on: "2026-11-24", rows: ["A": (150_000, 27_225, 585)]),
  ]

  @Test(arguments: cases)
  func position(_ e: Expect) throws {
    let p = try e.model.position(on: day(e.on), rates: Self.rates)
    for row in p.rows {
      let want = try #require(e.rows[row.number], "\(row.number)")
      #expect(row.principal.cents == want.0, "\(row.number) principal")
      #expect(row.costs.cents == want.1, "\(row.number) costs")
      #expect(row.interest.cents == want.2, "\(row.number) interest")
    }
    #expect(p.costs.cents == p.rows.map(\.costs.cents).reduce(0, +))
  }

  /// From the invoice file: the amount is the principal, `paid` counts from the due date.
  @Test func fromInvoices() throws {
    let invoice = Invoice(
      number: "2026-0042", customer: "J. Jansen", email: "j@example.nl", kind: .consumer,
      issued: day("2026-10-01"), due: day("2026-10-16"), amount: eur(150_000),
      paid: eur(50_000), pdf: "f.pdf")
    let m = ConsumerClaims(
      claims: [.init(invoice)],
      letters: [Self.letter("2026-11-06", "2026-11-23", ["2026-0042"], 15_000)],
      payments: [ConsumerClaims.Payment.recorded(in: invoice)].compactMap { $0 })
    let row = try m.position(on: day("2026-11-24"), rates: Self.rates).rows[0]
    #expect(row.principal.cents == 100_000)
    #expect(row.costs.cents == 15_000)
    #expect(row.interest.cents == 390)  // 39 days on € 1.000, nothing on the € 500 paid
    var unpaid = invoice
    unpaid.paid = eur(0)
    #expect(ConsumerClaims.Payment.recorded(in: unpaid) == nil)
  }

  @Test func paidBeyondEveryClaimIsUnapplied() throws {
    let m = ConsumerClaims(
      claims: [Self.a], payments: [.init(date: day("2026-10-20"), amount: eur(160_000))])
    let p = try m.position(on: day("2026-10-21"), rates: Self.rates)
    #expect(p.unapplied.cents == 10_000)
    #expect(p.rows[0].principal.cents == 0)
  }

  @Test func differentCurrenciesAreNeverAdded() {
    let m = ConsumerClaims(claims: [
      Self.a,
      .init(number: "U", due: day("2026-10-01"), principal: Money(cents: 100, currency: "USD")),
    ])
    #expect(throws: ConsumerClaims.ClaimsError.mixedCurrency(["EUR", "USD"])) {
      try m.position(on: day("2026-11-01"), rates: Self.rates)
    }
  }

  @Test func whatANewLetterListsStatesAndReplaces() throws {
    let m = ConsumerClaims(
      claims: [Self.a, Self.b, Self.claim("C", "2026-12-05", 50_000)],
      letters: [Self.letter("2026-11-06", "2026-11-23", ["A", "B"], 37_500)],
      payments: [.init(date: day("2026-11-30"), amount: eur(10_000), claim: "A")])
    let claims = try m.claimsForLetter(on: day("2026-12-02"), rates: Self.rates)
    #expect(claims == ["B", "A"])
    // € 100 paid on A after the deadline went to its costs: the new letter states the rest.
    #expect(
      try m.costsToState(for: claims, on: day("2026-12-02"), rates: Self.rates).cents == 27_500)
    #expect(m.replacedLetters(by: claims, on: day("2026-12-02")) == [day("2026-11-06")])
    #expect(m.replacedLetters(by: ["C"], on: day("2026-12-02")).isEmpty)
  }

  /// Two months of nightly runs for one consumer: three invoices falling due at different
  /// times, part payments with and without an invoice number, a resend. Each night a 14-day
  /// letter goes out when a claim's second is due and no letter covers it yet (or the resend is
  /// asked for); it lists every open claim past due and states the costs the model gives. The
  /// costs claimed, in letters and in the dossier rows, never exceed the scale over the open
  /// principal, and the rows always add up to the costs owed.
  @Test func twoMonthsOfNightsNeverClaimMoreThanTheScale() throws {
    let rates = InterestTable.builtIn
    var model = ConsumerClaims(claims: [
      Self.claim("2026-0101", "2026-10-01", 120_000),
      Self.claim("2026-0102", "2026-10-20", 90_000),
      Self.claim("2026-0103", "2026-11-10", 200_000),
    ])
    let payments: [String: ConsumerClaims.Payment] = [
      "2026-10-25": .init(date: day("2026-10-25"), amount: eur(30_000), claim: "2026-0101"),
      "2026-11-15": .init(date: day("2026-11-15"), amount: eur(20_000)),
      "2026-12-04": .init(date: day("2026-12-04"), amount: eur(40_000), claim: "2026-0102"),
      "2026-12-10": .init(date: day("2026-12-10"), amount: eur(150_000), claim: "2026-0102"),
      "2026-12-20": .init(date: day("2026-12-20"), amount: eur(5_000)),
    ]
    let resendOn = day("2026-11-05")
    var sent = 0
    var night = day("2026-10-01")
    while night <= day("2026-12-31") {
      if let p = payments[night.iso] { model.payments.append(p) }
      let secondDue = model.claims.contains { c in
        c.due.adding(days: 21) <= night
          && !model.letters.contains { $0.claims.contains(c.number) }
          && (try? model.position(on: night, rates: rates))?.rows.first {
            $0.number == c.number
          }?.principal.isZero == false
      }
      if secondDue || night == resendOn {
        let claims = try model.claimsForLetter(on: night, rates: rates)
        if !claims.isEmpty {
          let costs = try model.costsToState(for: claims, on: night, rates: rates)
          let open = try model.position(on: night, rates: rates).rows
            .filter { claims.contains($0.number) }.map(\.principal.cents).reduce(0, +)
          #expect(costs <= CollectionCosts.wik(principal: eur(open)), "\(night) letter")
          model.letters.append(
            .init(
              date: night, deadline: StatutoryTerms.fourteenDayDeadline(sentOn: night),
              claims: claims, costs: costs))
          sent += 1
        }
      }
      let p = try model.position(on: night, rates: rates)
      let open = p.rows.map(\.principal.cents).reduce(0, +)
      let scale = open > 0 ? CollectionCosts.wik(principal: eur(open)).cents : 0
      #expect(p.costs.cents <= scale, "\(night): \(p.costs) over \(eur(open))")
      #expect(p.costs.cents == p.rows.map(\.costs.cents).reduce(0, +))
      // Paid and owed together never more than the scale over every claim's principal.
      let ever = p.rows.map { $0.costs.cents + $0.costsPaid.cents }.reduce(0, +)
      #expect(ever <= CollectionCosts.wik(principal: eur(410_000)).cents, "\(night)")
      let owing = p.rows.filter { $0.costs.cents > 0 }
      if owing.count > 1 { #expect(owing.allSatisfy { $0.costs < p.costs }, "\(night)") }
      night = night.adding(days: 1)
    }
    #expect(sent == 3, "a first letter, the resend, a replacing one for the third claim")
    let end = try model.position(on: day("2026-12-31"), rates: rates)
    #expect(end.costs.cents > 0, "the last letter's term has passed: costs are owed")
  }
}
