import HerinnerCore
import Testing

@testable import HerinnerInput

/// camt.053 features, in small documents of our own making.
func camt(
  _ entries: String, version: String = "02", prefix: String = "",
  balances: String = ""
) -> String {
  let p = prefix.isEmpty ? "" : prefix + ":"
  let ns = prefix.isEmpty ? "xmlns" : "xmlns:" + prefix
  let body = """
    <Document \(ns)="urn:iso:std:iso:20022:tech:xsd:camt.053.001.\(version)"><BkToCstmrStmt><Stmt>
    <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>\(balances)\(entries)</Stmt></BkToCstmrStmt></Document>
    """
  guard !p.isEmpty else { return "<?xml version=\"1.0\"?>\n" + body }
  // Every element in the prefixed namespace: the same document.
  var out = ""
  var i = body.startIndex
  while i < body.endIndex {
    let c = body[i]
    out.append(c)
    if c == "<" {
      let next = body.index(after: i)
      if next < body.endIndex, body[next] == "/" {
        out.append("/")
        out += p
        i = body.index(after: next)
        continue
      }
      out += p
    }
    i = body.index(after: i)
  }
  return "<?xml version=\"1.0\"?>\n" + out
}

func entry(
  _ amount: String, cd: String = "CRDT", date: String = "<Dt>2026-12-01</Dt>",
  extra: String = "", details: String = ""
) -> String {
  "<Ntry><Amt Ccy=\"EUR\">\(amount)</Amt><CdtDbtInd>\(cd)</CdtDbtInd>\(extra)<BookgDt>\(date)</BookgDt><ValDt><Dt>2026-12-03</Dt></ValDt>"
    + (details.isEmpty ? "" : "<NtryDtls>\(details)</NtryDtls>") + "</Ntry>"
}

func tx(_ inner: String) -> String { "<TxDtls>\(inner)</TxDtls>" }

@Suite struct StatementCAMTTests {
  @Test(arguments: [
    ("8.850", 885 as Int64), ("905.3", 90_530), ("000000000001405.31", 140_531), ("12", 1_200),
    ("8.85000", 885),
  ])
  func amountsAreXSDecimalsReadExactly(_ text: String, _ cents: Int64) throws {
    let s = try parsed(camt(entry(text)), file: "c.xml")
    #expect(s.transactions.first?.amount.cents == cents)
  }

  @Test(arguments: ["8.855", "1.250,00", "12x0.00", "-5.00"])
  func anAmountThatCannotBeReadExactlyRefusesTheFile(_ text: String) {
    #expect(throws: Problems.self) { try parsed(camt(entry(text)), file: "c.xml") }
  }

  @Test(arguments: [
    "<Dt>2026-12-01</Dt>", "<Dt>2026-12-01+02:00</Dt>", "<DtTm>2026-12-01T13:15:00+01:00</DtTm>",
  ])
  func theBookingDateNeverTheValueDate(_ date: String) throws {
    let s = try parsed(camt(entry("1.00", date: date)), file: "c.xml")
    #expect(s.transactions.first?.bookingDate.iso == "2026-12-01")
  }

  @Test(arguments: ["02", "04", "08"])
  func aPrefixedNamespaceIsTheSameDocument(_ version: String) throws {
    let d = tx(
      "<RltdPties><Dbtr><Pty><Nm>J. Jansen</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>factuur 2026-0102</Ustrd></RmtInf>"
    )
    for prefix in ["", "ns2"] {
      let s = try parsed(
        camt(entry("89.95", details: d), version: version, prefix: prefix), file: "c.xml")
      let c = try #require(credits(s).first)
      #expect(c.debtorName == "J. Jansen" && c.debtorIBAN == "NL20INGB0001234567")
      #expect(c.remittance == "factuur 2026-0102")
    }
  }

  @Test func batchTransactionsSharingTheEntryReferenceAreEachAPayment() throws {
    let shared = "<Refs><AcctSvcrRef>BATCH-1</AcctSvcrRef></Refs>"
    let d =
      tx(shared + "<Amt Ccy=\"EUR\">21.87</Amt><RltdPties><Dbtr><Nm>A</Nm></Dbtr></RltdPties>")
      + tx(shared + "<Amt Ccy=\"EUR\">12.96</Amt><RltdPties><Dbtr><Nm>B</Nm></Dbtr></RltdPties>")
    let s = try parsed(
      camt(entry("34.83", extra: "<AcctSvcrRef>BATCH-1</AcctSvcrRef>", details: d)), file: "c.xml")
    #expect(credits(s).map(\.amount.cents) == [2_187, 1_296])
    #expect(credits(s).map(\.debtorName) == ["A", "B"])
    #expect(Set(s.transactions.map(\.key)).count == 2)
    // Parts that do not make the entry: refused, not half understood.
    #expect(throws: Problems.self) {
      try parsed(camt(entry("40.00", details: d)), file: "c.xml")
    }
  }

  @Test func aSingleTransactionsOwnAmountIsADetailTheEntryIsTheBooking() throws {
    let d = tx("<Amt Ccy=\"SEK\">0</Amt><RmtInf><Ustrd>x</Ustrd></RmtInf>")
    let s = try parsed(camt(entry("8.85", details: d)), file: "c.xml")
    #expect(s.transactions.first?.amount == Money(cents: 885, currency: "EUR"))
  }

  @Test func additionalEntryInformationWhenThereIsNoRemittanceText() throws {
    let s = try parsed(
      camt(entry("3.68", extra: "<AddtlNtryInf>Storting contant</AddtlNtryInf>")), file: "c.xml")
    #expect(s.transactions.first?.remittance == "Storting contant")
  }

  @Test func aReversedCreditIsADebitThatUndoesIt() throws {
    let d = tx("<Refs><EndToEndId>E2E-9</EndToEndId></Refs>")
    let s = try parsed(
      camt(entry("12.50", cd: "DBIT", extra: "<RvslInd>true</RvslInd>", details: d)),
      file: "c.xml")
    let t = try #require(s.transactions.first)
    #expect(t.undoesACredit && !t.isIncomingPayment && t.endToEndID == "E2E-9")
  }

  @Test func balancesThatDoNotAddUpAreAWarning() throws {
    func bal(_ code: String, _ amount: String) -> String {
      "<Bal><Tp><CdOrPrtry><Cd>\(code)</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">\(amount)</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>"
    }
    let ok = try parsed(
      camt(entry("5.00"), balances: bal("OPBD", "10.00") + bal("CLBD", "15.00")), file: "c.xml")
    #expect(ok.warnings.isEmpty)
    let off = try parsed(
      camt(entry("5.00"), balances: bal("OPBD", "10.00") + bal("CLBD", "16.00")), file: "c.xml")
    #expect(off.warnings.count == 1 && credits(off).count == 1)
    // A balance in five decimals is no reason to refuse the statement.
    let fine = try parsed(camt("", balances: bal("OPBD", "10.00001")), file: "c.xml")
    #expect(fine.transactions.isEmpty && fine.warnings.isEmpty)
  }

  @Test func aTruncatedDocumentIsRefusedInPlainWords() {
    let whole = camt(entry("5.00"))
    for cut in [whole.count / 2, whole.count - 12] {
      #expect {
        try parsed(String(whole.prefix(cut)), file: "c.xml")
      } throws: { e in
        let text = "\(e)"
        return text.contains("ends early") && !text.contains("NSXMLParserErrorDomain")
          && !text.contains("Error Domain")
      }
    }
  }

  /// FoundationXML traps on an element name that is not UTF-8: such a file is refused first.
  @Test func bytesThatAreNotUTF8AreRefusedNotATrap() {
    var bytes = Array(camt(entry("5.00")).utf8)
    let at = bytes.firstIndex(of: UInt8(ascii: "B"))!
    bytes[at] = 0xFF
    #expect {
      try StatementFile.parse(bytes: bytes, file: "c.xml")
    } throws: { e in
      "\(e)".contains("not valid UTF-8") && "\(e)".contains("nothing imported")
    }
  }
}
