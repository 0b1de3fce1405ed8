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
  public static func + (a: Money, b: Money) -> Money {
    Money(cents: a.cents + b.cents, currency: a.currency)
  }
  public static func - (a: Money, b: Money) -> Money {
    Money(cents: a.cents - b.cents, currency: a.currency)
  }

  public var isZero: Bool { cents == 0 }

  /// The magnitude with `group` between thousands and `decimal` before the cents.
  func number(group: Character, decimal: Character) -> String {
    let magnitude = cents.magnitude
    let whole = String(magnitude / 100)
    let fraction = magnitude % 100
    var grouped = ""
    for (i, ch) in whole.enumerated() {
      if i > 0 && (whole.count - i) % 3 == 0 { grouped.append(group) }
      grouped.append(ch)
    }
    return grouped + String(decimal) + (fraction < 10 ? "0" : "") + String(fraction)
  }

  /// `1.234,56` — Dutch grouping and decimal comma, no symbol.
  public var dutchNumber: String {
    (cents < 0 ? "-" : "") + number(group: ".", decimal: ",")
  }

  /// `€ 1.234,56` (a plain space, as Dutch letters write it); other currencies by their code.
  public var dutch: String {
    (currency == "EUR" ? "€" : currency) + " " + dutchNumber
  }

  /// `€1,234.56` for English letters.
  public var english: String {
    let symbol = currency == "EUR" ? "€" : currency + " "
    return (cents < 0 ? "-" : "") + symbol + number(group: ",", decimal: ".")
  }

  public func formatted(language: Language) -> String { language == .en ? english : dutch }

  /// `1234.56` — the plain machine form (CSV exports, JSON).
  public var plain: String {
    let negative = cents < 0
    let m = cents.magnitude
    return (negative ? "-" : "") + String(m / 100) + "." + (m % 100 < 10 ? "0" : "")
      + String(m % 100)
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
    // Byte-level: this runs once per amount of every invoice row.
    var b = Array(text.utf8)
    func trim() {
      while let f = b.first, f == 0x20 || f == 0x09 { b.removeFirst() }
      while let l = b.last, l == 0x20 || l == 0x09 { b.removeLast() }
      while b.starts(with: [0xC2, 0xA0]) { b.removeFirst(2) }
      while b.count >= 2 && b[b.count - 2] == 0xC2 && b[b.count - 1] == 0xA0 { b.removeLast(2) }
    }
    trim()
    for symbol in [[0xE2, 0x82, 0xAC], Array("EUR".utf8), Array("eur".utf8)] as [[UInt8]]
    where b.starts(with: symbol) {
      b.removeFirst(symbol.count)
      trim()
    }
    var negative = false
    if b.first == UInt8(ascii: "-") {
      negative = true
      b.removeFirst()
    } else if b.first == UInt8(ascii: "+") {
      b.removeFirst()
    }
    // Spaces and no-break spaces inside are grouping: drop them.
    var c: [UInt8] = []
    c.reserveCapacity(b.count)
    var i = 0
    while i < b.count {
      if b[i] == 0x20 || b[i] == 0x09 {
        i += 1
        continue
      }
      if b[i] == 0xC2 && i + 1 < b.count && b[i + 1] == 0xA0 {
        i += 2
        continue
      }
      c.append(b[i])
      i += 1
    }
    guard !c.isEmpty else { throw .empty }
    let dot = UInt8(ascii: ".")
    let comma = UInt8(ascii: ",")
    func isDigit(_ x: UInt8) -> Bool { x >= 0x30 && x <= 0x39 }
    guard c.allSatisfy({ isDigit($0) || $0 == dot || $0 == comma }), isDigit(c[0]) else {
      throw .invalid
    }
    let lastDot = c.lastIndex(of: dot)
    let lastComma = c.lastIndex(of: comma)
    var integerPart = c[...]
    var fractionPart: ArraySlice<UInt8> = []
    var thousands: UInt8? = nil
    switch (lastDot, lastComma) {
    case (nil, nil):
      break
    case (let d?, let cm?):
      let decimalIndex = max(d, cm)
      thousands = d > cm ? comma : dot
      integerPart = c[..<decimalIndex]
      fractionPart = c[(decimalIndex + 1)...]
      if fractionPart.contains(dot) || fractionPart.contains(comma) { throw .invalid }
    case (let only?, nil), (nil, let only?):
      let mark = c[only]
      let count = c.filter { $0 == mark }.count
      let after = c[(only + 1)...]
      if count == 1 && after.count <= 2 && !after.isEmpty {
        integerPart = c[..<only]
        fractionPart = after
      } else if after.count == 3 && (count > 1 || mark == dot) {
        thousands = mark
      } else if count == 1 && after.count == 3 {
        throw .ambiguous
      } else if count == 1 && after.count > 3 {
        throw .tooManyDecimals
      } else {
        throw .invalid
      }
    }
    var digits: [UInt8] = []
    if let t = thousands {
      let groups = integerPart.split(separator: t, omittingEmptySubsequences: false)
      guard let head = groups.first, (1...3).contains(head.count),
        groups.dropFirst().allSatisfy({ $0.count == 3 })
      else { throw .invalid }
      for g in groups { digits += g }
    } else {
      digits = Array(integerPart)
    }
    guard !digits.isEmpty, digits.allSatisfy(isDigit), fractionPart.allSatisfy(isDigit) else {
      throw .invalid
    }
    guard fractionPart.count <= 2 else { throw .tooManyDecimals }
    guard digits.count <= 15 else { throw .overflow }
    var whole: Int64 = 0
    for d in digits { whole = whole * 10 + Int64(d - 0x30) }
    var frac: Int64 = 0
    for (k, d) in fractionPart.enumerated() { frac += Int64(d - 0x30) * (k == 0 ? 10 : 1) }
    let cents = whole * 100 + frac
    return Money(cents: negative ? -cents : cents, currency: currency)
  }
}

extension Money {
  /// Parses a machine number: a JSON number (RFC 8259 §6) or an XML Schema decimal, where the
  /// dot is always the decimal mark and there is no grouping: `1.250` is € 1,25, `5.000` € 5,00,
  /// `1.25e2` € 125,00.
  ///
  /// Exact or it throws: digits beyond the cents must be zeros (`1.255` is `tooManyDecimals`),
  /// and an amount of more than 15 whole digits is `overflow`. No floating point.
  public static func parse(decimal text: String, currency: String = "EUR") throws(ParseError)
    -> Money
  {
    let b = Array(text.utf8)
    func isDigit(_ x: UInt8) -> Bool { x >= 0x30 && x <= 0x39 }
    var i = 0
    var negative = false
    if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
      negative = b[i] == UInt8(ascii: "-")
      i += 1
    }
    var mantissa: [UInt8] = []
    var fractionDigits = 0
    while i < b.count, isDigit(b[i]) {
      mantissa.append(b[i])
      i += 1
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      while i < b.count, isDigit(b[i]) {
        mantissa.append(b[i])
        fractionDigits += 1
        i += 1
      }
    }
    guard !mantissa.isEmpty else { throw b.isEmpty ? .empty : .invalid }
    var exponent = 0
    if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      i += 1
      var expNegative = false
      if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        expNegative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      guard i < b.count else { throw .invalid }
      while i < b.count, isDigit(b[i]) {
        // Saturates: an exponent this large is an overflow or nothing but zeros either way.
        exponent = min(exponent * 10 + Int(b[i] - 0x30), 1_000_000)
        i += 1
      }
      if expNegative { exponent = -exponent }
    }
    guard i == b.count else { throw .invalid }
    // The value is mantissa × 10^(exponent − fractionDigits); in cents, shift by two more.
    let shift = exponent - fractionDigits + 2
    var digits = mantissa[...]
    while let f = digits.first, f == 0x30 { digits = digits.dropFirst() }
    if digits.isEmpty { return Money(cents: 0, currency: currency) }
    if shift < 0 {
      // The digits below the cent must all be zero.
      // (The first digit is not zero, so a number that is all below the cent fails too.)
      guard digits.suffix(-shift).allSatisfy({ $0 == 0x30 }) else { throw .tooManyDecimals }
      digits = digits.dropLast(-shift)
    }
    let zeros = max(shift, 0)
    guard digits.count + zeros <= 17 else { throw .overflow }
    var cents: Int64 = 0
    for d in digits { cents = cents * 10 + Int64(d - 0x30) }
    for _ in 0..<zeros { cents *= 10 }
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
