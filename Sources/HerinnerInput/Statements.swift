import Foundation
import HerinnerCore

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A bank statement file, parsed whole (a file that fails anywhere imports nothing).
public struct StatementFile: Sendable {
  public enum Format: String, Sendable {
    case camt053 = "CAMT.053"
    case mt940 = "MT940"
    case csv = "CSV"
  }
  public var format: Format
  public var transactions: [BankTransaction]
  /// The statement's own date: its latest booking date.
  public var latestBooking: CalendarDate?

  /// Recognises the format by content, not by file name, and parses it.
  public static func parse(bytes: [UInt8], file: String, csvColumns: [String: String] = [:])
    throws(Problems) -> StatementFile
  {
    var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
    let head = String(decoding: bytes[start..<min(bytes.count, start + 4096)], as: UTF8.self)
    if head.hasPrefix("<") {
      return try CAMT053.parse(bytes, file: file)
    }
    if head.contains(":20:") && (head.contains(":25:") || head.contains(":60F:"))
      || head.hasPrefix("{1:")
    {
      return try MT940.parse(String(decoding: bytes, as: UTF8.self), file: file)
    }
    return try BankCSV.parse(bytes, file: file, columns: csvColumns)
  }
}

/// ISO 20022 camt.053 (`camt.053.001.02` and later): `Document/BkToCstmrStmt/Stmt`.
enum CAMT053 {
  final class Handler: NSObject, XMLParserDelegate {
    var path: [String] = []
    var text = ""
    var attributes: [String: String] = [:]
    var namespaceOK = false
    var sawDocument = false
    var closed = false
    var error: String?
    var account = ""
    var transactions: [BankTransaction] = []
    // Current entry.
    var entry: [String: String] = [:]
    var entryCurrency = "EUR"
    var txs: [[String: String]] = []
    var tx: [String: String]? = nil
    var txCurrency: String?

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      let local = name.split(separator: ":").last.map(String.init) ?? name
      if path.isEmpty {
        sawDocument = local == "Document"
        let ns = attributes["xmlns"] ?? namespaceURI ?? ""
        namespaceOK = ns.hasPrefix("urn:iso:std:iso:20022:tech:xsd:camt.053.001.")
      }
      path.append(local)
      text = ""
      self.attributes = attributes
      if local == "Ntry" {
        entry = [:]
        txs = []
        entryCurrency = "EUR"
      }
      if local == "TxDtls" {
        tx = [:]
        txCurrency = nil
      }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(
      _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
    ) {
      let p = path.joined(separator: "/")
      let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
      defer {
        path.removeLast()
        text = ""
        if path.isEmpty { closed = true }
      }
      if p.hasSuffix("Stmt/Acct/Id/IBAN") { account = value }
      guard let ntry = path.firstIndex(of: "Ntry") else { return }
      let rel = path[(ntry + 1)...].joined(separator: "/")
      if var t = tx, let txi = path.firstIndex(of: "TxDtls") {
        let r = path[(txi + 1)...].joined(separator: "/")
        switch r {
        case "Refs/AcctSvcrRef": t["ref"] = value
        case "Refs/EndToEndId": t["e2e"] = value
        case "Amt", "AmtDtls/TxAmt/Amt":
          if t["amount"] == nil {
            t["amount"] = value
            txCurrency = attributes["Ccy"]
          }
        case "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm": t["name"] = value
        case "RltdPties/DbtrAcct/Id/IBAN": t["iban"] = value
        case "RmtInf/Ustrd": t["text"] = (t["text"].map { $0 + " " } ?? "") + value
        case "RmtInf/Strd/CdtrRefInf/Ref": t["sref"] = value
        default: break
        }
        if let c = txCurrency { t["ccy"] = c }
        tx = t
        if rel == "NtryDtls/TxDtls" {
          txs.append(t)
          tx = nil
        }
        return
      }
      switch rel {
      case "Amt":
        entry["amount"] = value
        entryCurrency = attributes["Ccy"] ?? "EUR"
      case "CdtDbtInd": entry["cd"] = value
      case "RvslInd": entry["reversal"] = value
      case "BookgDt/Dt": entry["date"] = value
      case "BookgDt/DtTm": entry["date"] = String(value.prefix(10))
      case "AcctSvcrRef": entry["ref"] = value
      case "":
        finishEntry()
      default: break
      }
    }

    func finishEntry() {
      guard let date = entry["date"].flatMap(CalendarDate.init(parsing:)) else {
        error = "an entry without a valid booking date (BookgDt/Dt)"
        return
      }
      guard let cd = entry["cd"], cd == "CRDT" || cd == "DBIT" else {
        error = "an entry without CdtDbtInd CRDT or DBIT"
        return
      }
      let reversal = entry["reversal"] == "true"
      let details = txs.isEmpty ? [[String: String]()] : txs
      for (i, t) in details.enumerated() {
        let amountText = (details.count > 1 ? t["amount"] : nil) ?? entry["amount"] ?? ""
        let ccy = (details.count > 1 ? t["ccy"] : nil) ?? entryCurrency
        guard let amount = try? Money.parse(amountText, currency: ccy), amount.cents >= 0 else {
          error = "an entry with a bad amount \"\(amountText)\""
          return
        }
        let ref = t["ref"] ?? entry["ref"].map { details.count > 1 ? "\($0)#\(i)" : $0 }
        let key =
          ref.map { "\(account)|\($0)" }
          ?? BankTransaction.contentKey(
            account: account, date: date, amount: amount, counterparty: t["iban"] ?? t["name"],
            text: t["text"] ?? t["sref"])
        transactions.append(
          BankTransaction(
            key: key, account: account, bookingDate: date, amount: amount, isCredit: cd == "CRDT",
            isReversal: reversal,
            debtorName: t["name"], debtorIBAN: t["iban"], remittance: t["text"],
            structuredReference: t["sref"]))
      }
    }
  }

  static func parse(_ bytes: [UInt8], file: String) throws(Problems) -> StatementFile {
    let parser = XMLParser(data: Data(bytes))
    let handler = Handler()
    parser.delegate = handler
    parser.shouldProcessNamespaces = false
    let ok = parser.parse()
    if !ok || !handler.closed {
      throw Problems([
        Problem(
          file: file, line: parser.lineNumber,
          message:
            "not well-formed XML (truncated?): \(parser.parserError.map { "\($0)" } ?? "parse error"); nothing imported"
        )
      ])
    }
    guard handler.sawDocument, handler.namespaceOK else {
      throw Problems([
        Problem(
          file: file, line: 1,
          message:
            "not a camt.053 statement (expected a Document in the urn:iso:std:iso:20022:tech:xsd:camt.053.001.* namespace); nothing imported"
        )
      ])
    }
    if let e = handler.error {
      throw Problems([
        Problem(file: file, line: parser.lineNumber, message: "\(e); nothing imported")
      ])
    }
    return StatementFile(
      format: .camt053, transactions: handler.transactions,
      latestBooking: handler.transactions.map(\.bookingDate).max())
  }
}

/// SWIFT MT940 with the structured `:86:` field of the Dutch banks (`/NAME/…/REMI/…/IBAN/…`).
enum MT940 {
  static func parse(_ text: String, file: String) throws(Problems) -> StatementFile {
    // Join continuation lines to their tag.
    var fields: [(tag: String, value: String, line: Int)] = []
    for (i, raw) in text.replacingOccurrences(of: "\r\n", with: "\n").split(
      separator: "\n", omittingEmptySubsequences: false
    ).enumerated() {
      let line = String(raw)
      if line.hasPrefix(":"), let close = line.dropFirst().firstIndex(of: ":") {
        fields.append(
          (
            String(line[line.index(after: line.startIndex)..<close]),
            String(line[line.index(after: close)...]), i + 1
          ))
      } else if !fields.isEmpty, !line.hasPrefix("-}"), !line.hasPrefix("{") {
        fields[fields.count - 1].value += "\n" + line
      }
    }
    guard fields.contains(where: { $0.tag == "20" }) else {
      throw Problems([
        Problem(
          file: file, line: 1, message: "not an MT940 statement (no :20: field); nothing imported")
      ])
    }
    var account = ""
    var transactions: [BankTransaction] = []
    var pending:
      (date: CalendarDate, amount: Money, credit: Bool, reversal: Bool, ref: String?, line: Int)? =
        nil
    func flush(_ info: String?) {
      guard let p = pending else { return }
      let d = structured(info ?? "")
      let name = d["NAME"] ?? d["ORDP//NAME"]
      let iban = d["IBAN"] ?? d["CNTP"].map { String($0.split(separator: "/").first ?? "") }
      var remittance = d["REMI"].map {
        $0.replacingOccurrences(of: "USTD//", with: "").replacingOccurrences(
          of: "STRD/CUR/", with: "")
      }
      if d.isEmpty, let info { remittance = info.replacingOccurrences(of: "\n", with: "") }
      let sref = d["REMI"].flatMap { $0.hasPrefix("STRD/CUR/") ? String($0.dropFirst(9)) : nil }
      let key =
        p.ref.flatMap {
          $0.isEmpty || $0 == "NONREF" ? nil : "\(account)|\($0)|\(p.date.iso)|\(p.amount.cents)"
        }
        ?? BankTransaction.contentKey(
          account: account, date: p.date, amount: p.amount, counterparty: iban ?? name,
          text: remittance)
      transactions.append(
        BankTransaction(
          key: key, account: account, bookingDate: p.date, amount: p.amount, isCredit: p.credit,
          isReversal: p.reversal,
          debtorName: name, debtorIBAN: iban, remittance: remittance, structuredReference: sref))
      pending = nil
    }
    for f in fields {
      switch f.tag {
      case "25":
        account = String(f.value.split(separator: "\n").first ?? "").trimmingCharacters(
          in: .whitespaces)
        if let space = account.firstIndex(of: " ") { account = String(account[..<space]) }
      case "61":
        flush(nil)
        guard let parsed = statementLine(f.value) else {
          throw Problems([
            Problem(
              file: file, line: f.line, field: ":61:",
              message: "bad statement line \"\(f.value.prefix(40))\"; nothing imported")
          ])
        }
        pending = (parsed.date, parsed.amount, parsed.credit, parsed.reversal, parsed.ref, f.line)
      case "86":
        flush(f.value)
      default: break
      }
    }
    flush(nil)
    return StatementFile(
      format: .mt940, transactions: transactions,
      latestBooking: transactions.map(\.bookingDate).max())
  }

  /// `:61:YYMMDD[MMDD](C|D|RC|RD)[funds code]amount N... [//bank ref]`.
  static func statementLine(_ value: String) -> (
    date: CalendarDate, amount: Money, credit: Bool, reversal: Bool, ref: String?
  )? {
    let v = Array(value.split(separator: "\n").first ?? "")
    guard v.count > 8, let yy = Int(String(v[0..<2])), let mm = Int(String(v[2..<4])),
      let dd = Int(String(v[4..<6])),
      let date = CalendarDate(year: 2000 + yy, month: mm, day: dd)
    else { return nil }
    var i = 6
    if i + 4 <= v.count, v[i..<i + 4].allSatisfy(\.isNumber) { i += 4 }  // entry date
    var reversal = false
    if v[i] == "R" {
      reversal = true
      i += 1
    }
    guard i < v.count, v[i] == "C" || v[i] == "D" else { return nil }
    let credit = v[i] == "C"
    i += 1
    if i < v.count, v[i].isLetter { i += 1 }  // funds code
    var amountText = ""
    while i < v.count, v[i].isNumber || v[i] == "," {
      amountText.append(v[i])
      i += 1
    }
    if amountText.hasSuffix(",") { amountText += "00" }
    guard let amount = try? Money.parse(amountText) else { return nil }
    let rest = String(v[i...])
    let ref = rest.components(separatedBy: "//").dropFirst().first
    return (date, amount, credit, reversal, ref)
  }

  /// `/TRTP/SEPA OVERBOEKING/IBAN/NL…/NAME/J. Jansen/REMI/USTD//Factuur 2026-0101/` → keys.
  static func structured(_ info: String) -> [String: String] {
    let s = info.replacingOccurrences(of: "\n", with: "")
    guard s.hasPrefix("/") else { return [:] }
    let keys = [
      "TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "CNTP", "MARF", "CSID", "ISDT", "RTRN",
      "PURP", "ULTC", "ULTD", "BENM", "ADDR",
    ]
    var out: [String: String] = [:]
    var current: String? = nil
    var value = ""
    var i = s.startIndex
    while i < s.endIndex {
      var matched: String? = nil
      if s[i] == "/" {
        for k in keys where s[s.index(after: i)...].hasPrefix(k + "/") {
          matched = k
          break
        }
      }
      if let k = matched {
        if let c = current {
          out[c] = value.trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
        }
        current = k
        value = ""
        i = s.index(i, offsetBy: k.count + 2)
        continue
      }
      value.append(s[i])
      i = s.index(after: i)
    }
    if let c = current { out[c] = value.trimmingCharacters(in: CharacterSet(charactersIn: "/ ")) }
    return out
  }
}

/// A bank's CSV export with a column mapping (`payments.columns`): date, amount, name, iban,
/// description, reference, and optionally direction (`Af`/`Bij`, `D`/`C`) and account.
enum BankCSV {
  static let defaults: [String: [String]] = [
    "date": ["date", "datum", "boekdatum", "transactiedatum"],
    "amount": ["amount", "bedrag", "bedrag (eur)"],
    "name": ["name", "naam", "naam / omschrijving", "naam tegenpartij", "tegenpartij"],
    "iban": ["iban", "tegenrekening", "tegenrekening iban/bban", "counterparty"],
    "description": ["description", "omschrijving", "mededelingen", "omschrijving-1"],
    "reference": ["reference", "betalingskenmerk", "kenmerk"],
    "direction": ["direction", "af bij", "af/bij", "debet/credit"],
    "account": ["account", "rekening", "iban/bban"],
    "id": ["id", "transactiereferentie", "volgnr"],
  ]

  static func parse(_ bytes: [UInt8], file: String, columns: [String: String]) throws(Problems)
    -> StatementFile
  {
    var reader = CSVReader(bytes: bytes)
    guard let header = reader.next() else {
      throw Problems([Problem(file: file, line: 1, message: "empty file; nothing imported")])
    }
    let names = header.fields.map {
      String(decoding: $0, as: UTF8.self).trimmingSpaces.lowercased()
    }
    var index: [String: Int] = [:]
    for (field, candidates) in defaults {
      let wanted = columns[field].map { [$0.lowercased()] } ?? candidates
      if let i = names.firstIndex(where: { wanted.contains($0) }) { index[field] = i }
    }
    for required in ["date", "amount"] where index[required] == nil {
      throw Problems([
        Problem(
          file: file, line: header.line, field: required,
          message:
            "not a bank statement: no \(required) column (map it in payments.columns); nothing imported"
        )
      ])
    }
    var transactions: [BankTransaction] = []
    while let rec = reader.next() {
      func value(_ f: String) -> String? {
        guard let i = index[f], i < rec.fields.count else { return nil }
        let s = String(decoding: rec.fields[i], as: UTF8.self).trimmingSpaces
        return s.isEmpty ? nil : s
      }
      guard let dateText = value("date"),
        let date = CalendarDate(parsing: dateText) ?? compactDate(dateText)
      else {
        throw Problems([
          Problem(
            file: file, line: rec.line, field: "date",
            message: "not a date: \"\(value("date") ?? "")\"; nothing imported")
        ])
      }
      guard let amountText = value("amount"), let amount = try? Money.parse(amountText) else {
        throw Problems([
          Problem(
            file: file, line: rec.line, field: "amount",
            message: "not an amount: \"\(value("amount") ?? "")\"; nothing imported")
        ])
      }
      var credit = amount.cents > 0
      if let dir = value("direction")?.lowercased() {
        credit = dir == "bij" || dir == "c" || dir == "credit" || dir == "cr"
      }
      let positive = Money(cents: abs(amount.cents))
      let account = value("account") ?? ""
      let key =
        value("id").map { "\(account)|\($0)" }
        ?? BankTransaction.contentKey(
          account: account, date: date, amount: positive,
          counterparty: value("iban") ?? value("name"), text: value("description"))
      transactions.append(
        BankTransaction(
          key: key, account: account, bookingDate: date, amount: positive, isCredit: credit,
          debtorName: value("name"),
          debtorIBAN: value("iban"), remittance: value("description"),
          structuredReference: value("reference")))
    }
    return StatementFile(
      format: .csv, transactions: transactions, latestBooking: transactions.map(\.bookingDate).max()
    )
  }

  /// `20261201`.
  static func compactDate(_ s: String) -> CalendarDate? {
    guard s.count == 8, let v = Int(s) else { return nil }
    return CalendarDate(year: v / 10000, month: v / 100 % 100, day: v % 100)
  }
}
