import Foundation

/// Statutory interest: wettelijke rente (art. 6:119 BW) for consumers and wettelijke handelsrente
/// (art. 6:119a BW) for businesses, from the day after the due date.
///
/// Simple interest within each year; after each full year the accrued interest is added to the
/// base (yearly compounding, art. 6:119 lid 2). Periods split at every rate change; day count
/// actual/365, 366 in leap years (as the common calculators do; not verified as a rule of law).
public struct InterestTable: Sendable, Hashable {
  public struct Rate: Sendable, Hashable {
    public var from: CalendarDate
    /// Percent per year, as a decimal string's exact value (e.g. 10.15).
    public var consumer: Decimal
    public var commercial: Decimal
    public init(from: CalendarDate, consumer: Decimal, commercial: Decimal) {
      self.from = from
      self.consumer = consumer
      self.commercial = commercial
    }
  }

  public var rates: [Rate]

  public init(rates: [Rate]) { self.rates = rates.sorted { $0.from < $1.from } }

  /// The published rates (Staatscourant; 2026-01-01 commercial unverified:
  /// ECB rate + 8 points). Users update it through `interest.ratesFile` without a rebuild.
  public static let builtIn = InterestTable(rates: [
    .init(from: d(2020, 1, 1), consumer: 2, commercial: 8),
    .init(from: d(2023, 1, 1), consumer: 4, commercial: Decimal(string: "10.5")!),
    .init(from: d(2023, 7, 1), consumer: 6, commercial: 12),
    .init(from: d(2024, 1, 1), consumer: 7, commercial: Decimal(string: "12.5")!),
    .init(from: d(2024, 7, 1), consumer: 7, commercial: Decimal(string: "12.25")!),
    .init(from: d(2025, 1, 1), consumer: 6, commercial: Decimal(string: "11.15")!),
    .init(from: d(2025, 7, 1), consumer: 6, commercial: Decimal(string: "10.15")!),
    .init(from: d(2026, 1, 1), consumer: 4, commercial: Decimal(string: "10.15")!),
  ])

  private static func d(_ y: Int, _ m: Int, _ day: Int) -> CalendarDate {
    CalendarDate(year: y, month: m, day: day)!
  }

  func rate(on date: CalendarDate, kind: CustomerKind) -> Decimal {
    guard let r = rates.last(where: { $0.from <= date }) ?? rates.first else { return 0 }
    return kind == .consumer ? r.consumer : r.commercial
  }

  /// Interest owed on `principal` for the days after `due` up to and including `through`.
  public func interest(
    principal: Money, due: CalendarDate, through: CalendarDate, kind: CustomerKind
  )
    -> Money
  {
    let start = due.adding(days: 1)
    guard through >= start, principal.cents > 0 else {
      return Money(cents: 0, currency: principal.currency)
    }
    let end = through.adding(days: 1)  // exclusive
    var base = Decimal(principal.cents)
    var accrued: Decimal = 0
    var cursor = start
    var anniversaryYear = 1
    while cursor < end {
      let anniversary =
        CalendarDate(year: start.year + anniversaryYear, month: start.month, day: start.day)
        ?? CalendarDate(year: start.year + anniversaryYear, month: 3, day: 1)!
      var boundary = min(end, anniversary)
      if let change = rates.first(where: { $0.from > cursor })?.from {
        boundary = min(boundary, change)
      }
      let newYear = CalendarDate(year: cursor.year + 1, month: 1, day: 1)!
      boundary = min(boundary, newYear)
      let days = cursor.days(until: boundary)
      let yearDays: Decimal = CalendarDate.isLeap(cursor.year) ? 366 : 365
      accrued += base * rate(on: cursor, kind: kind) / 100 * Decimal(days) / yearDays
      cursor = boundary
      if cursor == anniversary {
        base += Self.rounded(accrued)
        accrued = 0
        anniversaryYear += 1
      }
    }
    let total = base - Decimal(principal.cents) + accrued
    return Money(cents: Self.rounded(total).int64, currency: principal.currency)
  }

  static func rounded(_ value: Decimal) -> Decimal {
    var v = value
    var r = Decimal()
    NSDecimalRound(&r, &v, 0, .plain)
    return r
  }
}

extension Decimal {
  var int64: Int64 { NSDecimalNumber(decimal: self).int64Value }
}
