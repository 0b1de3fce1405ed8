import HerinnerCore
import Testing

@testable import HerinnerInput

/// Bank CSV and TAB exports by their documented layouts, in small files of our own making.
@Suite struct StatementCSVTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var bank: String
    var file: String
    var credits: [Int64]
    var booked: String
    var name: String?
    var iban: String?
    var text: String?
    var testDescription: String { bank }
  }

  static let layouts: [Case] = [
    Case(
      bank: "ING Af Bij, comma, quoted",
      file: """
        "Datum","Naam / Omschrijving","Rekening","Tegenrekening","Code","Af Bij","Bedrag (EUR)","MutatieSoort","Mededelingen"
        "20261201","BAKKERIJ DE KORST","NL91ABNA0417164300","NL20INGB0001234567","OV","Bij","1.250,00","Overschrijving","factuur 2026-0101"
        "20261201","Bank","NL91ABNA0417164300","","DV","Af","2,50","Diversen","kosten"
        "20261201","Bank","NL91ABNA0417164300","","VZ","Bij","0,00","Diversen","niets"

        """, credits: [125_000], booked: "2026-12-01", name: "BAKKERIJ DE KORST",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "ING in English, semicolons, unquoted, an extra column",
      file: """
        Date;Name / Description;Account;Counterparty;Code;Debit/credit;Amount (EUR);Transaction type;Notifications;Extra
        20261201;BAKKERIJ DE KORST;NL91ABNA0417164300;NL20INGB0001234567;OV;Credit;1250,00;Transfer;factuur 2026-0101;x
        20261201;Bank;NL91ABNA0417164300;;DV;Debit;2,50;Diversen;kosten;y

        """, credits: [125_000], booked: "2026-12-01", name: "BAKKERIJ DE KORST",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "Knab: a preamble line, CreditDebet, amounts without decimals, Boekdatum",
      file: """
        KNAB EXPORT;;;;;;;
        Rekeningnummer;Transactiedatum;Valutacode;CreditDebet;Bedrag;Tegenrekeningnummer;Tegenrekeninghouder;Omschrijving;Referentie;Boekdatum;
        "NL91ABNA0417164300";"30-11-2026";"EUR";"C";"2500";"NL20INGB0001234567";"Bakkerij De Korst";"factuur 2026-0101";"K1";"01-12-2026";
        "NL91ABNA0417164300";"30-11-2026";"EUR";"D";"2500";"NL20INGB0001234567";"Bakkerij De Korst";"terug";"K2";"01-12-2026";

        """, credits: [250_000], booked: "2026-12-01", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "Rabobank: signed amounts, all description columns",
      file: """
        "IBAN/BBAN","Munt","BIC","Volgnr","Datum","Rentedatum","Bedrag","Saldo na trn","Tegenrekening IBAN/BBAN","Naam tegenpartij","Betalingskenmerk","Omschrijving-1","Omschrijving-2","Omschrijving-3"
        "NL91ABNA0417164300","EUR","RABONL2U","000000000000001","2026-12-01","2026-12-02","+1250,00","+2250,00","NL20INGB0001234567","Bakkerij De Korst","","factuur 2026-","0101 en dank"," "
        "NL91ABNA0417164300","EUR","RABONL2U","000000000000002","2026-12-01","2026-12-02","-12,50","+2237,50","","Bank","","kosten","",""

        """, credits: [125_000], booked: "2026-12-01", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026- 0101 en dank"),
    Case(
      bank: "bunq: English headers, signed amounts with a decimal point",
      file: """
        "Date";"Interest Date";"Amount";"Account";"Counterparty";"Name";"Description"
        "2026-12-01";"2026-12-01";"1250.00";"NL91ABNA0417164300";"NL20INGB0001234567";"Bakkerij De Korst";"factuur 2026-0101"
        "2026-12-01";"2026-12-01";"-4.99";"NL91ABNA0417164300";"";"Winkel";"boodschappen"

        """, credits: [125_000], booked: "2026-12-01", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "ABN AMRO TXT download: no header, eight tab columns",
      file:
        "123456789\tEUR\t20261130\t1000,00\t2250,00\t20261201\t1250,00\t/TRTP/SEPA OVERBOEKING/IBAN/NL20INGB0001234567/BIC/INGBNL2A/NAME/Bakkerij De Korst/REMI/factuur 2026-0101/EREF/NOTPROVIDED\n"
        + "123456789\tEUR\t20261130\t2250,00\t2240,00\t20261130\t-10,00\tBEA   NR:1234   30.11.26/10.00 WINKEL\n",
      credits: [125_000], booked: "2026-11-30", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "ABN AMRO TXT download, SEPA text layout",
      file:
        "123456789\tEUR\t20261201\t1000,00\t2250,00\t20261201\t1250,00\tSEPA Overboeking                 IBAN: NL20INGB0001234567        BIC: INGBNL2A                    Naam: Bakkerij De Korst         Omschrijving: factuur 2026-0101\n",
      credits: [125_000], booked: "2026-12-01", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101"),
    Case(
      bank: "ASN Bank: no header, nineteen columns, decimal point, single quotes",
      file:
        "01-12-2026,NL91ABNA0417164300,NL20INGB0001234567,Bakkerij De Korst,,,,EUR,1000.00,EUR,1250.00,01-12-2026,01-12-2026,8809,OVS,00000001,,'factuur 2026-0101, met dank',26\n"
        + "01-12-2026,NL91ABNA0417164300,,,,,,EUR,2250.00,EUR,-2.20,01-12-2026,01-12-2026,7241,MSC,00000002,,'Kosten',26\n",
      credits: [125_000], booked: "2026-12-01", name: "Bakkerij De Korst",
      iban: "NL20INGB0001234567", text: "factuur 2026-0101, met dank"),
  ]

  @Test(arguments: layouts)
  func eachBanksLayout(_ c: Case) throws {
    let s = try parsed(c.file, file: "export.csv")
    #expect(s.format == .csv)
    let cs = credits(s)
    #expect(cs.map(\.amount.cents) == c.credits, "debits never count as credits")
    #expect(cs.first?.bookingDate.iso == c.booked)
    #expect(cs.first?.debtorName == c.name)
    #expect(cs.first?.debtorIBAN == c.iban)
    #expect(cs.first?.remittance == c.text)
  }

  @Test func twoIdenticalRowsAreTwoPayments() throws {
    let row =
      "\"20261201\",\"Huurder\",\"NL91ABNA0417164300\",\"\",\"OV\",\"Bij\",\"0,31\",\"x\",\"huur\"\n"
    let s = try parsed(
      "\"Datum\",\"Naam / Omschrijving\",\"Rekening\",\"Tegenrekening\",\"Code\",\"Af Bij\",\"Bedrag (EUR)\",\"MutatieSoort\",\"Mededelingen\"\n"
        + row + row, file: "ing.csv")
    #expect(credits(s).count == 2)
    #expect(Set(s.transactions.map(\.key)).count == 2)
  }

  @Test(arguments: [
    // An unquoted 1,250.00 in a comma file shifts every column after it.
    (
      "Datum,Naam,Bedrag,Omschrijving\n2026-12-01,A,1,250.00,factuur\n",
      "fields where the header has"
    ),
    ("Datum;Naam;Bedrag\n2026-12-01;A;1.250\n", "amount"),
    ("Datum;Naam;Bedrag\n2026-12-01;A;12,345\n", "amount"),
    ("Datum;Naam;Bedrag\n31-02-2026;A;12,00\n", "date"),
    ("Datum;Naam;Bedrag\n2026-12-01;\"A;12,00\n2026-12-02;B;1,00\n", "never closed"),
    ("Datum;Naam;Af Bij;Bedrag\n2026-12-01;A;Misschien;12,00\n", "neither credit nor debit"),
  ])
  func aRowThatCannotBeReadExactlyRefusesTheFile(_ text: String, _ words: String) {
    #expect {
      try parsed(text, file: "x.csv")
    } throws: { e in
      "\(e)".contains(words) && "\(e)".contains("nothing imported") && "\(e)".contains("x.csv:")
    }
  }
}
