import HerinnerCore
import Testing

@testable import HerinnerInput

/// Each bank's MT940 dialect, in small statements of our own making.
func mt940(_ body: String, header: String = "", opening: String = "C261130EUR1000,00") -> String {
  header + ":20:STMT1\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:\(opening)\n" + body
    + ":62F:C261201EUR0,00\n-\n"
}

func parsed(_ text: String, file: String = "s.sta") throws -> StatementFile {
  try StatementFile.parse(bytes: Array(text.utf8), file: file)
}

func credits(_ s: StatementFile) -> [BankTransaction] { s.transactions.filter(\.isIncomingPayment) }

@Suite struct StatementMT940Tests {
  struct Case: Sendable, CustomTestStringConvertible {
    var bank: String
    var file: String
    var name: String?
    var iban: String?
    var text: String?
    var reference: String? = nil
    var testDescription: String { bank }
  }

  static let dialects: [Case] = [
    Case(
      bank: "ING structured, wrapped mid-token",
      file: mt940(
        """
        :61:2612011201C20,00NTRFNONREF//12345678901234
        /TRCD/00100/
        :86:/EREF/E2E-7//CNTP/NL20INGB0001234567/INGBNL2A/BAKKERIJ DE K
        ORST///REMI/USTD//Factuur 2026-01
        01 en 2026-0102/

        """),
      name: "BAKKERIJ DE KORST", iban: "NL20INGB0001234567",
      text: "Factuur 2026-0101 en 2026-0102"),
    Case(
      bank: "ING structured reference only",
      file: mt940(
        """
        :61:2612011201C20,00NTRFNONREF//12345678901235
        :86:/CNTP/NL20INGB0001234567/INGBNL2A/J. Jansen///REMI/STRD/CUR/8000000020260113/

        """),
      name: "J. Jansen", iban: "NL20INGB0001234567", text: nil, reference: "8000000020260113"),
    Case(
      bank: "Rabobank: counter account on the :61: second line, the REMI tag broken",
      file: mt940(
        """
        :61:261201C000000000150,00N541EREF
        NL02RABO0123456789
        :86:/EREF/X1/ORDP//NAME/Hr P de Vries en/of
         Mw A de Vries/RE
        MI/factuur 2026-0111/ISDT/2026-12-01

        """),
      name: "Hr P de Vries en/of Mw A de Vries", iban: "NL02RABO0123456789",
      text: "factuur 2026-0111"),
    Case(
      bank: "ABN AMRO classic SEPA text",
      file: mt940(
        """
        :61:2612011201C10,5N654NONREF
        :86:SEPA OVERBOEKING                 IBAN: NL44ABNA0123456789
        BIC: ABNANL2A                    NAAM: STUDIO PIET
        OMSCHRIJVING: factuur 2026-0120
        KENMERK: 1234

        """),
      name: "STUDIO PIET", iban: "NL44ABNA0123456789", text: "factuur 2026-0120"),
    Case(
      bank: "ABN AMRO /TRTP/, the name after a line break",
      file: mt940(
        """
        :61:2612011201C10,5N654NONREF
        :86:/TRTP/SEPA OVERBOEKING/IBAN/NL44ABNA0123456789/BIC/ABNANL2A/NAME/
        STUDIO PIET/REMI/2026-0120/EREF/NOTPROVIDED

        """),
      name: "STUDIO PIET", iban: "NL44ABNA0123456789", text: "2026-0120"),
    Case(
      bank: "Knab REK/NAAM below free text that breaks between words",
      file: mt940(
        """
        :61:2612011201C500,NTRFNONREF//K1
        :86:BETALING VAN FACTUUR 2026-0130
        MET DANK
        REK: NL44ABNA0123456789/NAAM: KAASHANDEL B.V.

        """),
      name: "KAASHANDEL B.V.", iban: "NL44ABNA0123456789",
      text: "BETALING VAN FACTUUR 2026-0130 MET DANK"),
    Case(
      bank: "de Volksbank: IBAN on :61:, name on its second line, text wrapped at 65",
      file: mt940(
        """
        :61:2612011201C828,72NOVBNL20INGB0001234567
        bakkerij de korst
        :86:NL20INGB0001234567 bakkerij de korst

        2026-11-30T10:00:00-000000000000001-NL20INGB0001234567-Bakkerij D
        e Korst-factuur 2026-0101

        """, header: "{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:\n"),
      name: "bakkerij de korst", iban: "NL20INGB0001234567",
      text:
        "2026-11-30T10:00:00-000000000000001-NL20INGB0001234567-Bakkerij De Korst-factuur 2026-0101"
    ),
    Case(
      bank: "bunq: one long line, its line break part of the text",
      file: mt940(
        """
        :61:2612011201C2,NTRFNONREF
        :86:/IBAN/NL20BUNQ0001234567/NAME/Hr J de Wit en/of Mw K de Wit/REMI/Refund: WINKEL (AMSTERDAM, NL)
        1 USD = 0.9 EUR

        """, header: "BUNQNL2A\n940\nBUNQNL2A\n"),
      name: "Hr J de Wit en/of Mw K de Wit", iban: "NL20BUNQ0001234567",
      text: "Refund: WINKEL (AMSTERDAM, NL)\n1 USD = 0.9 EUR"),
    Case(
      bank: "old Triodos >NN subfields broken mid-word",
      file: mt940(
        """
        :61:261201C150,00NET NONREF
        :86:000>100000000000
        >20FACTUUR 2026-0140 VAN DE W>21INKEL
        >310666666666

        """),
      name: nil, iban: nil, text: "FACTUUR 2026-0140 VAN DE WINKEL"),
    Case(
      bank: "old ING free text: lines break where a space was",
      file: mt940(
        """
        :61:261201C3,68NTRFNONREF
        :86:0123456789 J JANSEN
        AMSTERDAM factuur
        2026-0102

        """),
      name: nil, iban: nil, text: "0123456789 J JANSEN AMSTERDAM factuur 2026-0102"),
  ]

  @Test(arguments: dialects)
  func theCounterpartyAndTheTextAsEachBankWritesThem(_ c: Case) throws {
    let s = try parsed(c.file)
    let cs = credits(s)
    #expect(cs.count == 1)
    #expect(cs.first?.debtorName == c.name)
    #expect(cs.first?.debtorIBAN == c.iban)
    #expect(cs.first?.remittance == c.text)
    #expect(cs.first?.structuredReference == c.reference)
  }

  @Test(arguments: [
    // value date, entry date → booked
    ("2701011231", "2026-12-31"), ("2612011203", "2026-12-03"), ("2612031201", "2026-12-01"),
    ("261201    ", "2026-12-01"), ("261201", "2026-12-01"),
  ])
  func theBookingDateIsTheEntryDateInTheYearNearestTheValueDate(_ dates: String, _ booked: String)
    throws
  {
    let s = try parsed(mt940(":61:\(dates)C5,00NTRFNONREF\n:86:x\n"))
    #expect(s.transactions.first?.bookingDate.iso == booked)
  }

  @Test(arguments: [
    ("9,", 900 as Int64), ("0,3", 30), ("000000000473,17", 47_317), ("1000,00", 100_000),
  ])
  func amountsWithADecimalComma(_ text: String, _ cents: Int64) throws {
    let s = try parsed(mt940(":61:261201C\(text)NTRFNONREF\n:86:x\n"))
    #expect(s.transactions.first?.amount.cents == cents)
  }

  @Test func debitsReversalsAndZeroLinesAreNoPayments() throws {
    let s = try parsed(
      mt940(
        """
        :61:261201D5,00NTRFNONREF
        :86:a debit
        :61:261201C0,00NTRFNONREF
        :86:an information line
        :61:261201RC7,00NTRFNONREF
        :86:/EREF/E1/IBAN/NL20INGB0001234567/NAME/J. Jansen/REMI/storno
        :61:261201RD8,00NTRFNONREF
        :86:a returned debit of ours
        :61:261201C9,00NTRFNONREF
        :86:a payment

        """))
    #expect(s.transactions.count == 4, "the zero line is left out")
    #expect(credits(s).map(\.amount.cents) == [900])
    let rc = s.transactions.first { $0.amount.cents == 700 }
    #expect(rc?.undoesACredit == true && rc?.endToEndID == "E1")
    #expect(s.transactions.first { $0.amount.cents == 800 }?.undoesACredit == false)
  }

  @Test func twoIdenticalLinesAreTwoPaymentsWithTheirOwnKeys() throws {
    let line = ":61:261201C9,00NTRFNONREF\n:86:/NAME/A/REMI/huur\n"
    let s = try parsed(mt940(line + line))
    #expect(credits(s).count == 2)
    #expect(Set(s.transactions.map(\.key)).count == 2)
  }

  @Test func twoMessagesOnOneLineAndRabobankStatementsWithoutEndMarks() throws {
    let two =
      "{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{4:\n:20:A\n:25:NL91ABNA0417164300\n:60F:C261130EUR0,00\n:61:261201C1,00NTRFNONREF\n:86:een\n:62F:C261201EUR1,00\n-}{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{4:\n:20:B\n:25:NL91ABNA0417164300\n:60F:C261201EUR1,00\n:61:261202C2,00NTRFNONREF\n:86:twee\n:62F:C261202EUR3,00\n-}\n"
    #expect(try credits(parsed(two)).map(\.remittance) == ["een", "twee"])
    let rabo =
      ":940:\n:20:940S261201\n:25:NL91ABNA0417164300 EUR\n:28C:0\n:60F:C261130EUR000000000000,00\n:61:261201C000000000001,00N541NONREF\n:86:/ORDP//NAME/A/REMI/een\n:62F:C261201EUR000000000001,00\n:940:\n:20:940S261202\n:25:NL91ABNA0417164300 EUR\n:28C:0\n:60F:C261201EUR000000000001,00\n:62F:C261202EUR000000000001,00\n"
    #expect(try credits(parsed(rabo)).count == 1)
  }

  @Test func balancesThatDoNotAddUpAreAWarningNotARefusal() throws {
    let ok = try parsed(
      ":20:A\n:25:NL91ABNA0417164300\n:60F:C261130EUR10,00\n:61:261201C5,00NTRFNONREF\n:86:x\n:62F:C261201EUR15,00\n-\n"
    )
    #expect(ok.warnings.isEmpty)
    let off = try parsed(
      ":20:A\n:25:NL91ABNA0417164300\n:60F:C261130EUR10,00\n:61:261201C5,00NTRFNONREF\n:86:x\n:62F:C261201EUR16,00\n-\n"
    )
    #expect(credits(off).count == 1)
    #expect(off.warnings.first?.message.contains("do not add up") == true)
  }

  static let complete =
    "{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:\n:20:0000000000\n:25:NL91ABNA0417164300\n:28C:5/1\n:60F:C261130EUR379,29\n:61:2612011201C1000,00NIOBNL20INGB0001234567\nj jansen\n:86:NL20INGB0001234567 j jansen\n\nfactuur 2026-0101\n:62F:C261201EUR1379,29\n-}{5:}\n"

  /// A download cut off anywhere before its closing balance is refused whole, never read in
  /// part (a € 1.000,00 line cut to € 10), and never traps.
  @Test func aStatementCutOffAnywhereIsRefusedWhole() throws {
    let bytes = Array(Self.complete.utf8)
    let closing = Array(":62F:C261201EUR1".utf8)
    let start = (0...(bytes.count - closing.count)).first {
      Array(bytes[$0..<($0 + closing.count)]) == closing
    }
    let cutoff = try #require(start) + closing.count
    #expect(try credits(parsed(Self.complete)).map(\.amount.cents) == [100_000])
    for n in 1..<bytes.count {
      let prefix = Array(bytes[0..<n])
      let result = Result { try StatementFile.parse(bytes: prefix, file: "cut.sta") }
      if n <= cutoff {
        guard case .failure(let e) = result else {
          Issue.record(
            "cut after \(n) bytes was accepted: \(String(decoding: prefix, as: UTF8.self))")
          continue
        }
        #expect("\(e)".contains("nothing imported"))
      } else if case .success(let s) = result {
        #expect(credits(s).map(\.amount.cents) == [100_000], "cut after \(n) bytes")
      }
    }
  }

  @Test(arguments: [
    (":61:2612011201C10", "cut off"), (":61:2612011201C1000,00", "cut off after its amount"),
    (":61:261", "value date"), (":61:2612011201", "credit or debit mark"),
    (":61:2612011201C1000.00NTRF", "decimal comma"), (":61:2613011201C1,00NTRF", "value date"),
    (":61:2612011301C1,00NTRF", "entry date"),
  ])
  func aBadStatementLineIsNamed(_ line: String, _ words: String) {
    let text = mt940(line + "\n:86:x\n")
    #expect {
      try parsed(text)
    } throws: { e in
      let p = e as? Problems
      return p?.all.first?.field == ":61:" && p?.all.first?.line == 5
        && p?.description.contains(words) == true
    }
  }

  @Test func aMessageWithoutClosingBalanceButWithItsEndMarkIsComplete() throws {
    let text =
      "{1:F01SNSBNL2AXXXX0000000000}{2:O940SNSBNL2AXXXXN}{3:}{4:\n:20:0\n:25:NL91ABNA0417164300\n:60F:C261130EUR1,00\n:61:2612011201C2,00NOVBNL20INGB0001234567\nj jansen\n:86:NL20INGB0001234567 j jansen\n\nhuur\n-}{5:}\n"
    #expect(try credits(parsed(text)).count == 1)
  }

  @Test(arguments: [
    ("NL91ABNA0417164300", "NL91ABNA0417164300"), ("NL77INGB0574908765EUR", "NL77INGB0574908765"),
    ("NL91ABNA0417164300 EUR", "NL91ABNA0417164300"),
    ("NL92 KNAB 0123 4567 89", "NL92KNAB0123456789"),
    ("TRIODOSBANK/0390123456", "TRIODOSBANK/0390123456"), ("0123456789       ", "0123456789"),
  ])
  func theAccountWithoutCurrencyOrSpaces(_ field: String, _ account: String) {
    #expect(MT940.account(Substring(field)) == account)
  }
}
