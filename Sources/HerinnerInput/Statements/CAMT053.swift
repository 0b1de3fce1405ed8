import Foundation
import HerinnerCore

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// ISO 20022 camt.053 (`camt.053.001.02` per the Dutch banks' guideline, and .04 to .08):
/// `Document/BkToCstmrStmt/Stmt`, per entry `Ntry`, per transaction `NtryDtls/TxDtls`.
enum CAMT053 {
  static let namespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."

  struct Entry {
    var amount: String?
    var currency: String?
    var cd: String?
    var reversal = false
    var date: String?
    var ref: String?
    var info: [String] = []
    var txs: [Tx] = []
    var line = 0
  }

  struct Tx {
    var amount: String?
    var currency: String?
    var ref: String?
    var e2e: String?
    var name: String?
    var iban: String?
    var ustrd: [String] = []
    var sref: String?
    var info: [String] = []
  }

  final class Handler: NSObject, XMLParserDelegate {
    var path: [String] = []
    var text = ""
    var attributes: [String: String] = [:]
    var rootNamespace: String?
    var rootName: String?
    var closed = false
    var error: (line: Int, message: String)?
    var account = ""
    var transactions: [BankTransaction] = []
    var warnings: [(line: Int, message: String)] = []
    var entry: Entry? = nil
    var tx: Tx? = nil
    // The statement's balances, for the check that they add up.
    var balanceType: String?
    var balanceAmount: String?
    var balanceCD: String?
    var opening: Int64?
    var closing: Int64?
    var balanceReadable = true
    var entriesSum: Int64 = 0
    var stmtLine = 0
    weak var parser: XMLParser?

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      if path.isEmpty {
        rootName = name
        rootNamespace = namespaceURI
      }
      path.append(name)
      text = ""
      self.attributes = attributes
      switch name {
      case "Stmt":
        account = ""
        opening = nil
        closing = nil
        balanceReadable = true
        entriesSum = 0
        stmtLine = parser.lineNumber
      case "Ntry" where path.count >= 2 && path[path.count - 2] == "Stmt":
        entry = Entry(line: parser.lineNumber)
      case "TxDtls" where entry != nil: tx = Tx()
      case "Bal":
        balanceType = nil
        balanceAmount = nil
        balanceCD = nil
      default: break
      }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    /// The path below the nearest `element`, e.g. `RltdPties/Dbtr/Nm` below `TxDtls`.
    func below(_ element: String) -> String? {
      guard let i = path.lastIndex(of: element) else { return nil }
      return path[(i + 1)...].joined(separator: "/")
    }

    func parser(
      _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
    ) {
      let value = text.trimmed(of: " \t\r\n")
      defer {
        path.removeLast()
        text = ""
        if path.isEmpty { closed = true }
      }
      if var t = tx, let r = below("TxDtls") {
        switch r {
        case "": finishTx(t)
        case "Refs/AcctSvcrRef": t.ref = value
        case "Refs/EndToEndId": t.e2e = value == "NOTPROVIDED" ? nil : value
        case "Amt", "AmtDtls/TxAmt/Amt":
          if t.amount == nil {
            t.amount = value
            t.currency = attributes["Ccy"]
          }
        case "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm": t.name = value
        case "RltdPties/DbtrAcct/Id/IBAN": t.iban = value
        case "RmtInf/Ustrd": t.ustrd.append(value)
        case "RmtInf/Strd/CdtrRefInf/Ref": t.sref = value
        case "AddtlTxInf": t.info.append(value)
        default: break
        }
        if r != "" { tx = t }
        return
      }
      if var e = entry, let r = below("Ntry") {
        switch r {
        case "": finishEntry(e)
        case "Amt":
          e.amount = value
          e.currency = attributes["Ccy"]
        case "CdtDbtInd": e.cd = value
        case "RvslInd": e.reversal = value == "true" || value == "1"
        case "BookgDt/Dt", "BookgDt/DtTm": e.date = String(value.prefix(10))
        case "AcctSvcrRef": e.ref = value
        case "AddtlNtryInf": e.info.append(value)
        default: break
        }
        if r != "" { entry = e }
        return
      }
      guard let r = below("Stmt") else { return }
      switch r {
      case "Acct/Id/IBAN", "Acct/Id/Othr/Id": account = value
      case "Bal/Tp/CdOrPrtry/Cd": balanceType = value
      case "Bal/Amt": balanceAmount = value
      case "Bal/CdtDbtInd": balanceCD = value
      case "Bal":
        guard balanceType == "OPBD" || balanceType == "PRCD" || balanceType == "CLBD" else { break }
        guard let a = balanceAmount,
          let cents = try? StatementText.cents(Substring(a), mark: "."),
          balanceCD == "CRDT" || balanceCD == "DBIT"
        else {
          // Five decimals (allowed by xs:decimal, used for some currencies): no check.
          balanceReadable = false
          break
        }
        let signed = balanceCD == "DBIT" ? -cents : cents
        if balanceType == "CLBD" { closing = signed } else if opening == nil { opening = signed }
      case "":
        if balanceReadable, let o = opening, let c = closing, o &+ entriesSum != c {
          warnings.append(
            (
              stmtLine,
              "account \(account): the opening balance and the entries do not add up to the closing balance; read as it is"
            ))
        }
      default: break
      }
    }

    func finishTx(_ t: Tx) {
      entry?.txs.append(t)
      tx = nil
    }

    func fail(_ line: Int, _ message: String) {
      if error == nil { error = (line, message) }
    }

    func finishEntry(_ e: Entry) {
      entry = nil
      guard let dateText = e.date, let date = CalendarDate(parsing: dateText) else {
        return fail(e.line, "an entry without a valid booking date (BookgDt)")
      }
      guard let cd = e.cd, cd == "CRDT" || cd == "DBIT" else {
        return fail(e.line, "an entry without the credit/debit mark CdtDbtInd (CRDT or DBIT)")
      }
      guard let currency = e.currency, currency.count == 3 else {
        return fail(e.line, "an entry without the currency of its amount (Amt Ccy)")
      }
      func cents(_ s: String?) -> Int64? {
        guard let s else { return nil }
        do { return try StatementText.cents(Substring(s), mark: ".") } catch {
          fail(
            e.line,
            error == .tooPrecise
              ? "an amount (\(s)) with more decimals than cents can hold"
              : "an entry with an amount that is not a number: \"\(s)\"")
          return nil
        }
      }
      guard let total = cents(e.amount) else {
        if error == nil { fail(e.line, "an entry without an amount") }
        return
      }
      entriesSum &+= cd == "CRDT" ? total : -total
      // One transaction: the entry's amount is the booking (a transaction's own Amt may be a
      // currency detail). A batch: each transaction is a payment of its own, and together
      // they must make the entry, or the file is refused rather than half understood.
      var parts: [(Tx, Int64)] = []
      if e.txs.count <= 1 {
        parts = [(e.txs.first ?? Tx(), total)]
      } else {
        for t in e.txs {
          guard let c = cents(t.amount), (t.currency ?? currency) == currency else {
            return fail(e.line, "a batch entry whose transactions have no amount in \(currency)")
          }
          parts.append((t, c))
        }
        guard parts.reduce(Int64(0), { $0 &+ $1.1 }) == total else {
          return fail(
            e.line, "a batch entry whose transactions do not add up to the entry's amount")
        }
      }
      for (t, c) in parts {
        let amount = Money(cents: c, currency: currency)
        let text = StatementText.nonEmpty(t.ustrd.joined(separator: " "))
        // A batch's transactions may all carry the entry's reference: then the amount and the
        // occurrence (`StatementFile.distinctKeys`) tell them apart.
        let key =
          t.ref.map { "\(account)|\($0)" }
          ?? e.ref.map { "\(account)|\($0)" + (e.txs.count > 1 ? "|\(c)" : "") }
          ?? BankTransaction.contentKey(
            account: account, date: date, amount: amount, counterparty: t.iban ?? t.name,
            text: text ?? t.sref)
        transactions.append(
          BankTransaction(
            key: key, account: account, bookingDate: date, amount: amount, isCredit: cd == "CRDT",
            isReversal: e.reversal, debtorName: StatementText.nonEmpty(t.name),
            debtorIBAN: StatementText.iban(t.iban) ?? StatementText.nonEmpty(t.iban),
            remittance: text ?? StatementText.nonEmpty((t.info + e.info).joined(separator: " ")),
            structuredReference: StatementText.nonEmpty(t.sref), endToEndID: t.e2e))
      }
    }
  }

  static func parse(_ bytes: [UInt8], file: String) throws(Problems) -> StatementFile {
    // ISO 20022 messages are UTF-8. Other bytes are refused here: FoundationXML traps on an
    // element name that is not valid UTF-8 instead of reporting it.
    guard String(validating: bytes, as: UTF8.self) != nil else {
      let line = StatementText.firstInvalidUTF8Line(bytes)
      throw Problems([
        Problem(
          file: file, line: line,
          message:
            "the file is not valid UTF-8 (a damaged download, or not a camt.053 statement); nothing imported"
        )
      ])
    }
    // FoundationXML crashes (a NULL read) on a processing instruction without data, `<?x?>`
    // (XML 1.0 §2.6 allows it): refuse such a file before the parser sees it.
    if let line = emptyProcessingInstructionLine(bytes) {
      throw Problems([
        Problem(
          file: file, line: line,
          message:
            "the XML holds an empty processing instruction (<?…?>): the file is damaged or not a camt.053 statement; nothing imported"
        )
      ])
    }
    let parser = XMLParser(data: Data(bytes))
    let handler = Handler()
    parser.delegate = handler
    parser.shouldProcessNamespaces = true
    let ok = parser.parse()
    if !ok || !handler.closed {
      // The parser's own error text is a library dump; say what it means.
      throw Problems([
        Problem(
          file: file, line: parser.lineNumber,
          message:
            "the XML is broken or ends early (column \(parser.columnNumber)): the file is incomplete or damaged, download it again; nothing imported"
        )
      ])
    }
    guard handler.rootName == "Document",
      handler.rootNamespace?.hasPrefix(namespacePrefix) == true
    else {
      throw Problems([
        Problem(
          file: file, line: 1,
          message:
            "not a camt.053 statement (expected a Document in the \(namespacePrefix)* namespace); nothing imported"
        )
      ])
    }
    if let e = handler.error {
      throw Problems([Problem(file: file, line: e.line, message: "\(e.message); nothing imported")])
    }
    return StatementFile(
      format: .camt053, transactions: handler.transactions,
      warnings: handler.warnings.map { Problem(file: file, line: $0.line, message: $0.message) })
  }

  /// The line of the first `<?target?>` (a processing instruction with nothing after its
  /// target), outside comments and CDATA sections; nil when there is none.
  static func emptyProcessingInstructionLine(_ bytes: [UInt8]) -> Int? {
    func at(_ i: Int, _ s: String) -> Bool { bytes[i...].starts(with: s.utf8) }
    func skip(to end: String, from i: Int) -> Int {
      var j = i
      while j < bytes.count && !at(j, end) { j += 1 }
      return j + end.utf8.count
    }
    var line = 1
    var i = 0
    while i < bytes.count {
      switch bytes[i] {
      case 0x0A:
        line += 1
        i += 1
      case UInt8(ascii: "<") where at(i, "<!--"), UInt8(ascii: "<") where at(i, "<![CDATA["):
        let end = skip(to: at(i, "<!--") ? "-->" : "]]>", from: i)
        line += bytes[i..<min(end, bytes.count)].lazy.filter { $0 == 0x0A }.count
        i = end
      case UInt8(ascii: "<") where at(i, "<?"):
        var j = i + 2
        while j < bytes.count, !" \t\r\n?>".utf8.contains(bytes[j]) { j += 1 }
        if j > i + 2 && at(j, "?>") { return line }
        i = j
      default:
        i += 1
      }
    }
    return nil
  }
}
