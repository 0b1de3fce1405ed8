/// The days a statutory term may not end on: Saturdays, Sundays and the general holidays of the
/// Algemene termijnenwet (art. 3 lid 1 and 2 Atw). Pure.
///
/// This list is not the business-day list (`BusinessCalendar`): the Atw names Goede Vrijdag and
/// 5 mei in every year. It is used for the date a 14-day letter states (art. 6:96 lid 6 BW):
/// whether the term is extended when its last day is such a day is unsettled, so the stated date
/// is moved past them (costs nothing, removes the risk).
public enum StatutoryTerms {
  /// The Atw holidays of `year` with their Dutch names (art. 3 lid 1 and 2 Atw).
  public static func holidays(in year: Int) -> [(date: CalendarDate, name: String)] {
    // A deadline past 9999-12-31 (a sentinel due date) has no holidays rather than a trap.
    guard (1...9999).contains(year) else { return [] }
    let easter = BusinessCalendar.easter(year)
    let list: [(CalendarDate?, String)] = [
      (CalendarDate(year: year, month: 1, day: 1), "Nieuwjaarsdag"),
      (easter.adding(days: -2), "Goede Vrijdag"),
      (easter, "Eerste Paasdag"),
      (easter.adding(days: 1), "Tweede Paasdag"),
      (kingsDay(year), "Koningsdag"),
      (CalendarDate(year: year, month: 5, day: 5), "Bevrijdingsdag"),
      (easter.adding(days: 39), "Hemelvaartsdag"),
      (easter.adding(days: 49), "Eerste Pinksterdag"),
      (easter.adding(days: 50), "Tweede Pinksterdag"),
      (CalendarDate(year: year, month: 12, day: 25), "Eerste Kerstdag"),
      (CalendarDate(year: year, month: 12, day: 26), "Tweede Kerstdag"),
    ]
    return list.compactMap { d, n in d.map { (date: $0, name: n) } }.sorted { $0.date < $1.date }
  }

  /// 27 April, or 26 April when the 27th is a Sunday (art. 3 lid 1 Atw names "Koningsdag").
  static func kingsDay(_ year: Int) -> CalendarDate? {
    guard let d = CalendarDate(year: year, month: 4, day: 27) else { return nil }
    return d.isoWeekday == 7 ? d.adding(days: -1) : d
  }

  /// Why a term may not end on `date` ("Saturday", "Goede Vrijdag"), or nil when it may.
  public static func closedReason(_ date: CalendarDate) -> String? {
    if let name = holidays(in: date.year).first(where: { $0.date == date })?.name { return name }
    if date.isoWeekday == 6 { return "Saturday" }
    if date.isoWeekday == 7 { return "Sunday" }
    return nil
  }

  /// `date` itself when a term may end on it, else the first day after it that may.
  public static func endOfTerm(onOrAfter date: CalendarDate) -> CalendarDate {
    var d = date
    // At most a few days apart (a weekend next to Christmas, Easter): never loops long.
    while closedReason(d) != nil { d = d.adding(days: 1) }
    return d
  }

  /// The date a 14-day letter sent on `sent` states: at least `termDays` (at least 14) days
  /// counted from the day after receipt, with one spare day for receipt (HR 25-11-2016,
  /// ECLI:NL:HR:2016:2704), moved past Saturdays, Sundays and Atw holidays.
  public static func fourteenDayDeadline(sentOn sent: CalendarDate, termDays: Int = 14)
    -> CalendarDate
  {
    endOfTerm(onOrAfter: sent.adding(days: max(14, termDays) + 1))
  }
}
