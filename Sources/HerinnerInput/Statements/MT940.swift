import Foundation
import HerinnerCore

/// SWIFT MT940 customer statements as the Dutch banks write them.
///
/// The fields (SWIFT MT940 Standards Release): `:20:` reference, `:25:` account, `:60F:`/`:60M:`
/// opening balance, per entry a `:61:` statement line and its `:86:` information, `:62F:`/`:62M:`
/// closing balance. The `:86:` field comes in each bank's own dialect; see `Information`.
enum MT940 {
  /// A field: its tag, its lines (the first one behind the tag) and where it started.
  struct Field {
    var tag: String
    var lines: [Substring]
    var line: Int
  }

  /// One message (`{4:` … `-}`): its fields, and whether it was closed properly.
  struct Message {
    var fields: [Field] = []
    var terminated = false
  }

  static func looksLikeMT940(_ text: String) -> Bool {
    let head = text.prefix(4096)
    return head.contains(":20:") && (head.contains(":25:") || head.contains(":60F:"))
      || head.hasPrefix("{1:")
  }

  /// `:61:` `:86:` and friends: two digits and an optional letter between colons.
  static func fieldTag(_ line: Substring) -> (tag: String, rest: Substring)? {
    let c = Array(line.utf8.prefix(6))
    guard c.count >= 4, c[0] == UInt8(ascii: ":"), (0x30...0x39).contains(c[1]),
      (0x30...0x39).contains(c[2])
    else { return nil }
    var end = 3
    if c.count > 3, (0x41...0x5A).contains(c[3]) { end = 4 }
    guard end < c.count, c[end] == UInt8(ascii: ":") else { return nil }
    let tagEnd = line.utf8.index(line.startIndex, offsetBy: end)
    return (
      String(line[line.index(after: line.startIndex)..<tagEnd]),
      line[line.utf8.index(after: tagEnd)...]
    )
  }

  /// Splits the text into messages. A line `-` (or `-}`) ends a message unless a field other
  /// than `:20:` follows before the next header: some exports re-wrap `:86:` lines so that one
  /// starts with `-` (SWIFT forbids that, so it is taken as text).
  static func messages(_ text: String) -> [Message] {
    let lines = StatementText.lines(text).map { l -> Substring in
      var l = l
      while let last = l.last, last == "\u{1A}" { l = l.dropLast() }  // DOS end of file
      return l
    }
    var out: [Message] = []
    var current: Message? = nil
    func close(terminated: Bool) {
      if var m = current, !m.fields.isEmpty {
        m.terminated = terminated
        out.append(m)
      }
      current = nil
    }
    func endsMessage(after index: Int) -> Bool {
      for l in lines[(index + 1)...] {
        if l.hasPrefix("{") || l.hasPrefix(":940:") { return true }
        if let f = fieldTag(l) { return f.tag == "20" }
      }
      return true
    }
    for (i, raw) in lines.enumerated() {
      var line = raw
      if line.hasPrefix("-") {
        let rest = line.dropFirst()
        if rest.isEmpty || rest.hasPrefix("}") {
          if rest.hasPrefix("}") || endsMessage(after: i) {
            close(terminated: true)
            // `-}{1:…}{2:…}{4:` starts the next message on the same line.
            continue
          }
        }
      }
      if line.hasPrefix("{") {
        // Header blocks; `{4:` may carry the first field behind it.
        if let r = line.range(of: "{4:") {
          close(terminated: false)
          current = Message()
          line = line[r.upperBound...]
          if line.isEmpty { continue }
        } else {
          continue
        }
      }
      if line.hasPrefix(":940:") {
        close(terminated: false)
        continue
      }
      if let f = fieldTag(line) {
        if f.tag == "20", let m = current, m.fields.contains(where: { $0.tag != "20" }) {
          close(terminated: false)
        }
        if current == nil { current = Message() }
        current?.fields.append(Field(tag: f.tag, lines: [f.rest], line: i + 1))
      } else if current != nil, let last = current?.fields.indices.last {
        current?.fields[last].lines.append(line)
      }
    }
    close(terminated: false)
    return out
  }

  static func parse(_ text: String, file: String) throws(Problems) -> StatementFile {
    let msgs = messages(text)
    guard msgs.contains(where: { $0.fields.contains { $0.tag == "20" } }) else {
      throw Problems([
        Problem(
          file: file, line: 1, message: "not an MT940 statement (no :20: field); nothing imported")
      ])
    }
    let bank = Bank(header: String(text.prefix(512)))
    var transactions: [BankTransaction] = []
    var warnings: [Problem] = []
    func fail(_ line: Int, _ field: String?, _ message: String) -> Problems {
      Problems([
        Problem(file: file, line: line, field: field, message: message + "; nothing imported")
      ])
    }
    for (index, m) in msgs.enumerated() {
      // A download cut short: the last message has no closing balance and no end mark.
      let closed = m.fields.contains { $0.tag == "62F" || $0.tag == "62M" }
      if index == msgs.count - 1, !closed, !m.terminated {
        throw fail(
          m.fields.last?.line ?? 1, nil,
          "the statement ends without its closing balance (:62F:) and end mark (-): the file is incomplete, download it again"
        )
      }
      var account = ""
      var currency: String? = nil
      var opening: Int64? = nil
      var closing: Int64? = nil
      var sum: Int64 = 0
      var i = 0
      while i < m.fields.count {
        let f = m.fields[i]
        switch f.tag {
        case "25": account = Self.account(f.lines[0])
        case "60F", "60M", "62F", "62M":
          guard let b = balance(f.lines[0]) else {
            throw fail(
              f.line, ":\(f.tag):", "a balance that cannot be read: \"\(f.lines[0].prefix(40))\"")
          }
          if f.tag.hasPrefix("60") {
            currency = b.currency
            opening = b.cents
            sum = 0
          } else {
            closing = b.cents
          }
        case "61":
          let entry: StatementLine
          do { entry = try StatementLine(f.lines) } catch {
            throw fail(f.line, ":61:", error.message + ": \"\(f.lines[0].prefix(50))\"")
          }
          guard let currency else {
            throw fail(
              f.line, ":61:", "an entry before the opening balance (:60F:) that gives its currency")
          }
          var info: [Substring] = []
          while i + 1 < m.fields.count, m.fields[i + 1].tag == "86" {
            i += 1
            info.append(contentsOf: m.fields[i].lines)
          }
          sum &+= entry.credit ? entry.cents : -entry.cents
          let details = Information(info, entry: entry, bank: bank)
          let amount = Money(cents: entry.cents, currency: currency)
          let key =
            BankTransaction.contentKey(
              account: account, date: entry.booked, amount: amount,
              counterparty: details.iban ?? details.name,
              text: [entry.reference, entry.bankReference, details.text ?? ""].joined(
                separator: "|"))
            + (entry.credit ? "|C" : "|D") + (entry.reversal ? "R" : "")
          transactions.append(
            BankTransaction(
              key: key, account: account, bookingDate: entry.booked, amount: amount,
              isCredit: entry.credit, isReversal: entry.reversal, debtorName: details.name,
              debtorIBAN: details.iban, remittance: details.text,
              structuredReference: details.reference, endToEndID: details.endToEnd))
        default: break
        }
        i += 1
      }
      if let opening, let closing, opening &+ sum != closing {
        warnings.append(
          Problem(
            file: file, line: m.fields.first?.line,
            message:
              "account \(account): the opening balance and the entries do not add up to the closing balance (is the file complete and unchanged?); read as it is"
          ))
      }
    }
    return StatementFile(format: .mt940, transactions: transactions, warnings: warnings)
  }

  /// The account of `:25:` without the currency some banks append (`NL77INGB0574908765EUR`,
  /// `0123456789 EUR`) and without spaces (`NL92 KNAB 0123 4567 89`).
  static func account(_ v: Substring) -> String {
    var s = Substring(v.trimmed(of: " "))
    let tail = s.suffix(3)
    if tail.count == 3, tail.allSatisfy({ $0.isASCII && $0.isUppercase }),
      let before = s.dropLast(3).last, before == " " || before.isNumber
    {
      s = s.dropLast(3)
    }
    return String(s.filter { $0 != " " })
  }

  /// `C200101EUR444,29`: mark, date, currency, amount.
  static func balance(_ v: Substring) -> (currency: String, cents: Int64)? {
    let s = Array(v.trimmed(of: " "))
    guard s.count >= 11, s[0] == "C" || s[0] == "D",
      s[1...6].allSatisfy({ $0.isASCII && $0.isNumber }),
      s[7...9].allSatisfy({ $0.isASCII && $0.isUppercase })
    else { return nil }
    guard
      let cents = try? StatementText.cents(
        Substring(String(s[10...])), mark: ",", requireMark: true)
    else { return nil }
    return (String(s[7...9]), s[0] == "C" ? cents : -cents)
  }

  struct LineError: Error {
    var message: String
  }

  /// `:61:` value date YYMMDD, entry date MMDD (optional, or four spaces), mark (`C`, `D`, `RC`,
  /// `RD`), funds code, amount with a decimal comma, transaction type (`N` + three
  /// characters), reference for the account owner, `//` bank reference; a second line of
  /// supplementary details.
  struct StatementLine {
    var booked: CalendarDate
    var credit: Bool
    var reversal: Bool
    var cents: Int64
    var reference: String
    var bankReference: String
    var supplementary: String?

    init(_ lines: [Substring]) throws(LineError) {
      let v = Array(lines[0])
      func digits(_ r: Range<Int>) -> Int? {
        guard r.upperBound <= v.count, v[r].allSatisfy({ $0.isASCII && $0.isNumber }) else {
          return nil
        }
        return Int(String(v[r]))
      }
      guard let yy = digits(0..<2), let mm = digits(2..<4), let dd = digits(4..<6),
        let valueDate = CalendarDate(year: yy < 80 ? 2000 + yy : 1900 + yy, month: mm, day: dd)
      else { throw LineError(message: "a statement line without a valid value date (YYMMDD)") }
      var i = 6
      var booked = valueDate
      if let em = digits(6..<8), let ed = digits(8..<10) {
        // The entry date has no year: the one nearest the value date (a booking on 31
        // December of a payment valued 1 January).
        let candidates = [valueDate.year - 1, valueDate.year, valueDate.year + 1].compactMap {
          CalendarDate(year: $0, month: em, day: ed)
        }
        guard
          let nearest = candidates.min(by: {
            abs($0.days(until: valueDate)) < abs($1.days(until: valueDate))
          })
        else { throw LineError(message: "a statement line with an invalid entry date (MMDD)") }
        booked = nearest
        i = 10
      } else if i + 4 <= v.count, v[i..<i + 4].allSatisfy({ $0 == " " }) {
        i = 10
      }
      self.booked = booked
      reversal = false
      if i < v.count, v[i] == "R" {
        reversal = true
        i += 1
      }
      guard i < v.count, v[i] == "C" || v[i] == "D" else {
        throw LineError(message: "a statement line without its credit or debit mark (C, D, RC, RD)")
      }
      // RC is the reversal of a credit, booked as a debit; RD the reversal of a debit, a credit.
      credit = reversal ? v[i] == "D" : v[i] == "C"
      i += 1
      if i + 1 < v.count, v[i].isLetter, v[i + 1].isNumber { i += 1 }  // funds code
      let start = i
      while i < v.count, v[i].isASCII, v[i].isNumber || v[i] == "," { i += 1 }
      let amountText = String(v[start..<i])
      do {
        cents = try StatementText.cents(Substring(amountText), mark: ",", requireMark: true)
      } catch {
        throw LineError(
          message: amountText.isEmpty || i >= v.count || !"NFS".contains(v[i])
            ? "a statement line whose amount is missing, cut off or not written with a decimal comma"
            : "an amount that cannot be read exactly (\(amountText))")
      }
      // The transaction type: N, F or S and three characters. Its absence means a line cut off.
      guard i + 4 <= v.count, "NFS".contains(v[i]) else {
        throw LineError(message: "a statement line cut off after its amount (no transaction type)")
      }
      i += 4
      let rest = String(v[i...])
      if let r = rest.range(of: "//") {
        reference = String(rest[..<r.lowerBound]).trimmed(of: " ")
        bankReference = String(rest[r.upperBound...]).trimmed(of: " ")
      } else {
        reference = rest.trimmed(of: " ")
        bankReference = ""
      }
      supplementary = lines.count > 1 ? StatementText.nonEmpty(lines[1]) : nil
    }
  }

  /// The bank, from the message header's BIC: it decides how a few `:86:` dialects are read.
  enum Bank {
    case volksbank, bunq, other

    init(header: String) {
      let h = header.uppercased()
      if h.contains("ASNBNL") || h.contains("SNSBNL") || h.contains("RBRBNL") {
        self = .volksbank
      } else if h.contains("BUNQNL") {
        self = .bunq
      } else {
        self = .other
      }
    }
  }

  /// What one entry's `:86:` (and its `:61:`) say about the counterparty and the payment.
  struct Information {
    var name: String?
    var iban: String?
    var text: String?
    var reference: String?
    var endToEnd: String?

    /// Structured tags (ING, Rabobank, ABN AMRO `/TRTP/`, Triodos, Knab, bunq, Van Lanschot).
    static let tags: Set<String> = [
      "TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "CNTP", "MARF", "CSID", "ISDT", "RTRN",
      "PURP", "ULTC", "ULTD", "BENM", "ADDR", "ACCW", "PREF", "TRCD", "BUSP", "SUM", "IREF", "KREF",
      "OCMT", "CHGS", "EXCH", "SVCL", "CREF", "CIND", "FX", "RETR",
    ]

    init(_ raw: [Substring], entry: StatementLine?, bank: Bank) {
      let lines = raw.map { String($0) }
      let glued = lines.joined()
      let supplementaryIBAN = StatementText.iban(entry?.supplementary)
      if glued.hasPrefix("/"),
        let d = Information.structured(
          bank == .bunq || lines.contains(where: { $0.count > 65 })
            ? lines.joined(separator: "\n") : glued)
      {
        // Lines of structured fields are one string wrapped at a fixed width: glued. bunq
        // never wraps (its lines run past 65 characters): its line breaks are the text's own.
        var cntp = d["CNTP"].map { $0.split(separator: "/", omittingEmptySubsequences: false) }
        if cntp?.isEmpty == true { cntp = nil }
        name =
          StatementText.nonEmpty(d["NAME"])
          ?? cntp.flatMap { $0.count > 2 ? StatementText.nonEmpty($0[2]) : nil }
        iban =
          StatementText.iban(d["IBAN"]) ?? cntp.flatMap { StatementText.iban($0.first) }
          ?? StatementText.iban(d["ACCW"]?.split(separator: ",").first) ?? supplementaryIBAN
        if let remi = d["REMI"] {
          var r = Substring(remi)
          if r.hasPrefix("USTD//") { r = r.dropFirst(6) }
          if r.hasPrefix("STRD/CUR/") {
            reference = StatementText.nonEmpty(r.dropFirst(9).trimmed(of: "/ "))
          } else if r.hasPrefix("STRD/") {
            reference = StatementText.nonEmpty(r.dropFirst(5).split(separator: "/").last)
          } else {
            text = StatementText.nonEmpty(r.trimmed(of: "/ "))
          }
        }
        endToEnd = d["EREF"].flatMap { $0 == "NOTPROVIDED" ? nil : StatementText.nonEmpty($0) }
        return
      }
      let trimmed = lines.map { $0.trimmed(of: " ") }
      if bank == .volksbank {
        // de Volksbank (ASN, SNS, RegioBank): the counterparty IBAN as the :61: reference, its
        // name on the :61: second line and on the first :86: line, the description from the
        // third :86: line on, wrapped at exactly 65 characters.
        iban =
          StatementText.iban(entry?.reference)
          ?? StatementText.iban(trimmed.first?.split(separator: " ").first)
        name = StatementText.nonEmpty(entry?.supplementary)
        if name == nil, let first = trimmed.first, let iban, first.hasPrefix(iban) {
          name = StatementText.nonEmpty(first.dropFirst(iban.count))
        }
        text = Information.wrapped(Array(trimmed.dropFirst(2)), width: 65)
        return
      }
      if let i = trimmed.lastIndex(where: { $0.hasPrefix("REK:") && $0.contains("/NAAM:") }) {
        // Knab: `REK: <account>/NAAM: <name>` below the free text.
        let l = trimmed[i]
        let parts = l.components(separatedBy: "/NAAM:")
        iban = StatementText.iban(parts[0].dropFirst(4).trimmed(of: " "))
        name = StatementText.nonEmpty(parts.dropFirst().joined(separator: "/NAAM:"))
        var rest = trimmed
        rest.remove(at: i)
        text = StatementText.nonEmpty(rest.filter { !$0.isEmpty }.joined(separator: " "))
        return
      }
      let spaced = trimmed.joined(separator: " ")
      if spaced.range(of: "IBAN:", options: .caseInsensitive) != nil,
        spaced.range(of: "NAAM:", options: .caseInsensitive) != nil
      {
        let d = Information.labelled(spaced)
        iban = StatementText.iban(d["IBAN"])
        name = StatementText.nonEmpty(d["NAAM"])
        text = StatementText.nonEmpty(d["OMSCHRIJVING"]) ?? StatementText.nonEmpty(d[""])
        reference = d["BETALINGSKENM."].flatMap { StatementText.nonEmpty($0) }
        endToEnd = d["KENMERK"].flatMap { StatementText.nonEmpty($0) }
        return
      }
      if let first = trimmed.first, first.count >= 4, Array(first)[3] == ">" || first.hasPrefix(">")
      {
        // Old Triodos and Rabobank: `>NN` subfields of 27 characters, broken anywhere;
        // 20 to 29 hold the description.
        let sub = Information.subfields(lines.joined())
        text = StatementText.nonEmpty((20...29).compactMap { sub[$0] }.joined())
        iban = StatementText.iban(sub[38]) ?? supplementaryIBAN
        name = StatementText.nonEmpty(sub[32]).map { $0 + (sub[33] ?? "") }
        return
      }
      // Free text (old ING, Knab, ABN AMRO): the lines end at word boundaries.
      text = StatementText.nonEmpty(trimmed.filter { !$0.isEmpty }.joined(separator: " "))
      iban = supplementaryIBAN
    }

    /// `/TAG/value/TAG/value`: a value runs to the next known tag, so a name with a `/` in it
    /// (`en/of`) stays whole. Nil when the text does not start with a known tag.
    static func structured(_ s: String) -> [String: String]? {
      let c = Array(s)
      func tag(at i: Int) -> String? {
        guard c[i] == "/" else { return nil }
        var j = i + 1
        while j < c.count, j - i <= 5, c[j].isASCII, c[j].isUppercase { j += 1 }
        guard j < c.count, c[j] == "/", j > i + 1 else { return nil }
        let t = String(c[(i + 1)..<j])
        return tags.contains(t) ? t : nil
      }
      guard !c.isEmpty, tag(at: 0) != nil else { return nil }
      var out: [String: String] = [:]
      var current: String? = nil
      var value = ""
      var i = 0
      func finish() {
        guard let k = current else { return }
        var v = Substring(value)
        if v.hasSuffix("/") { v = v.dropLast() }
        if out[k] == nil { out[k] = String(v).trimmed(of: " \n") }
      }
      while i < c.count {
        if let t = tag(at: i) {
          finish()
          current = t
          value = ""
          i += t.count + 2
          continue
        }
        value.append(c[i])
        i += 1
      }
      finish()
      return out
    }

    /// `IBAN: … BIC: … NAAM: … OMSCHRIJVING: … KENMERK: …` (ABN AMRO before /TRTP/); the key ""
    /// holds what comes before the first label.
    static func labelled(_ s: String) -> [String: String] {
      let labels = [
        "IBAN:", "BIC:", "NAAM:", "OMSCHRIJVING:", "KENMERK:", "MACHTIGING:", "INCASSANT:",
        "BETALINGSKENM.:",
      ]
      var found: [(label: String, range: Range<String.Index>)] = []
      var from = s.startIndex
      while from < s.endIndex {
        var best: (String, Range<String.Index>)? = nil
        for l in labels {
          if let r = s.range(of: l, options: .caseInsensitive, range: from..<s.endIndex),
            best == nil || r.lowerBound < best!.1.lowerBound
          {
            best = (l, r)
          }
        }
        guard let b = best else { break }
        found.append((String(b.0.dropLast()), b.1))
        from = b.1.upperBound
      }
      var out: [String: String] = [:]
      let head = s[..<(found.first?.range.lowerBound ?? s.endIndex)]
      out[""] = head.trimmed(of: " ")
      for (n, f) in found.enumerated() {
        let end = n + 1 < found.count ? found[n + 1].range.lowerBound : s.endIndex
        if out[f.label] == nil { out[f.label] = s[f.range.upperBound..<end].trimmed(of: " ") }
      }
      return out
    }

    /// `>20text>21text`: subfield number → text.
    static func subfields(_ s: String) -> [Int: String] {
      var out: [Int: String] = [:]
      let c = Array(s)
      var i = 0
      var current: Int? = nil
      var value = ""
      while i < c.count {
        if c[i] == ">", i + 2 < c.count, let a = c[i + 1].wholeNumberValue, c[i + 1].isASCII,
          let b = c[i + 2].wholeNumberValue, c[i + 2].isASCII
        {
          if let k = current { out[k, default: ""] += value }
          current = a * 10 + b
          value = ""
          i += 3
          continue
        }
        value.append(c[i])
        i += 1
      }
      if let k = current { out[k, default: ""] += value }
      return out
    }

    /// Lines wrapped at `width`: a full line continues on the next without a space, a shorter
    /// one ended at a word boundary.
    static func wrapped(_ lines: [String], width: Int) -> String? {
      var out = ""
      var glue = false
      for l in lines where !l.isEmpty {
        if !out.isEmpty && !glue { out += " " }
        out += l
        glue = l.count >= width
      }
      return out.isEmpty ? nil : out
    }
  }
}
