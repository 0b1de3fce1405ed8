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
    #expect(Policy().secondDeadline(sentOn: day("2026-12-11"), kind: .business) == day("2026-12-25"))
  }

  @Test func farFutureDatesDoNotTrap() {
    let d = StatutoryTerms.fourteenDayDeadline(sentOn: day("9999-12-31"))
    #expect((15...17).contains(d.dayNumber - day("9999-12-31").dayNumber))
  }
}

@Suite struct WIKScaleAndAllocationTests {
  @Test(arguments: [
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

  @Test(arguments: [
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
