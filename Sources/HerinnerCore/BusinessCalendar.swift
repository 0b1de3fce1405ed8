/// Dutch business days: no weekends and no general public holidays (DOMAIN.md, "Dutch public
/// holidays"). Goede Vrijdag is not a general day off. Pure.
public struct BusinessCalendar: Sendable {
  /// Bevrijdingsdag (5 May) every year; by default only in lustrum years (2025, 2030, …).
  public var liberationDayEveryYear: Bool

  public init(liberationDayEveryYear: Bool = false) {
    self.liberationDayEveryYear = liberationDayEveryYear
  }

  /// Easter Sunday by the anonymous Gregorian computus (Meeus/Jones/Butcher).
  public static func easter(_ year: Int) -> CalendarDate {
    let a = year % 19
    let b = year / 100
    let c = year % 100
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
    return CalendarDate(year: year, month: month, day: day)!
  }

  /// The public holidays of `year` with their Dutch names.
  public func holidays(in year: Int) -> [(date: CalendarDate, name: String)] {
    let easter = Self.easter(year)
    var kingsDay = CalendarDate(year: year, month: 4, day: 27)!
    if kingsDay.isoWeekday == 7 { kingsDay = kingsDay.adding(days: -1) }
    var list: [(CalendarDate, String)] = [
      (CalendarDate(year: year, month: 1, day: 1)!, "Nieuwjaarsdag"),
      (easter, "Eerste Paasdag"),
      (easter.adding(days: 1), "Tweede Paasdag"),
      (kingsDay, "Koningsdag"),
      (easter.adding(days: 39), "Hemelvaartsdag"),
      (easter.adding(days: 49), "Eerste Pinksterdag"),
      (easter.adding(days: 50), "Tweede Pinksterdag"),
      (CalendarDate(year: year, month: 12, day: 25)!, "Eerste Kerstdag"),
      (CalendarDate(year: year, month: 12, day: 26)!, "Tweede Kerstdag"),
    ]
    if liberationDayEveryYear || year % 5 == 0 {
      list.append((CalendarDate(year: year, month: 5, day: 5)!, "Bevrijdingsdag"))
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
    while !isBusinessDay(d) { d = d.adding(days: 1) }
    return d
  }
}
