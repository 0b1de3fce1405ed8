/// Dutch business days: no weekends and no general public holidays (Nieuwjaarsdag, Pasen,
/// Koningsdag, Bevrijdingsdag, Hemelvaart, Pinksteren, Kerst). Goede Vrijdag is not a general
/// day off. Pure.
public struct BusinessCalendar: Sendable {
  /// Bevrijdingsdag (5 May) every year; by default only in lustrum years (2025, 2030, …).
  public var liberationDayEveryYear: Bool

  public init(liberationDayEveryYear: Bool = false) {
    self.liberationDayEveryYear = liberationDayEveryYear
  }

  /// Easter Sunday by the anonymous Gregorian computus (Meeus/Jones/Butcher), for any year.
  public static func easter(_ year: Int) -> CalendarDate {
    // The Gregorian Easter dates repeat every 5,700,000 years: computing on the year within
    // that cycle keeps every remainder non-negative, so year 0 and before work too.
    let y = ((year % 5_700_000) + 5_700_000) % 5_700_000
    let a = y % 19
    let b = y / 100
    let c = y % 100
    let d = b / 4
    let e = b % 4
    let f = (b + 8) / 25
    let g = (b - f + 1) / 3
    let h = (19 * a + b - d - g + 15) % 30
    let i = c / 4
    let k = c % 4
    let l = (32 + 2 * e + 2 * i - h - k) % 7
    let m = (a + 11 * h + 22 * l) / 451
    let month = (h + l - 7 * m + 114) / 31
    let day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)
  }

  /// A date the calendar computes (always a real day: March/April Easter, fixed holidays); the
  /// fallback only keeps a year outside `CalendarDate.years` from trapping.
  static func date(_ year: Int, _ month: Int, _ day: Int) -> CalendarDate {
    CalendarDate(year: year, month: month, day: day)
      ?? CalendarDate(dayNumber: year < 0 ? Int.min : Int.max)
  }

  /// The public holidays of `year` with their Dutch names.
  public func holidays(in year: Int) -> [(date: CalendarDate, name: String)] {
    let easter = Self.easter(year)
    var kingsDay = Self.date(year, 4, 27)
    if kingsDay.isoWeekday == 7 { kingsDay = kingsDay.adding(days: -1) }
    var list: [(CalendarDate, String)] = [
      (Self.date(year, 1, 1), "Nieuwjaarsdag"),
      (easter, "Eerste Paasdag"),
      (easter.adding(days: 1), "Tweede Paasdag"),
      (kingsDay, "Koningsdag"),
      (easter.adding(days: 39), "Hemelvaartsdag"),
      (easter.adding(days: 49), "Eerste Pinksterdag"),
      (easter.adding(days: 50), "Tweede Pinksterdag"),
      (Self.date(year, 12, 25), "Eerste Kerstdag"),
      (Self.date(year, 12, 26), "Tweede Kerstdag"),
    ]
    if liberationDayEveryYear || year % 5 == 0 {
      list.append((Self.date(year, 5, 5), "Bevrijdingsdag"))
    }
    return list.sorted { $0.0 < $1.0 }.map { (date: $0.0, name: $0.1) }
  }

  /// The holiday's name when `date` is one.
  public func holiday(_ date: CalendarDate) -> String? {
    holidays(in: date.year).first { $0.date == date }?.name
  }

  /// Why `date` is not a business day ("zaterdag", "Koningsdag"), or nil when it is one.
  public func closedReason(_ date: CalendarDate) -> String? {
    if date.isoWeekday == 6 { return "Saturday" }
    if date.isoWeekday == 7 { return "Sunday" }
    return holiday(date)
  }

  public func isBusinessDay(_ date: CalendarDate) -> Bool { closedReason(date) == nil }

  /// `date` itself when it is a business day, else the next one.
  public func businessDay(onOrAfter date: CalendarDate) -> CalendarDate {
    var d = date
    // No run of closed days is longer than a few days; the bound only matters at the calendar's
    // clamped end, where adding a day no longer moves the date.
    for _ in 0..<30 where !isBusinessDay(d) { d = d.adding(days: 1) }
    return d
  }
}
