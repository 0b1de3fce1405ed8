import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerFiles
import HerinnerInput
import HerinnerLetters
import Synchronization
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().path

/// The bundled example administration, read as the command line reads it.
struct Example {
  let config: Config
  let templates: TemplateSet
  let load: InvoiceLoad

  init() throws {
    config = try Config.load(path: repoRoot + "/config.example.json")
    templates = try TemplateSet.load(folder: config.templates)
    load = try InvoiceSource(config: config.invoices).load()
  }
}

/// A server that takes every message and keeps what it got (the batch logic's unit tests; the
/// real servers are in the integration tests).
final class AcceptingTransport: MailTransport, @unchecked Sendable {
  let received = Mutex<[(Envelope, [UInt8])]>([])
  var outcome: DeliveryOutcome = .accepted(code: 250, reply: "250 2.0.0 Ok: queued as T1")
  func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome {
    received.withLock { $0.append((envelope, message)) }
    return outcome
  }
  var count: Int { received.withLock { $0.count } }
}

/// Payments whose reads fail, as a broken ledger's would.
final class FailingPayments: PaymentsView {
  struct ReadFailed: Error {}
  func latestStatementDate() throws -> CalendarDate? { throw ReadFailed() }
  func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  { throw ReadFailed() }
  func appliedPayments() throws -> [String: [String]] { throw ReadFailed() }
  func datedPayments() throws -> [ConsumerClaims.Payment] { throw ReadFailed() }
}

let night = CalendarDate(parsing: "2026-12-01")!
let clock = WallClock.fixed(Date(timeIntervalSince1970: 1_796_112_000))

func ports(
  ledger: MemoryLedger, transport: AcceptingTransport?, archive: Archive? = nil,
  payments: any PaymentsView = NoPayments(), lock: (any RunLock)? = MemoryRunLock(),
  example: Example
) -> NightlySend.Ports {
  NightlySend.Ports(
    ledger: ledger, payments: payments, lock: lock, archive: archive ?? Archive.memory().0,
    attachments: .live(folder: example.config.invoices.attachments), clock: clock,
    connection: opener(transport))
}

/// The night's connections: always this one transport.
func opener(_ transport: AcceptingTransport?) -> ConnectionOpener? {
  guard let transport else { return nil }
  let open: ConnectionOpener = { (_: Int) throws(TransportError) -> any MailTransport in transport }
  return open
}

@Suite struct NightlySendTests {
  @Test func aNightSendsEachDueReminderOnceAndArchivesItsExactBytes() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let (archive, files) = Archive.memory()
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(ledger: ledger, transport: transport, archive: archive, example: ex))
    let report = try send.run(on: night, options: .init())
    #expect(report.tally.sent == report.messages)
    #expect(report.messages > 0)
    #expect(transport.count == report.messages)
    let sent = try ledger.deliveries(state: .sent)
    #expect(Set(sent.map(\.messageKey)).count == report.messages)
    // The archive holds exactly the bytes the server got, under the recorded paths.
    let got = transport.received.withLock { $0.map(\.1) }
    let recorded = Set(sent.compactMap(\.archivePath))
    #expect(Set(files.all.keys) == recorded)
    #expect(Set(files.all.values) == Set(got))
    // The same night again sends nothing: never the same reminder twice.
    let again = try send.run(on: night, options: .init())
    #expect(again.messages == 0)
    #expect(transport.count == report.messages)
  }

  @Test func aDryRunBuildsEveryMessageAndWritesNothing() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    var previews: [NightlySend.Preview] = []
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: NightlySend.Ports(
        ledger: ledger, payments: NoPayments(),
        attachments: .live(folder: ex.config.invoices.attachments), clock: clock))
    let report = try send.run(on: night, options: .init(dryRun: true)) { previews.append($0) }
    #expect(previews.count == report.messages)
    #expect(previews.map(\.index) == Array(1...report.messages))
    #expect(try ledger.deliveries().isEmpty)
  }

  @Test func aFailedPaymentsReadStopsTheNightBeforeAnythingIsSent() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(
        ledger: ledger, transport: transport, payments: FailingPayments(), example: ex))
    #expect(throws: FailingPayments.ReadFailed.self) { try send.run(on: night, options: .init()) }
    #expect(transport.count == 0)
    #expect(try ledger.deliveries().isEmpty)
  }

  @Test func aServerThatCannotBeUsedMeansNothingSentNothingMarked() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    var p = ports(ledger: ledger, transport: nil, example: ex)
    p.connection = { _ throws(TransportError) in
      throw TransportError(.unreachable, "cannot connect to 127.0.0.1:1")
    }
    let send = NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
    #expect { try send.run(on: night, options: .init()) } throws: { e in
      (e as? NothingSent)?.description.contains("nothing sent, nothing marked") == true
    }
    #expect(try ledger.deliveries().isEmpty)
  }

  @Test func aHeldLockStopsTheNightBeforeAnythingIsRead() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let lock = MemoryRunLock()
    try lock.acquire()
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(ledger: ledger, transport: transport, lock: lock, example: ex))
    #expect(throws: RunLockHeld.self) { try send.run(on: night, options: .init()) }
    #expect(transport.count == 0)
  }

  @Test func anInterruptedSendingIsReportedUnknownAndNotSentAgain() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let first = try #require(ex.load.invoices.first { $0.number == "2026-0101" })
    try ledger.begin(
      NewAttempt(
        messageKey: "k1", invoices: [first.number], step: .first, isResend: false,
        runDate: night, deadline: nil, costs: nil, recipients: [first.email],
        messageID: "<k1@studiovermeer.nl>", inReplyTo: nil))
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(ledger: ledger, transport: transport, example: ex))
    let report = try send.run(on: night, options: .init())
    #expect(report.needsAttention)
    #expect(report.unknownPending == 1)
    #expect(report.attention.contains { $0.contains("2026-0101") && $0.contains("resolve") })
    let got = transport.received.withLock { $0.flatMap(\.0.recipients) }
    #expect(!got.contains(first.email), "an unknown delivery is never sent again by a rerun")
  }

  @Test func paymentsRequiredWithoutAStatementRefusesTheNight() throws {
    var ex = try Example()
    ex = Example(config: { var c = ex.config; c.payments.required = true; return c }(), ex)
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(ledger: ledger, transport: transport, example: ex))
    #expect { try send.run(on: night, options: .init()) } throws: { e in
      (e as? AppError)?.code == .invalidInput
    }
    #expect(transport.count == 0)
  }
}

extension Example {
  init(config: Config, _ other: Example) {
    self.config = config
    self.templates = other.templates
    self.load = other.load
  }
}

@Suite struct ResendAndResolveTests {
  @Test func aResendIsRefusedForAStageNeverSentAndRecordedAsAResendOtherwise() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let p = ports(ledger: ledger, transport: transport, example: ex)
    let resend = ResendReminder(
      config: ex.config, templates: ex.templates, invoices: ex.load.invoices, ports: p)
    #expect { try resend.run(.init(number: "2026-0101"), on: night) } throws: { e in
      (e as? AppError)?.code == .refused
    }
    _ = try NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
      .run(on: night, options: .init())
    let before = transport.count
    let later = night.adding(days: 2)
    guard case .sent(let step, _, _) = try resend.run(.init(number: "2026-0101"), on: later)
    else {
      Issue.record("not resent")
      return
    }
    #expect(step == .first)
    #expect(transport.count == before + 1)
    let rows = try ledger.deliveries(invoice: "2026-0101")
    #expect(rows.filter(\.isResend).count == 1)
    #expect(rows.filter { !$0.isResend && $0.step == .first }.count == 1)
    // Threaded to the original.
    let original = try #require(rows.first { !$0.isResend })
    #expect(rows.first(where: \.isResend)?.inReplyTo == original.messageID)
  }

  @Test func aRejectedDeliveryBecomesDueAgainAfterResolveNotSent() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    transport.outcome = .rejected(code: 550, reply: "550 5.1.1 no such user")
    let p = ports(ledger: ledger, transport: transport, example: ex)
    let send = NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
    let first = try send.run(on: night, options: .init())
    #expect(first.tally.rejected == first.messages)
    let stopped = try send.run(on: night.adding(days: 1), options: .init())
    #expect(stopped.messages == 0, "a rejected step waits for a person")
    let number = try #require(try ledger.deliveries(state: .rejected).first?.invoice)
    #expect { try ResolveDelivery(ledger: ledger).run(number: number, step: .first, sent: true) }
      throws: { ($0 as? AppError)?.code == .refused }
    _ = try ResolveDelivery(ledger: ledger).run(number: number, step: .first, sent: false)
    transport.outcome = .accepted(code: 250, reply: "250 ok")
    let again = try send.run(on: night.adding(days: 1), options: .init(invoiceNumbers: [number]))
    #expect(again.tally.sent == 1)
  }
}

@Suite struct ReadModelTests {
  @Test func theOverviewReadsThroughThePortsAndAFailedReadThrows() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let o = try LadderOverview(
      policy: ex.config.policy, invoices: ex.load.invoices, ledger: ledger,
      payments: NoPayments(), on: night)
    #expect(!o.statusRows.isEmpty)
    #expect(o.statusRows.allSatisfy { $0.stopped != "settled" })
    #expect(throws: FailingPayments.ReadFailed.self) {
      try LadderOverview(
        policy: ex.config.policy, invoices: ex.load.invoices, ledger: ledger,
        payments: FailingPayments(), on: night)
    }
  }

  @Test func historyListsDeliveriesAndCallsInTheOrderRecorded() throws {
    let tick = Mutex(0.0)
    let stepping = WallClock(
      now: { Date(timeIntervalSince1970: 1_796_112_000 + tick.withLock { $0 += 1; return $0 }) },
      sleep: { _ in })
    let ledger = MemoryLedger(clock: stepping)
    try ledger.recordCall(invoice: "A", date: night, note: "belt terug")
    try ledger.begin(
      NewAttempt(
        messageKey: "k", invoices: ["A"], step: .first, isResend: false, runDate: night,
        deadline: nil, costs: nil, recipients: ["a@b.nl"], messageID: "<k@x>", inReplyTo: nil))
    let entries = try InvoiceHistoryReport(ledger: ledger).entries(number: "A")
    #expect(entries.count == 2)
    if case .call = entries[0] {} else { Issue.record("the call came first") }
  }
}

/// A scratch administration: the example's config and PDFs with invoices of the test's own.
func administration(_ csv: String) throws -> Example {
  let dir = NSTemporaryDirectory() + "herinner-app-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  try csv.write(toFile: dir + "/invoices.csv", atomically: true, encoding: .utf8)
  let config = """
    {"company": {"name": "Studio Vermeer B.V.", "email": "administratie@studiovermeer.nl",
                 "iban": "NL91ABNA0417164300"},
     "invoices": {"path": "invoices.csv", "attachments": "\(repoRoot)/Examples/pdf"},
     "templates": "\(repoRoot)/Templates",
     "smtp": {"url": "smtp://127.0.0.1:2525", "security": "none"}}
    """
  let c = try Config.parse(bytes: Array(config.utf8), file: dir + "/herinner.json", folder: dir)
  return Example(
    config: c, templates: try TemplateSet.load(folder: c.templates),
    load: try InvoiceSource(config: c.invoices).load())
}

extension Example {
  init(config: Config, templates: TemplateSet, load: InvoiceLoad) {
    self.config = config
    self.templates = templates
    self.load = load
  }
}

let header = "number;customer_id;customer;email;kind;issued;due;amount;currency;pdf\n"

@Suite struct GroupingTests {
  func plannedLetters(_ ex: Example) throws -> [[String]] {
    var letters: [[String]] = []
    _ = try NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: NightlySend.Ports(
        ledger: MemoryLedger(clock: clock), payments: NoPayments(),
        attachments: .live(folder: ex.config.invoices.attachments), clock: clock)
    ).run(on: night, options: .init(dryRun: true)) { p in
      letters.append(p.built.message.subject.split(separator: " ").map(String.init).filter {
        $0.hasPrefix("A-")
      })
    }
    return letters.sorted { $0.first ?? "" < $1.first ?? "" }
  }

  @Test func aConsumerNeverSharesALetterWithBusinessInvoicesWhateverCustomerIDSays() throws {
    let ex = try administration(
      header
        + "A-1;K-9;Jansen;jan@example.nl;business;2026-10-01;2026-11-01;100,00;EUR;factuur-2026-0101.pdf\n"
        + "A-2;K-9;Jansen;jan@example.nl;consumer;2026-10-01;2026-11-01;50,00;EUR;factuur-2026-0102.pdf\n"
    )
    #expect(ex.load.problems.isEmpty, "\(ex.load.problems)")
    let letters = try plannedLetters(ex)
    #expect(letters.count == 2, "\(letters)")
  }

  @Test func aLetterCoversOneCurrency() throws {
    let ex = try administration(
      header
        + "A-1;K-9;Jansen;jan@example.nl;business;2026-10-01;2026-11-01;100,00;EUR;factuur-2026-0101.pdf\n"
        + "A-2;K-9;Jansen;jan@example.nl;business;2026-10-01;2026-11-01;50,00;USD;factuur-2026-0102.pdf\n"
        + "A-3;K-9;Jansen;jan@example.nl;business;2026-10-01;2026-11-01;70,00;EUR;factuur-2026-0102.pdf\n"
    )
    let letters = try plannedLetters(ex)
    #expect(letters.count == 2, "\(letters)")
  }
}

@Suite struct RejectionRecoveryTests {
  @Test func aCorrectedAddressMakesARejectedStepDueAgainOnce() throws {
    let csv =
      header
      + "A-1;;Jansen;jan@example.nl;business;2026-10-01;2026-11-01;100,00;EUR;factuur-2026-0101.pdf\n"
    let ex = try administration(csv)
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    transport.outcome = .rejected(code: 550, reply: "550 5.1.1 <jan@example.nl>: no such user")
    let p = ports(ledger: ledger, transport: transport, example: ex)
    let first = try NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
      .run(on: night, options: .init())
    #expect(first.tally.rejected == 1)
    #expect(first.needsAttention, "this run's rejection needs a person")
    let next = try NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
      .run(on: night.adding(days: 1), options: .init())
    #expect(next.messages == 0)
    #expect(!next.needsAttention, "an earlier run's rejection does not keep the exit status at 1")
    // The bookkeeper corrects the address: sent again, to the new one, once.
    let fixed = try administration(csv.replacingOccurrences(of: "jan@example.nl", with: "j.jansen@example.nl"))
    let again = try NightlySend(
      config: fixed.config, templates: fixed.templates, load: fixed.load,
      ports: ports(ledger: ledger, transport: transport, example: fixed)
    ).run(on: night.adding(days: 1), options: .init())
    #expect(again.messages == 1)
    #expect(transport.received.withLock { $0.last?.0.recipients } == ["j.jansen@example.nl"])
    let third = try NightlySend(
      config: fixed.config, templates: fixed.templates, load: fixed.load,
      ports: ports(ledger: ledger, transport: transport, example: fixed)
    ).run(on: night.adding(days: 2), options: .init())
    #expect(third.messages == 0, "rejected again at the new address: waits for a person")
  }
}

@Suite struct ArchiveFlushTests {
  struct FlushFailed: Error {}

  @Test func aFailedArchiveFlushStopsTheNightBeforeAnythingIsRecordedOrSent() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let transport = AcceptingTransport()
    let (memory, _) = Archive.memory()
    let failing = Archive(write: memory.write, remove: memory.remove, flush: { throw FlushFailed() })
    let send = NightlySend(
      config: ex.config, templates: ex.templates, load: ex.load,
      ports: ports(ledger: ledger, transport: transport, archive: failing, example: ex))
    #expect(throws: FlushFailed.self) { try send.run(on: night, options: .init()) }
    #expect(transport.count == 0, "nothing goes out whose proof is not durable")
    #expect(try ledger.deliveries().isEmpty)
  }
}

@Suite struct PaymentsThroughThePortTests {
  @Test func aCustomerWhoPaidIsNotReminded() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let paid = try #require(ex.load.invoices.first { $0.number == "2026-0101" })
    let camt = """
      <?xml version="1.0" encoding="UTF-8"?>
      <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
      <Id>1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>
      <Ntry><Amt Ccy="EUR">1250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
      <BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt><AcctSvcrRef>R1</AcctSvcrRef>
      <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>\(paid.customer)</Nm></Dbtr></RltdPties>
      <RmtInf><Ustrd>factuur \(paid.number)</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
      </Stmt></BkToCstmrStmt></Document>
      """
    let imported = try ImportStatements(
      store: ledger, invoices: ex.load.invoices, csvColumns: [:], read: { _ in nil }
    ).run([("nov.xml", Array(camt.utf8))])
    #expect(imported.refused.isEmpty, "\(imported.problems)")
    #expect(try ledger.allocationTotals()[paid.number] == paid.outstanding.cents)
    var p = ports(ledger: ledger, transport: AcceptingTransport(), example: ex)
    p.payments = LedgerPayments(store: ledger)
    var previews: [String] = []
    _ = try NightlySend(config: ex.config, templates: ex.templates, load: ex.load, ports: p)
      .run(on: night, options: .init(dryRun: true)) { previews.append($0.built.message.subject) }
    #expect(!previews.isEmpty)
    #expect(!previews.contains { $0.contains(paid.number) }, "never a reminder to someone who paid")
  }
}

@Suite struct StatementFolderTests {
  final class FailingStore: PaymentStore {
    struct Broken: Error {}
    func statementImported(fileHash: String) throws -> Bool { false }
    func importStatement(
      fileHash: String, file: String, format: String, latestBooking: CalendarDate?,
      transactions: [BankTransaction], match: (BankTransaction, [String: Int64]) -> PaymentMatch
    ) throws -> StatementImportResult { throw Broken() }
    func allocationTotals() throws -> [String: Int64] { [:] }
    func payments(status: String?) throws -> [PaymentRecord] { [] }
    func resolvePayment(id: Int64, invoice: String?, amount: Int64?) throws -> Bool { false }
    func latestStatementDate() throws -> CalendarDate? { nil }
  }

  func folder(_ files: [String: String]) throws -> String {
    let dir = NSTemporaryDirectory() + "herinner-inbox-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
    return dir
  }

  @Test func aFileThatCannotBeReadIsSetAsideAndTheRestImported() throws {
    let dir = try folder(["a-bad.sta": "this is no statement\n"])
    let ledger = MemoryLedger(clock: clock)
    let (lines, problems) = try StatementFolder(folder: dir, store: ledger, csvColumns: [:])
      .importNew(invoices: [])
    #expect(lines.isEmpty)
    #expect(problems.contains { $0.contains("moved to") && $0.contains("rejected") })
    #expect(FileManager.default.fileExists(atPath: dir + "/rejected/a-bad.sta"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/a-bad.sta"))
  }

  @Test func aLedgerFailureNeverSetsAGoodStatementAside() throws {
    let camt = """
      <?xml version="1.0" encoding="UTF-8"?>
      <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
      <Id>1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>
      <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
      <BookgDt><Dt>2026-11-30</Dt></BookgDt><AcctSvcrRef>R1</AcctSvcrRef></Ntry>
      </Stmt></BkToCstmrStmt></Document>
      """
    let dir = try folder(["nov.xml": camt])
    #expect(throws: FailingStore.Broken.self) {
      try StatementFolder(folder: dir, store: FailingStore(), csvColumns: [:]).importNew(invoices: [])
    }
    #expect(FileManager.default.fileExists(atPath: dir + "/nov.xml"), "the file is not to blame")
  }

  @Test func aCreditGoesOnlyToAnOpenInvoiceOfTheFile() throws {
    let ex = try Example()
    let ledger = MemoryLedger(clock: clock)
    let resolve = ResolvePayment(store: ledger, invoices: ex.load.invoices)
    #expect { try resolve.run(id: 1, invoice: "2026-9999") } throws: {
      ($0 as? AppError)?.code == .refused
    }
  }
}
