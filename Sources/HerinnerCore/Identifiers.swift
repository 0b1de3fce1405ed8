/// The international bank account number (ISO 13616).
public enum IBAN {
  /// As banks print it in groups, or as one word: without spaces, in capitals. The one form
  /// in which IBANs are compared.
  public static func normalized(_ raw: String) -> String {
    String(raw.unicodeScalars.filter { $0 != " " && $0 != "\u{00A0}" }).uppercased()
  }

  /// The check digits are right (mod-97).
  public static func isValid(_ raw: String) -> Bool {
    let s = normalized(raw)
    guard (15...34).contains(s.count), s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
    else { return false }
    let rearranged = s.dropFirst(4) + s.prefix(4)
    var remainder = 0
    for ch in rearranged {
      let v: Int
      if let d = ch.wholeNumberValue { v = d } else { v = Int(ch.asciiValue! - 55) }
      for digit in String(v) { remainder = (remainder * 10 + digit.wholeNumberValue!) % 97 }
    }
    return remainder == 1
  }
}

/// A pragmatic address check: the dot-atom `local@domain` form mail servers accept, no spaces,
/// no quotes, no angle brackets, no control characters (RFC 5322 §3.4.1, without the obsolete
/// and quoted forms).
public enum EmailAddress {
  /// RFC 5322 atext plus the dot, as bytes.
  static let localAllowed: [Bool] = {
    var t = [Bool](repeating: false, count: 128)
    for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~."
      .utf8
    { t[Int(c)] = true }
    return t
  }()

  public static func isValid(_ s: String) -> Bool {
    let b = Array(s.utf8)
    guard b.count <= 254, let at = b.lastIndex(of: UInt8(ascii: "@")) else { return false }
    let local = b[..<at]
    let domain = b[(at + 1)...]
    let dot = UInt8(ascii: ".")
    guard !local.isEmpty, local.count <= 64,
      local.allSatisfy({ $0 < 128 && localAllowed[Int($0)] }),
      local.first != dot, local.last != dot
    else { return false }
    var previousDot = false
    for x in local {
      if x == dot && previousDot { return false }
      previousDot = x == dot
    }
    let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
    guard labels.count >= 2 else { return false }
    for label in labels {
      guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"),
        label.last != UInt8(ascii: "-"),
        label.allSatisfy({
          ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
            || $0 == UInt8(ascii: "-")
        })
      else { return false }
    }
    return true
  }
}
