import Foundation
import HerinnerCore

/// Bank CSV and TAB exports: those with a header row (ING, Rabobank, Knab, bunq, or any bank
/// through `payments.columns`), and the two without one, read by the bank's documented
/// layout (ABN AMRO's TXT download, ASN Bank's transactie-historie).
enum BankCSV {
  /// Header names per field, most specific first (lower case).
  static let defaults: [(field: String, names: [String])] = [
    ("date", ["boekdatum", "boekingsdatum", "datum", "date", "transactiedatum", "booking date"]),
    ("amount", ["bedrag (eur)", "amount (eur)", "bedrag", "amount", "transactiebedrag"]),
    (
      "direction",
      [
        "af bij", "af/bij", "debit/credit", "creditdebet", "credit/debet", "debet/credit",
        "direction",
      ]
    ),
    (
      "name",
      [
        "naam tegenpartij", "tegenrekeninghouder", "naam / omschrijving", "name / description",
        "naam", "name", "tegenpartij", "counterparty name",
      ]
    ),
    (
      "iban",
      [
        "tegenrekening iban/bban", "tegenrekening", "tegenrekeningnummer", "counterparty",
        "iban tegenpartij", "iban",
      ]
    ),
    (
      "description",
      ["mededelingen", "notifications", "omschrijving", "description", "omschrijving-1"]
    ),
    ("reference", ["betalingskenmerk", "kenmerk", "reference"]),
    ("account", ["iban/bban", "rekening", "rekeningnummer", "account"]),
    ("currency", ["munt", "valuta", "valutacode", "currency"]),
    ("id", ["transactiereferentie", "referentie", "volgnr", "id"]),
  ]

  static func parse(_ text: String, file: String, columns: [String: String]) throws(Problems)
    -> StatementFile
  {
    let lines = StatementText.lines(text)
    func fail(_ line: Int, _ field: String?, _ message: String) -> Problems {
      Problems([
        Problem(file: file, line: line, field: field, message: message + "; nothing imported")
      ])
    }
    let content = lines.enumerated().filter {
      !$0.element.trimmed(of: " \t").isEmpty && !$0.element.hasPrefix("#")
    }
    guard let first = content.first else {
      throw fail(1, nil, "the file is empty")
    }
    if columns.isEmpty, isABNAMROTab(first.element) {
      return try abnAmroTab(content, file: file)
    }
    if columns.isEmpty, let r = try? records(text, delimiter: ",", quote: "'"), let f = r.first,
      isASN(f.fields)
    {
      return try asn(r, file: file)
    }
    // The header is the first line with a date and an amount column (Knab writes a line
    // `KNAB EXPORT` above it).
    let delimiter = detectDelimiter(first.element)
    let rows: [Record]
    do { rows = try records(text, delimiter: delimiter, quote: "\"") } catch {
      throw fail(error.line, nil, "a quote opened here is never closed")
    }
    var headerAt: Int? = nil
    var index: [String: Int] = [:]
    var descriptions: [Int] = []
    for (n, r) in rows.prefix(3).enumerated() {
      let names = r.fields.map { $0.trimmed(of: " \t").lowercased() }
      var found: [String: Int] = [:]
      for (field, candidates) in defaults {
        let wanted = columns[field].map { [$0.lowercased()] } ?? candidates
        for w in wanted {
          if let i = names.firstIndex(of: w), !found.values.contains(i) {
            found[field] = i
            break
          }
        }
      }
      if found["date"] != nil, found["amount"] != nil {
        headerAt = n
        index = found
        // Rabobank spreads the description over Omschrijving-1, -2 and -3.
        descriptions = names.indices.filter { names[$0].hasPrefix("omschrijving-") }
        if descriptions.isEmpty, let d = found["description"] { descriptions = [d] }
        if columns["description"] != nil, let d = found["description"] { descriptions = [d] }
        break
      }
    }
    guard let headerAt else {
      throw fail(
        rows.first?.line ?? 1, "header",
        "not a bank statement this version can read: no date and amount column found (name them in payments.columns)"
      )
    }
    let width = rows[headerAt].fields.count
    var transactions: [BankTransaction] = []
    for r in rows.dropFirst(headerAt + 1) {
      if r.fields.count == 1, r.fields[0].trimmed(of: " \t").isEmpty { continue }
      // Trailing empty fields (`…;"21-06-2019";`) are a habit of some exports, not extra data.
      var fields = r.fields
      while fields.count > width, fields.last?.trimmed(of: " \t").isEmpty == true {
        fields.removeLast()
      }
      guard fields.count == width else {
        throw fail(
          r.line, nil,
          "this row has \(fields.count) fields where the header has \(width) (a separator inside an unquoted value?)"
        )
      }
      func value(_ f: String) -> String? {
        guard let i = index[f] else { return nil }
        return StatementText.nonEmpty(fields[i])
      }
      guard let dateText = value("date"), let date = parseDate(dateText) else {
        throw fail(r.line, "date", "not a date: \"\(value("date") ?? "")\"")
      }
      guard let amountText = value("amount") else {
        throw fail(r.line, "amount", "no amount")
      }
      let signed: Int64
      do { signed = try amount(amountText) } catch {
        throw fail(r.line, "amount", "not an amount that can be read exactly: \"\(amountText)\"")
      }
      var credit = signed > 0
      if let dir = value("direction") {
        switch dir.lowercased() {
        case "bij", "c", "credit", "cr": credit = true
        case "af", "d", "debit", "debet", "dr": credit = false
        default: throw fail(r.line, "direction", "neither credit nor debit: \"\(dir)\"")
        }
        if signed < 0 { credit = !credit }
      }
      let account = value("account") ?? ""
      let currency = value("currency")?.uppercased() ?? "EUR"
      let amount = Money(cents: abs(signed), currency: currency)
      let text = StatementText.nonEmpty(
        descriptions.compactMap { StatementText.nonEmpty(fields[$0]) }.joined(separator: " "))
      let iban = value("iban")
      let key =
        value("id").map { "\(account)|\($0)" }
        ?? BankTransaction.contentKey(
          account: account, date: date, amount: amount, counterparty: iban ?? value("name"),
          text: (text ?? "") + (credit ? "|C" : "|D"))
      transactions.append(
        BankTransaction(
          key: key, account: account, bookingDate: date, amount: amount, isCredit: credit,
          debtorName: value("name"), debtorIBAN: StatementText.iban(iban) ?? iban,
          remittance: text, structuredReference: value("reference")))
    }
    return StatementFile(format: .csv, transactions: transactions)
  }

  /// A signed amount in cents: a decimal comma (`1250,00`, `-1.250,00` with thousands dots,
  /// `2500`), or a decimal point where it cannot be a thousands dot (`12.50`).
  static func amount(_ s: String) throws(StatementText.AmountError) -> Int64 {
    var body = Substring(s.trimmed(of: " "))
    var negative = false
    if body.first == "-" || body.first == "+" {
      negative = body.first == "-"
      body = body.dropFirst()
    }
    let v: Int64
    if body.contains(",") {
      let parts = body.split(separator: ",", omittingEmptySubsequences: false)
      guard parts.count == 2 else { throw .notANumber }
      let groups = parts[0].split(separator: ".", omittingEmptySubsequences: false)
      if groups.count > 1 {
        guard groups[0].count >= 1, groups[0].count <= 3,
          groups.dropFirst().allSatisfy({ $0.count == 3 })
        else { throw .notANumber }
      }
      v = try StatementText.cents(Substring(groups.joined() + "," + parts[1]), mark: ",")
    } else if let dot = body.firstIndex(of: ".") {
      // `1.250` may be a thousand or one and a quarter: refused rather than guessed.
      guard body[body.index(after: dot)...].count <= 2 else { throw .notANumber }
      v = try StatementText.cents(body, mark: ".")
    } else {
      v = try StatementText.cents(body, mark: ",")
    }
    return negative ? -v : v
  }

  static func parseDate(_ s: String) -> CalendarDate? {
    if let d = CalendarDate(parsing: s) { return d }
    let c = Array(s.utf8)
    if c.count == 8, c.allSatisfy({ (0x30...0x39).contains($0) }), let v = Int(s) {
      return CalendarDate(year: v / 10000, month: v / 100 % 100, day: v % 100)
    }
    // 21/06/2019 and 21.06.2019
    let parts = s.split(whereSeparator: { $0 == "/" || $0 == "." })
    if parts.count == 3, parts[2].count == 4, let d = Int(parts[0]), let m = Int(parts[1]),
      let y = Int(parts[2])
    {
      return CalendarDate(year: y, month: m, day: d)
    }
    return nil
  }

  static func detectDelimiter(_ line: Substring) -> Character {
    let counts: [(Character, Int)] = [";", ",", "\t"].map { d in (d, line.filter { $0 == d }.count)
    }
    return counts.max(by: { $0.1 < $1.1 })?.0 ?? ","
  }

  struct Record {
    var fields: [String]
    var line: Int
  }

  struct UnclosedQuote: Error {
    var line: Int
  }

  /// Fields of every record; a quote counts only at the start of a field, `""` inside it is
  /// one quote, and a quoted field may hold line breaks.
  static func records(_ text: String, delimiter: Character, quote: Character) throws(UnclosedQuote)
    -> [Record]
  {
    var out: [Record] = []
    var fields: [String] = []
    var field = ""
    var line = 1
    var recordLine = 1
    var quoted = false
    var quoteLine = 1
    var atFieldStart = true
    var chars = Array(text)
    if chars.first == "\u{FEFF}" { chars.removeFirst() }
    var i = 0
    func endRecord() {
      fields.append(field)
      out.append(Record(fields: fields, line: recordLine))
      fields = []
      field = ""
      atFieldStart = true
    }
    while i < chars.count {
      let c = chars[i]
      if quoted {
        if c == quote {
          if i + 1 < chars.count, chars[i + 1] == quote {
            field.append(quote)
            i += 2
            continue
          }
          let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
          if next == nil || next == delimiter || next == "\n" || next == "\r" || next == "\r\n" {
            quoted = false
            i += 1
            continue
          }
          field.append(c)  // a quote inside the text: `'t Hoen`
        } else {
          if c == "\n" || c == "\r\n" || c == "\r" { line += 1 }
          field.append(c)
        }
        i += 1
        continue
      }
      if c == delimiter {
        fields.append(field)
        field = ""
        atFieldStart = true
      } else if c == "\n" || c == "\r\n" || c == "\r" {
        endRecord()
        line += 1
        recordLine = line
      } else if c == quote && atFieldStart {
        quoted = true
        quoteLine = line
        atFieldStart = false
      } else {
        field.append(c)
        atFieldStart = false
      }
      i += 1
    }
    if quoted { throw UnclosedQuote(line: quoteLine) }
    if !field.isEmpty || !fields.isEmpty { endRecord() }
    return out
  }

  // MARK: ABN AMRO TXT download

  /// Eight tab-separated columns: account, currency, transactiedatum (YYYYMMDD, the booking
  /// date), balance before, balance after, rentedatum, amount (decimal comma, `-` for a
  /// debit), description.
  static func isABNAMROTab(_ line: Substring) -> Bool {
    let f = line.split(separator: "\t", omittingEmptySubsequences: false)
    return f.count == 8 && f[0].allSatisfy(\.isNumber) && f[1].count == 3
      && f[2].count == 8 && f[2].allSatisfy(\.isNumber)
  }

  static func abnAmroTab(_ lines: [(offset: Int, element: Substring)], file: String)
    throws(Problems)
    -> StatementFile
  {
    var transactions: [BankTransaction] = []
    for (n, line) in lines {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      func fail(_ field: String, _ message: String) -> Problems {
        Problems([
          Problem(file: file, line: n + 1, field: field, message: message + "; nothing imported")
        ])
      }
      guard f.count == 8 else {
        throw fail("line", "\(f.count) columns where ABN AMRO's layout has 8")
      }
      guard let date = parseDate(f[2]) else {
        throw fail("transactiedatum", "not a date: \"\(f[2])\"")
      }
      let signed: Int64
      do { signed = try amount(f[6]) } catch { throw fail("bedrag", "not an amount: \"\(f[6])\"") }
      let amount = Money(cents: abs(signed), currency: f[1].uppercased())
      let description = f[7].trimmed(of: " ")
      var name: String? = nil
      var iban: String? = nil
      var text: String? = StatementText.nonEmpty(description)
      if description.hasPrefix("/") {
        let info = MT940.Information([Substring(description)], entry: nil, bank: .other)
        (name, iban, text) = (info.name, info.iban, info.text)
      } else if description.range(of: "IBAN:", options: .caseInsensitive) != nil {
        let d = MT940.Information.labelled(description)
        name = StatementText.nonEmpty(d["NAAM"])
        iban = StatementText.iban(d["IBAN"])
        text = StatementText.nonEmpty(d["OMSCHRIJVING"]) ?? text
      }
      let key =
        BankTransaction.contentKey(
          account: f[0], date: date, amount: amount, counterparty: iban ?? name,
          text: description + "|" + f[3])
      transactions.append(
        BankTransaction(
          key: key, account: f[0], bookingDate: date, amount: amount, isCredit: signed > 0,
          debtorName: name, debtorIBAN: iban, remittance: text))
    }
    return StatementFile(format: .csv, transactions: transactions)
  }

  // MARK: ASN Bank transactie-historie

  /// Nineteen comma-separated columns without a header: 1 boekingsdatum (DD-MM-YYYY), 2 own
  /// IBAN, 3 counterparty IBAN, 4 its name, 8 account currency, 10 currency of the booking, 11
  /// amount (decimal point, `-` for a debit), 16 sequence number, 17 betalingskenmerk, 18
  /// description in single quotes.
  static func isASN(_ f: [String]) -> Bool {
    f.count == 19 && f[0].count == 10 && CalendarDate(parsing: f[0]) != nil
      && StatementText.iban(f[1]) != nil
  }

  static func asn(_ rows: [Record], file: String) throws(Problems) -> StatementFile {
    var transactions: [BankTransaction] = []
    for r in rows {
      if r.fields.count == 1, r.fields[0].trimmed(of: " ").isEmpty { continue }
      let f = r.fields
      func fail(_ field: String, _ message: String) -> Problems {
        Problems([
          Problem(file: file, line: r.line, field: field, message: message + "; nothing imported")
        ])
      }
      guard f.count == 19 else {
        throw fail("line", "\(f.count) columns where ASN Bank's layout has 19")
      }
      guard let date = CalendarDate(parsing: f[0]) else {
        throw fail("boekingsdatum", "not a date: \"\(f[0])\"")
      }
      let signed: Int64
      do {
        var s = Substring(f[10])
        let negative = s.first == "-"
        if negative || s.first == "+" { s = s.dropFirst() }
        let v = try StatementText.cents(s, mark: ".")
        signed = negative ? -v : v
      } catch {
        throw fail("bedrag", "not an amount: \"\(f[10])\"")
      }
      let amount = Money(cents: abs(signed), currency: f[9].uppercased())
      let key = "\(f[1])|\(f[11])|\(f[15])"
      transactions.append(
        BankTransaction(
          key: key, account: f[1], bookingDate: date, amount: amount, isCredit: signed > 0,
          debtorName: StatementText.nonEmpty(f[3]), debtorIBAN: StatementText.iban(f[2]),
          remittance: StatementText.nonEmpty(f[17]),
          structuredReference: StatementText.nonEmpty(f[16])))
    }
    return StatementFile(format: .csv, transactions: transactions)
  }
}
