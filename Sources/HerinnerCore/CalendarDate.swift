/// A calendar day (year-month-day) with no time of day, so no time-zone drift.
///
/// Arithmetic works on a day count (days since 1970-01-01, proleptic Gregorian), which keeps
/// it pure and exact. Pure: reads no clock.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
  // Stored small (8 bytes, not 24): every invoice holds two dates and a night holds every
  // invoice (Benchmarks/RESULTS.md, memory).
  private let y: Int32
  private let m: UInt8
  private let d: UInt8
  public var year: Int { Int(y) }
  public var month: Int { Int(m) }
  public var day: Int { Int(d) }

  /// The years a date may have. Wider than the four digits an input may write: arithmetic on a
  /// sentinel date (9999-12-31 + 7 days) or a year's holidays past it must stay an ordinary date.
  public static let years = -1_000_000...1_000_000

  /// Creates a date; returns nil when the day does not exist (31 April, 29 February 2026).
  public init?(year: Int, month: Int, day: Int) {
    guard Self.years.contains(year), (1...12).contains(month),
      (1...CalendarDate.daysIn(month: month, year: year)).contains(day)
    else { return nil }
    self.y = Int32(year)
    self.m = UInt8(month)
    self.d = UInt8(day)
  }

  /// The date `dayNumber` days after 1970-01-01 (Howard Hinnant's civil-from-days).
  /// Day numbers beyond `years` are clamped to its ends (no trap, no wrap-around).
  public init(dayNumber: Int) {
    let z = min(max(dayNumber, -364_000_000), 364_000_000) + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    self.y = Int32(yoe + era * 400 + (m <= 2 ? 1 : 0))
    self.m = UInt8(m)
    self.d = UInt8(d)
  }

  /// Days since 1970-01-01.
  public var dayNumber: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  public func adding(days: Int) -> CalendarDate {
    let (sum, overflow) = dayNumber.addingReportingOverflow(days)
    return CalendarDate(dayNumber: overflow ? (days > 0 ? Int.max : Int.min) : sum)
  }

  /// Whole days from `self` to `other` (positive when `other` is later).
  public func days(until other: CalendarDate) -> Int { other.dayNumber - dayNumber }

  /// ISO weekday: 1 = Monday … 7 = Sunday.
  public var isoWeekday: Int {
    let w = (dayNumber + 3) % 7  // 1970-01-01 was a Thursday (3 with Monday = 0).
    return (w < 0 ? w + 7 : w) + 1
  }

  public static func isLeap(_ year: Int) -> Bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
  }

  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
    (a.year, a.month, a.day) < (b.year, b.month, b.day)
  }

  /// `YYYY-MM-DD`.
  public var iso: String {
    (year < 0 ? "-" : "") + "\(abs(year).zeroPadded(4))-\(month.zeroPadded(2))-\(day.zeroPadded(2))"
  }

  public var description: String { iso }

  /// Parses `YYYY-MM-DD` or `DD-MM-YYYY` (also with `/` or `.` in the Dutch order). Nil otherwise.
  public init?(parsing text: String) {
    // Byte-level: this runs twice for every invoice row.
    var b = Array(text.utf8)[...]
    while let f = b.first, f == 0x20 || f == 0x09 { b = b.dropFirst() }
    while let l = b.last, l == 0x20 || l == 0x09 { b = b.dropLast() }
    var parts: [Int] = []
    var lengths: [Int] = []
    var value = 0
    var length = 0
    var separator: UInt8? = nil
    for x in b {
      if x >= 0x30 && x <= 0x39 {
        value = value * 10 + Int(x - 0x30)
        length += 1
        guard length <= 4 else { return nil }
      } else if x == UInt8(ascii: "-") || x == UInt8(ascii: "/") || x == UInt8(ascii: ".") {
        guard length > 0, separator == nil || separator == x else { return nil }
        separator = x
        parts.append(value)
        lengths.append(length)
        value = 0
        length = 0
      } else {
        return nil
      }
    }
    guard length > 0 else { return nil }
    parts.append(value)
    lengths.append(length)
    // Year 0000 is not a year of the calendar a document is dated in.
    guard parts.count == 3, parts[0] != 0 || lengths[0] != 4, parts[2] != 0 || lengths[2] != 4
    else { return nil }
    if lengths[0] == 4, lengths[1] <= 2, lengths[2] <= 2, separator == UInt8(ascii: "-") {
      self.init(year: parts[0], month: parts[1], day: parts[2])
    } else if lengths[2] == 4, lengths[0] <= 2, lengths[1] <= 2 {
      self.init(year: parts[2], month: parts[1], day: parts[0])
    } else {
      return nil
    }
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    let s = try c.decode(String.self)
    guard let d = CalendarDate(parsing: s) else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a date: \(s)")
    }
    self = d
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(iso)
  }

  static let dutchMonths = [
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
  ]
  static let englishMonths = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
  ]

  /// `28 november 2026` — the Dutch long form letters use.
  public var dutch: String { "\(day) \(Self.dutchMonths[month - 1]) \(year)" }
  /// `28 November 2026`.
  public var english: String { "\(day) \(Self.englishMonths[month - 1]) \(year)" }

  public func formatted(language: Language) -> String {
    language == .en ? english : dutch
  }
}

extension Character {
  var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension StringProtocol {
  /// Trims spaces, tabs and no-break spaces (what spreadsheets leave around values).
  public var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" || f == "\u{00A0}" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\u{00A0}" { s = s.dropLast() }
    return String(s)
  }
}

extension String {
  /// `trimmingSpaces` with a fast path (every field of every invoice row passes here): nothing
  /// to trim unless the first byte can start a space, tab or no-break space (C2 A0), or the last
  /// byte can end one.
  public var trimmingSpaces: String {
    let u = utf8
    guard let first = u.first, let last = u.last else { return self }
    if first != 0x20 && first != 0x09 && first != 0xC2 && last != 0x20 && last != 0x09
      && last != 0xA0
    {
      return self
    }
    return Substring(self).trimmingSpaces
  }
}
