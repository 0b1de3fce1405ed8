import Testing

@testable import HerinnerCore

/// A small deterministic PRNG (SplitMix64) so property tests replay the same cases.
struct SeededRandom: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

func date(_ s: String) -> CalendarDate { CalendarDate(parsing: s)! }

@Suite struct CalendarDateTests {
  @Test func dayNumberRoundTripsOverFourCenturies() {
    var d = CalendarDate(year: 1900, month: 1, day: 1)!
    var n = d.dayNumber
    while d.year < 2300 {
      let next = d.adding(days: 1)
      #expect(next.dayNumber == n + 1)
      #expect(CalendarDate(dayNumber: n + 1) == next)
      // The next day is either the next day of the month or the first of the next month.
      if d.day == CalendarDate.daysIn(month: d.month, year: d.year) {
        #expect(next.day == 1)
      } else {
        #expect(next.day == d.day + 1 && next.month == d.month)
      }
      d = next
      n += 1
    }
  }

  @Test(arguments: [
    ("2026-11-29", 7), ("2026-11-30", 1), ("1970-01-01", 4), ("2000-02-29", 2), ("2026-04-27", 1),
  ])
  func weekdays(_ s: String, _ iso: Int) {
    #expect(date(s).isoWeekday == iso)
  }

  @Test(arguments: [
    ("2026-11-02", "2026-11-02"), ("02-11-2026", "2026-11-02"), ("2-11-2026", "2026-11-02"),
    ("02/11/2026", "2026-11-02"), (" 2026-11-02 ", "2026-11-02"),
  ])
  func parsesBothOrders(_ text: String, _ iso: String) {
    #expect(CalendarDate(parsing: text)?.iso == iso)
  }

  @Test(arguments: [
    "2026-02-29", "31-04-2026", "2026-13-01", "20261102", "2026-11", "", "2026-1x-01", "11-2026-02",
  ])
  func refusesNonDates(_ text: String) {
    #expect(CalendarDate(parsing: text) == nil)
  }

  /// Year 0000 is refused like any day that does not exist.
  @Test func yearZeroIsNotADate() {
    #expect(CalendarDate(parsing: "0000-01-01") == nil)
    #expect(CalendarDate(parsing: "01-01-0000") == nil)
    #expect(CalendarDate(parsing: "0001-01-01")?.iso == "0001-01-01")
  }

  /// A sentinel date (9999-12-31) is an ordinary date: arithmetic past year 9999, weekdays,
  /// day counts and formatting work, and nothing traps.
  @Test func farFutureSentinelDatesAreOrdinary() {
    let end = date("9999-12-31")
    #expect(end.adding(days: 7).iso == "10000-01-07")
    #expect(end.adding(days: 7).dayNumber == end.dayNumber + 7)
    #expect(end.adding(days: 1) > end)
    #expect(date("2026-12-02").days(until: end) == 2_912_107)
    #expect(end.isoWeekday == 5)  // a Friday
    #expect(end.adding(days: 7).dutch == "7 januari 10000")
    #expect(CalendarDate(year: 10_000, month: 2, day: 29) != nil)  // 10000 is a leap year
  }

  /// Day counts beyond the calendar's range clamp to its ends: no overflow trap.
  @Test(arguments: [Int.max, Int.min, 1 << 40, -(1 << 40)])
  func extremeDayCountsDoNotTrap(_ days: Int) {
    let d = date("2026-12-02").adding(days: days)
    #expect(CalendarDate.years.contains(d.year))
    #expect((days > 0) == (d > date("2026-12-02")))
    _ = d.adding(days: days).iso
  }

  @Test func dutchLongForm() {
    #expect(date("2026-11-28").dutch == "28 november 2026")
    #expect(date("2026-03-01").dutch == "1 maart 2026")
    #expect(date("2026-03-01").english == "1 March 2026")
  }
}

@Suite struct MoneyTests {
  @Test(arguments: [
    ("1.234,56", 123_456), ("1234,56", 123_456), ("1234.56", 123_456), ("1,234.56", 123_456),
    ("€ 1.234,56", 123_456), ("€\u{00A0}1.234,56", 123_456), ("EUR 12,5", 1250), ("-12,50", -1250),
    ("1234", 123_400), ("1.234", 123_400), ("1.234.567", 123_456_700), ("1.234.567,8", 123_456_780),
    ("0,05", 5), ("5.00", 500), ("12.000,00", 1_200_000), (" 89,95 ", 8995),
  ])
  func parses(_ text: String, _ cents: Int64) throws {
    #expect(try Money.parse(text).cents == cents)
  }

  @Test(arguments: [
    "", "abc", "1,234", "12,345", "1.2.3", "12,3456", "1..2", "€", "1,00,00", "--5", "12 34a",
  ])
  func refuses(_ text: String) {
    #expect(throws: Money.ParseError.self) { try Money.parse(text) }
  }

  /// A machine number (JSON, XML Schema decimal): the dot is the decimal mark, no grouping.
  @Test(
    arguments: [
      ("1.250", 125), ("5.000", 500), ("1.25", 125), ("1234.5", 123_450), ("0.05", 5),
      ("-12.5", -1250), ("1e3", 100_000), ("1.25E2", 12_500), ("125e-2", 125), ("+7", 700),
      ("1.2500000000000000000000", 125), ("0", 0), ("-0.00", 0), ("0.0e-5", 0), ("007.10", 710),
      ("999999999999999.99", 99_999_999_999_999_999),
    ] as [(String, Int64)])
  func parsesMachineNumbers(_ text: String, _ cents: Int64) throws {
    #expect(try Money.parse(decimal: text).cents == cents)
  }

  @Test(arguments: [
    ("1.255", Money.ParseError.tooManyDecimals), ("0.001", .tooManyDecimals),
    ("1e-3", .tooManyDecimals), ("1e-999999999999", .tooManyDecimals),
    ("1e999999999999", .overflow), ("1000000000000000", .overflow), ("", .empty),
    ("1,25", .invalid), ("1.2.3", .invalid), ("1e", .invalid), ("e5", .invalid),
    ("€ 5", .invalid), ("1 000", .invalid), ("--1", .invalid), ("0x10", .invalid),
  ])
  func refusesMachineNumbers(_ text: String, _ error: Money.ParseError) {
    #expect(throws: error) { try Money.parse(decimal: text) }
  }

  @Test func formatsDutch() {
    #expect(Money(cents: 123_456).dutch == "€ 1.234,56")
    #expect(Money(cents: 5).dutch == "€ 0,05")
    #expect(Money(cents: 100_000_000).dutch == "€ 1.000.000,00")
    #expect(Money(cents: -123_456).dutch == "€ -1.234,56")
    #expect(Money(cents: 123_456).english == "€1,234.56")
    #expect(Money(cents: 123_456).plain == "1234.56")
  }

  /// Property: every amount survives Dutch, plain and English formatting and parsing back.
  @Test func roundTripsRandomCents() throws {
    var rng = SeededRandom(seed: 20_261_129)
    for i in 0..<20_000 {
      let magnitude: Int64 =
        i % 3 == 0
        ? Int64.random(in: 0...999, using: &rng) : Int64.random(in: 0...99_999_999_999, using: &rng)
      let m = Money(cents: Bool.random(using: &rng) ? magnitude : -magnitude)
      #expect(try Money.parse(m.dutch) == m, "dutch \(m.dutch)")
      #expect(try Money.parse(m.dutchNumber) == m, "number \(m.dutchNumber)")
      #expect(try Money.parse(m.plain) == m, "plain \(m.plain)")
      #expect(try Money.parse(decimal: m.plain) == m, "decimal \(m.plain)")
      #expect(
        try Money.parse(m.english.replacingOccurrences(of: "€", with: "")) == m,
        "english \(m.english)")
    }
  }
}

@Suite struct CollectionCostsTests {
  /// Worked examples from DOMAIN.md (BIK art. 2).
  @Test(
    arguments: [
      (10_000, 4_000), (100_000, 15_000), (150_000, 22_500), (250_000, 37_500), (300_000, 42_500),
      (1_000_000, 87_500), (1_200_000, 89_500), (20_000_000, 277_500), (0, 4_000), (26_667, 4_000),
      (500_000, 62_500), (300_000_000, 677_500), (100_000_000, 677_500),
    ] as [(Int64, Int64)])
  func wikScale(_ principal: Int64, _ costs: Int64) {
    #expect(CollectionCosts.wik(principal: Money(cents: principal)).cents == costs)
  }

  @Test func vatOnTopOnlyWhenAsked() {
    #expect(CollectionCosts.wik(principal: Money(cents: 100_000), addVAT: true).cents == 18_150)
  }

  /// Art. 6:96 lid 7 BW: several claims on one consumer are summed before the scale.
  @Test func summedPrincipal() {
    let one = CollectionCosts.wik(principal: .euros(1500))
    let both = CollectionCosts.wik(principal: .euros(3000))
    #expect(one.cents == 22_500)
    #expect(both.cents == 42_500)
    #expect(both.cents < 2 * one.cents)
  }
}

@Suite struct BusinessCalendarTests {
  /// Easter Sundays 2020–2035 (published tables).
  @Test(arguments: [
    (2020, "2020-04-12"), (2021, "2021-04-04"), (2022, "2022-04-17"), (2023, "2023-04-09"),
    (2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"),
    (2028, "2028-04-16"), (2029, "2029-04-01"), (2030, "2030-04-21"), (2031, "2031-04-13"),
    (2032, "2032-03-28"), (2033, "2033-04-17"), (2034, "2034-04-09"), (2035, "2035-03-25"),
  ])
  func easter(_ year: Int, _ iso: String) {
    #expect(BusinessCalendar.easter(year).iso == iso)
  }

  @Test(arguments: [
    ("2026-01-01", "Nieuwjaarsdag"), ("2026-04-05", "Eerste Paasdag"),
    ("2026-04-06", "Tweede Paasdag"),
    ("2026-04-27", "Koningsdag"), ("2025-04-26", "Koningsdag"), ("2026-05-14", "Hemelvaartsdag"),
    ("2026-05-24", "Eerste Pinksterdag"), ("2026-05-25", "Tweede Pinksterdag"),
    ("2026-12-25", "Eerste Kerstdag"), ("2026-12-26", "Tweede Kerstdag"),
    ("2025-05-05", "Bevrijdingsdag"),
    ("2030-05-05", "Bevrijdingsdag"), ("2027-05-06", "Hemelvaartsdag"),
    ("2031-04-26", "Koningsdag"),
  ])
  func holidays(_ iso: String, _ name: String) {
    #expect(BusinessCalendar().holiday(date(iso)) == name)
    #expect(!BusinessCalendar().isBusinessDay(date(iso)))
  }

  @Test(arguments: ["2026-04-03", "2026-05-05", "2025-04-27", "2026-11-30", "2027-05-05"])
  func workingDays(_ iso: String) {
    // Goede Vrijdag is no general day off; Bevrijdingsdag only in lustrum years by default;
    // Koningsdag 2025 moved to Saturday the 26th.
    let d = date(iso)
    if d.isoWeekday < 6 { #expect(BusinessCalendar().isBusinessDay(d), "\(iso)") }
  }

  @Test func liberationDayEveryYearWhenConfigured() {
    #expect(
      BusinessCalendar(liberationDayEveryYear: true).holiday(date("2026-05-05")) == "Bevrijdingsdag"
    )
    #expect(BusinessCalendar().holiday(date("2026-05-05")) == nil)
  }

  @Test func nextBusinessDay() {
    let cal = BusinessCalendar()
    #expect(cal.businessDay(onOrAfter: date("2026-12-25")) == date("2026-12-28"))
    #expect(cal.businessDay(onOrAfter: date("2026-04-03")) == date("2026-04-03"))
    #expect(cal.businessDay(onOrAfter: date("2026-04-04")) == date("2026-04-07"))
  }

  /// The computus works for every year the calendar holds (Easter repeats every 5,700,000
  /// years, which keeps its remainders non-negative): a Sunday in March or April, no trap.
  @Test(arguments: [-999_000, -1, 0, 1, 1583, 9999, 10_000, 999_999])
  func easterInAnyYear(_ year: Int) {
    let e = BusinessCalendar.easter(year)
    #expect(e.year == year)
    #expect(e.isoWeekday == 7)
    #expect((3...4).contains(e.month))
    #expect(e.month == 3 ? e.day >= 22 : e.day <= 25)
  }

  @Test func holidaysPastYearNineThousandNineHundredNinetyNine() {
    let cal = BusinessCalendar()
    #expect(cal.holidays(in: 10_000).count == 10)  // a lustrum year
    #expect(cal.businessDay(onOrAfter: date("9999-12-31")) == date("9999-12-31"))
    // Saturday 1 January 10000 (Nieuwjaarsdag) and Sunday: Monday the 3rd.
    let next = cal.businessDay(onOrAfter: date("9999-12-31").adding(days: 1))
    #expect(next.iso == "10000-01-03")
  }

  /// Every year 2020–2035 has its ten (or eleven) holidays on distinct dates.
  @Test func holidayCounts() {
    for year in 2020...2035 {
      let list = BusinessCalendar().holidays(in: year)
      #expect(list.count == (year % 5 == 0 ? 10 : 9))
      #expect(Set(list.map(\.date)).count == list.count)
    }
  }
}

@Suite struct InterestTests {
  let table = InterestTable.builtIn

  @Test func commercialOneYearSimple() {
    // 2026: 10,15 % a year; 365 days on € 1.000 → € 101,50.
    let i = table.interest(
      principal: .euros(1000), due: date("2025-12-31"), through: date("2026-12-31"), kind: .business
    )
    #expect(i.cents == 10_150)
  }

  @Test func consumerSplitsAtRateChange() {
    // 2025-12-01…2026-01-31: 31 days at 6 %, 31 days at 4 % on € 10.000.
    let i = table.interest(
      principal: .euros(10_000), due: date("2025-11-30"), through: date("2026-01-31"),
      kind: .consumer)
    let expected = (1_000_000.0 * 0.06 * 31 / 365 + 1_000_000.0 * 0.04 * 31 / 365).rounded()
    #expect(i.cents == Int64(expected))
  }

  @Test func compoundsAfterAFullYear() {
    // Two years at a constant 8 % (2020–2022 rows): the second year's base includes the first year's interest.
    let flat = InterestTable(rates: [.init(from: date("2000-01-01"), consumer: 8, commercial: 8)])
    let i = flat.interest(
      principal: .euros(1000), due: date("2020-12-31"), through: date("2022-12-31"), kind: .consumer
    )
    #expect(i.cents == 8_000 + 8_640)
  }

  /// A claim whose due date is a sentinel: interest over the years past 9999 without a trap.
  @Test func interestAcrossYearTenThousand() {
    let i = table.interest(
      principal: .euros(1000), due: date("9999-12-31"),
      through: date("9999-12-31").adding(days: 400), kind: .business)
    #expect(i.cents > 10_150)
  }

  @Test func nothingBeforeTheDayAfterDue() {
    #expect(
      table.interest(
        principal: .euros(1000), due: date("2026-11-01"), through: date("2026-11-01"),
        kind: .consumer
      ).cents == 0)
  }
}

@Suite struct TrimmingSpacesTests {
  /// The String fast path trims exactly as the Character-by-Character version.
  @Test func fastPathSameAsTheCharacterVersion() {
    var g = SystemRandomNumberGenerator()
    let pieces = [" ", "\t", "\u{00A0}", "a", "é", " \u{0301}", "\u{0301}", "x y", "€", "\u{00C2}"]
    for _ in 0..<5000 {
      var s = ""
      for _ in 0..<Int.random(in: 0...6, using: &g) { s += pieces.randomElement(using: &g)! }
      #expect(s.trimmingSpaces == Substring(s).trimmingSpaces, "\(s.debugDescription)")
    }
  }
}
