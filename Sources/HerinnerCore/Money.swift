import Foundation

/// An amount of money in integer cents with its currency. Never a `Double`.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var cents: Int64
  public var currency: String

  public init(cents: Int64, currency: String = "EUR") {
    self.cents = cents
    self.currency = currency
  }

  public static func euros(_ whole: Int64, _ cents: Int64 = 0) -> Money {
    Money(cents: whole * 100 + cents)
  }

  public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }
  public static func + (a: Money, b: Money) -> Money { Money(cents: a.cents + b.cents, currency: a.currency) }
  public static func - (a: Money, b: Money) -> Money { Money(cents: a.cents - b.cents, currency: a.currency) }

  public var isZero: Bool { cents == 0 }

  /// `1.234,56` — Dutch grouping and decimal comma, no symbol.
  public var dutchNumber: String {
    let negative = cents < 0
    let magnitude = cents.magnitude
    let whole = String(magnitude / 100)
    let fraction = magnitude % 100
    var grouped = ""
    for (i, ch) in whole.enumerated() {
      if i > 0 && (whole.count - i) % 3 == 0 { grouped.append(".") }
      grouped.append(ch)
    }
    return (negative ? "-" : "") + grouped + "," + (fraction < 10 ? "0" : "") + String(fraction)
  }

  /// `€ 1.234,56` (a plain space, as CONTRACT.md writes it); other currencies by their code.
  public var dutch: String {
    (currency == "EUR" ? "€" : currency) + " " + dutchNumber
  }

  /// `€1,234.56` for English letters.
  public var english: String {
    let negative = cents < 0
    let magnitude = cents.magnitude
    let whole = String(magnitude / 100)
    let fraction = magnitude % 100
    var grouped = ""
    for (i, ch) in whole.enumerated() {
      if i > 0 && (whole.count - i) % 3 == 0 { grouped.append(",") }
      grouped.append(ch)
    }
    let symbol = currency == "EUR" ? "€" : currency + " "
    return (negative ? "-" : "") + symbol + grouped + "." + (fraction < 10 ? "0" : "")
      + String(fraction)
  }

  public func formatted(language: Language) -> String { language == .en ? english : dutch }

  /// `1234.56` — the plain machine form (CSV exports, JSON).
  public var plain: String {
    let negative = cents < 0
    let m = cents.magnitude
    return (negative ? "-" : "") + String(m / 100) + "." + (m % 100 < 10 ? "0" : "") + String(m % 100)
  }

  public var description: String { dutch }

  public enum ParseError: Error, Equatable, Sendable {
    case empty, invalid, tooManyDecimals, ambiguous, overflow
  }

  /// Parses `1.234,56`, `1234,56`, `1234.56`, `1,234.56`, `€ 1.234,56`, `-12,50`, `1234`.
  ///
  /// With both separators the last one is the decimal mark. With one kind only: one or two
  /// digits after a single mark make it decimal; groups of exactly three digits make it a
  /// thousands separator (`1.234` is one thousand two hundred and thirty-four, as a Dutch export
  /// writes it); `1,234` with a single comma is refused as ambiguous. Exact: no floating point.
  public static func parse(_ text: String, currency: String = "EUR") throws(ParseError) -> Money {
    var s = text.trimmingSpaces
    for symbol in ["€", "EUR", "eur"] where s.hasPrefix(symbol) {
      s = String(s.dropFirst(symbol.count)).trimmingSpaces
    }
    var negative = false
    if s.hasPrefix("-") {
      negative = true
      s = String(s.dropFirst()).trimmingSpaces
    } else if s.hasPrefix("+") {
      s = String(s.dropFirst()).trimmingSpaces
    }
    s = s.replacingAll(" ", with: "").replacingAll("\u{00A0}", with: "")
    guard !s.isEmpty else { throw .empty }
    guard s.allSatisfy({ $0.isASCIIDigit || $0 == "." || $0 == "," }), s.first!.isASCIIDigit
    else { throw .invalid }

    let lastDot = s.lastIndex(of: ".")
    let lastComma = s.lastIndex(of: ",")
    var integerPart = s
    var fractionPart = ""
    var thousands: Character? = nil
    switch (lastDot, lastComma) {
    case (nil, nil):
      break
    case (let d?, let c?):
      let decimalIndex = max(d, c)
      thousands = d > c ? "," : "."
      integerPart = String(s[..<decimalIndex])
      fractionPart = String(s[s.index(after: decimalIndex)...])
      if fractionPart.contains(".") || fractionPart.contains(",") { throw .invalid }
    case (let only?, nil), (nil, let only?):
      let mark = s[only]
      let count = s.filter { $0 == mark }.count
      let after = s[s.index(after: only)...]
      if count == 1 && after.count <= 2 && !after.isEmpty {
        integerPart = String(s[..<only])
        fractionPart = String(after)
      } else if after.count == 3 && (count > 1 || mark == ".") {
        thousands = mark
      } else if count == 1 && after.count == 3 {
        throw .ambiguous
      } else if count == 1 && after.count > 3 {
        throw .tooManyDecimals
      } else {
        throw .invalid
      }
    }
    if let t = thousands {
      let groups = integerPart.split(separator: t, omittingEmptySubsequences: false)
      guard let head = groups.first, (1...3).contains(head.count),
        groups.dropFirst().allSatisfy({ $0.count == 3 })
      else { throw .invalid }
      integerPart = groups.joined()
    }
    guard !integerPart.isEmpty, integerPart.allSatisfy(\.isASCIIDigit),
      fractionPart.allSatisfy(\.isASCIIDigit)
    else { throw .invalid }
    guard fractionPart.count <= 2 else { throw .tooManyDecimals }
    guard integerPart.count <= 15 else { throw .overflow }
    let whole = Int64(integerPart)!
    let frac = Int64(fractionPart.padding(toLength: 2, withPad: "0", startingAt: 0))!
    let cents = whole * 100 + frac
    return Money(cents: negative ? -cents : cents, currency: currency)
  }
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty, self.contains(target) else { return self }
    var result = ""
    var rest = Substring(self)
    while let r = rest.range(of: target) {
      result += rest[..<r.lowerBound]
      result += replacement
      rest = rest[r.upperBound...]
    }
    return result + rest
  }
}
