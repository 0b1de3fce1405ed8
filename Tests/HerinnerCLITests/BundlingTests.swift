import Foundation
import HerinnerTestSupport
import Testing

/// One letter per customer, end to end through the executable against aiosmtpd.
@Suite(.serialized) struct BundlingTests {
  func addInvoice(_ ex: ExampleCopy, _ row: String) throws {
    var csv = try String(contentsOfFile: ex.path + "/Examples/invoices.csv", encoding: .utf8)
    csv += row + "\n"
    ex.write("Examples/invoices.csv", csv)
  }

  @Test func aCustomerAtDifferentStepsWithAPaymentBetweenRuns() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    #expect(try ex.send("2026-12-01").status == 0)
    // Zoë's two invoices went out as one letter with both PDFs.
    let first = try #require(server.received().first { header("Subject", in: $0.data)?.contains("2026-0111") == true })
    #expect(String(decoding: first.data, as: UTF8.self).components(separatedBy: "application/pdf").count == 3)
    #expect(try ex.ledger().deliveries().filter { $0.invoice == "2026-0111" || $0.invoice == "2026-0112" }.map(\.messageID).count == 2)

    // A third invoice of hers falls due; and she pays 2026-0112 before the second reminders.
    try addInvoice(ex, "2026-0115;K-011;Zoë Šimić-Ørsted;mevrouw Šimić-Ørsted;zoe.simic@example.nl;consumer;2026-11-05;2026-12-05;400,00;0;EUR;open;factuur-2026-0111.pdf;nl;;")
    let bank = ex.path + "/pay.xml"
    try """
      <?xml version="1.0"?>
      <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
      <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>
      <Ntry><Amt Ccy="EUR">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-12-10</Dt></BookgDt><AcctSvcrRef>P-1</AcctSvcrRef>
      <NtryDtls><TxDtls><RmtInf><Ustrd>factuur 2026-0112</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
      </Stmt></BkToCstmrStmt></Document>
      """.write(toFile: bank, atomically: true, encoding: .utf8)
    #expect(try herinner(["payments", "import", bank, "--config", ex.config], in: ex.path).status == 0)

    let r = try ex.send("2026-12-15")
    #expect(r.status == 0, "\(r.stderr)")
    let toZoe = server.received().filter { $0.to == ["zoe.simic@example.nl"] }.dropFirst()
    let subjectsToZoe = toZoe.map { header("Subject", in: $0.data) ?? "" }
    // Art. 6:96 lid 7 BW: her 14-day letter covers every open claim past due, 0115 too (its
    // first is not sent any more); 0112 is paid. Costs once over € 1.900.
    #expect(subjectsToZoe == ["Aanmaning: facturen 2026-0111 en 2026-0115"], "\(subjectsToZoe)")
    let second = try #require(toZoe.first)
    #expect(String(decoding: second.data, as: UTF8.self).contains("=E2=82=AC 285,00"), "WIK over € 1.900")
    #expect(try ex.ledger().deliveries().filter { $0.invoice == "2026-0115" }.map(\.step.rawValue) == ["second"])
  }

  @Test func theConsumerWIKIsOverTheSum() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port)
    #expect(try ex.send("2026-12-01").status == 0)
    #expect(try ex.send("2026-12-15").status == 0)
    let second = try #require(server.received().first { header("Subject", in: $0.data) == "Aanmaning: facturen 2026-0111 en 2026-0112" })
    let text = String(decoding: second.data, as: UTF8.self)
    #expect(text.contains("=E2=82=AC 425,00"))
    #expect(!text.contains("=E2=82=AC 450,00"))
    // resend of one invoice resends the message that covered both.
    let r = try herinner(["resend", "2026-0112", "--config", ex.config, "--date", "2026-12-16"], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(header("Subject", in: server.received().last!.data) == "Aanmaning: facturen 2026-0111 en 2026-0112")
  }

  @Test func aMessageTooLargeIsSplitInAStableOrder() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port, extra: ["maxMessageBytes": 10_000, "connections": 1])
    #expect(try ex.send("2026-12-01").status == 0)
    let toZoe = server.received().filter { $0.to == ["zoe.simic@example.nl"] }.map { header("Subject", in: $0.data) ?? "" }
    #expect(toZoe == ["Herinnering: factuur 2026-0111", "Herinnering: factuur 2026-0112"])
  }

  @Test func onePerCustomerOffSendsEachInvoiceAlone() throws {
    let server = try TestSMTPServer()
    let ex = try ExampleCopy()
    try ex.useServer(port: server.port, policy: ["onePerCustomer": false])
    #expect(try ex.send("2026-12-01").stdout.contains("sent 7"))
  }
}
