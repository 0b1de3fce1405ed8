import Foundation
import HerinnerCore
import HerinnerLetters
import Testing

@testable import HerinnerBatch

func d(_ s: String) -> CalendarDate { CalendarDate(parsing: s)! }

let sender = Sender(
  name: "Studio Vermeer B.V.", email: "administratie@studiovermeer.nl", iban: "NL91ABNA0417164300")

func inv(
  _ number: String, customer: String = "C1", kind: CustomerKind = .consumer,
  due: String = "2026-11-02",
  amount: Int64 = 150_000, paid: Int64 = 0, email: String = "klant@example.nl"
) -> Invoice {
  Invoice(
    number: number, customerID: customer, customer: "Klant \(customer)", email: email, kind: kind,
    issued: d(due).adding(days: -30), due: d(due), amount: Money(cents: amount),
    paid: Money(cents: paid),
    pdf: "\(number).pdf")
}

func sent(_ step: Step, _ date: String) -> DeliveryRecord {
  DeliveryRecord(step: step, state: .sent, date: d(date))
}

@Suite struct PlannerTests {
  let planner = Planner(policy: Policy(), sender: sender)

  @Test func oneLetterPerCustomerAndStep() {
    // Businesses: a consumer's second would cover A1 and A2 too (art. 6:96 lid 7 BW, see
    // CoveringLetterTests).
    let invoices = [
      inv("A1", kind: .business), inv("A2", kind: .business),
      inv("B1", customer: "C2", kind: .business), inv("A3", kind: .business, due: "2026-10-01"),
    ]
    let histories = ["A3": InvoiceHistory(deliveries: [sent(.first, "2026-10-08")])]
    let plan = planner.plan(invoices: invoices, histories: histories, on: d("2026-11-09")) { _, _ in
      ["<f@x.nl>"]
    }
    #expect(plan.messages.map(\.numbers) == [["A1", "A2"], ["B1"], ["A3"]])
    #expect(plan.messages.map(\.step) == [.first, .first, .second])
    #expect(plan.messages[2].inReplyTo == "<f@x.nl>")
  }

  /// The grouping map keeps only hashes; with every hash colliding the letters are the same.
  @Test func groupingSurvivesHashCollisions() {
    let invoices = [
      inv("A1", customer: "C1"), inv("B1", customer: "C2"), inv("A2", customer: "C1"),
      inv("C1", customer: "C3"), inv("B2", customer: "C2"),
    ]
    var colliding = planner
    colliding.groupHash = { _ in 42 }
    let plain = planner.plan(invoices: invoices, histories: [:], on: d("2026-11-09")) { _, _ in [] }
    let collided = colliding.plan(invoices: invoices, histories: [:], on: d("2026-11-09")) {
      _, _ in []
    }
    #expect(plain.messages.map(\.numbers) == [["A1", "A2"], ["B1", "B2"], ["C1"]])
    #expect(collided.messages.map(\.numbers) == plain.messages.map(\.numbers))
  }

  @Test func withoutOnePerCustomerEveryInvoiceHasItsOwnLetter() {
    var p = planner
    p.policy.onePerCustomer = false
    let plan = p.plan(invoices: [inv("A1"), inv("A2")], histories: [:], on: d("2026-11-09")) {
      _, _ in []
    }
    #expect(plan.messages.count == 2)
  }

  @Test func customersAreKeyedByIDElseByAddressAndKind() {
    var a = inv("A1")
    a.customerID = nil
    var b = inv("A2", email: "KLANT@example.nl")
    b.customerID = nil
    var c = inv("A3", kind: .business)
    c.customerID = nil
    let plan = planner.plan(invoices: [a, b, c], histories: [:], on: d("2026-11-09")) { _, _ in [] }
    #expect(plan.messages.map(\.numbers) == [["A1", "A2"], ["A3"]])
  }

  /// € 1.500 + € 1.500 → € 425, not 2 × € 225.
  @Test func consumerSecondCostsAreOverTheSummedPrincipal() {
    let h = InvoiceHistory(deliveries: [sent(.first, "2026-11-09")])
    let plan = planner.plan(
      invoices: [inv("A1"), inv("A2")], histories: ["A1": h, "A2": h], on: d("2026-11-23")
    ) { _, _ in [] }
    #expect(plan.messages.count == 1)
    #expect(plan.messages[0].letter.costs?.cents == 42_500)
  }

  @Test func aConsumersSecondLetterAlsoListsClaimsAlreadyPastTheirSecond() {
    let past = InvoiceHistory(deliveries: [sent(.first, "2026-10-08"), sent(.second, "2026-10-22")])
    let now = InvoiceHistory(deliveries: [sent(.first, "2026-11-09")])
    let plan = planner.plan(
      invoices: [inv("A1", due: "2026-10-01"), inv("A2")], histories: ["A1": past, "A2": now],
      on: d("2026-11-23")
    ) { _, _ in [] }
    let second = plan.messages.first { $0.step == .second }
    #expect(second?.recorded == ["A2"])
    #expect(second?.letter.invoices.map(\.number) == ["A1", "A2"])
    #expect(second?.letter.costs?.cents == 42_500)
  }

  @Test func aPaymentBetweenRunsDropsThatInvoiceFromTheLetter() {
    let h = InvoiceHistory(deliveries: [sent(.first, "2026-11-09")])
    var paid = inv("A2")
    paid.paid = paid.amount
    let plan = planner.plan(
      invoices: [inv("A1"), paid], histories: ["A1": h, "A2": h], on: d("2026-11-23")
    ) { _, _ in [] }
    #expect(plan.messages.map(\.numbers) == [["A1"]])
    #expect(plan.messages[0].letter.costs?.cents == 22_500)
  }

  @Test func partialPaymentsShowTheOutstandingAmount() {
    let plan = planner.plan(
      invoices: [inv("A1", paid: 50_000), inv("A2")], histories: [:], on: d("2026-11-09")
    ) { _, _ in [] }
    #expect(plan.messages[0].letter.total.cents == 250_000)
  }

  /// Many letters to split (past the in-place path): every part in order, nothing lost.
  @Test func manySplitsKeepTheOrder() {
    let p = Planner(
      policy: Policy(), sender: sender, maxMessageBytes: 1_500_000,
      attachmentSize: { _ in 1_000_000 })
    var invoices: [Invoice] = []
    for c in 1...70 {
      invoices.append(inv("A\(c)", customer: "C\(c)"))
      invoices.append(inv("B\(c)", customer: "C\(c)"))
      if c % 10 == 0 { invoices.append(inv("S\(c)", customer: "Solo\(c)")) }
    }
    let plan = p.plan(invoices: invoices, histories: [:], on: d("2026-11-09")) { _, _ in [] }
    var expected: [[String]] = []
    for c in 1...70 {
      expected += [["A\(c)"], ["B\(c)"]]
      if c % 10 == 0 { expected.append(["S\(c)"]) }
    }
    #expect(plan.messages.map(\.numbers) == expected)
  }

  @Test func largeAttachmentsSplitInAStableOrder() {
    let p = Planner(
      policy: Policy(), sender: sender, maxMessageBytes: 3_000_000,
      attachmentSize: { _ in 1_000_000 })
    let invoices = (1...5).map { inv("A\($0)") }
    let plan = p.plan(invoices: invoices, histories: [:], on: d("2026-11-09")) { _, _ in [] }
    #expect(plan.messages.map(\.numbers) == [["A1", "A2"], ["A3", "A4"], ["A5"]])
  }
}

/// A ledger in memory that remembers the order of events. The runner records on its own thread
/// while the senders (FakeTransport) look at it: every access takes the lock.
final class MemoryLedger: DeliveryLedger, @unchecked Sendable {
  private let lock = NSLock()
  private var _states: [String: DeliveryState] = [:]
  private var _attempts: [NewAttempt] = []
  private var _events: [String] = []
  var states: [String: DeliveryState] { lock.withLock { _states } }
  var events: [String] { lock.withLock { _events } }
  func event(_ e: String) { lock.withLock { _events.append(e) } }
  func begin(_ attempts: [NewAttempt]) throws {
    lock.withLock {
      for a in attempts {
        _states[a.messageKey] = .sending
        _attempts.append(a)
        _events.append("begin \(a.invoices.joined(separator: "+"))")
      }
    }
  }
  func abandon(_ messageKeys: [String]) throws {
    lock.withLock {
      for k in messageKeys where _states[k] == .sending { _states[k] = nil }
      _events.append("abandon \(messageKeys.count)")
    }
  }
  func interruptedDeliveries() throws -> [InterruptedDelivery] {
    lock.withLock {
      _attempts.filter { _states[$0.messageKey] == .sending }.map {
        InterruptedDelivery(
          messageKey: $0.messageKey, invoices: $0.invoices, step: $0.step,
          archivePath: $0.archivePath)
      }
    }
  }
  func finish(_ results: [DeliveryResult]) throws {
    lock.withLock {
      for r in results {
        _states[r.messageKey] = r.state
        _events.append("finish \(r.state.rawValue)")
      }
    }
  }
}

/// A transport that checks the attempt is recorded before it gets the message.
final class FakeTransport: MailTransport {
  let ledger: MemoryLedger
  var outcomes: [DeliveryOutcome]
  var failAfter: Int?
  var received: [[UInt8]] = []
  /// Called as the transport gets each message (before it counts as received).
  var onSend: () -> Void = {}
  init(ledger: MemoryLedger, outcomes: [DeliveryOutcome] = [], failAfter: Int? = nil) {
    self.ledger = ledger
    self.outcomes = outcomes
    self.failAfter = failAfter
  }
  func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome {
    if let f = failAfter, received.count >= f {
      throw TransportError(kind: .unreachable, message: "gone")
    }
    let text = String(decoding: message.prefix(3000), as: UTF8.self)
    let id = text.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }!.dropFirst(
      13
    ).dropLast()
    precondition(ledger.states[String(id)] == .sending, "sent before it was recorded")
    onSend()
    received.append(message)
    ledger.event("send")
    return outcomes.isEmpty ? .accepted(code: 250, reply: "250 ok") : outcomes.removeFirst()
  }
}

@Suite struct NightRunnerTests {
  func templates() throws -> TemplateSet {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return try TemplateSet.load(folder: root.path + "/Templates")
  }

  func runner(
    _ ledger: any DeliveryLedger, _ transport: FakeTransport,
    archive: @escaping @Sendable (String, [UInt8]) throws -> String = { n, _ in n },
    unarchive: @escaping (String) -> Void = { _ in },
    open: (@Sendable (Int) throws(TransportError) -> any MailTransport)? = nil,
    connections: Int = 1
  ) throws -> NightRunner {
    let b = MessageBuilder(
      templates: try templates(), timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
      readAttachment: { _ in [1, 2, 3] })
    if let open {
      return NightRunner(
        builder: b, ledger: ledger, connections: connections, open: open,
        envelopeFrom: sender.email, bcc: ["archief@studiovermeer.nl"], maxPerMinute: 0,
        archive: archive, unarchive: unarchive,
        clock: { Date(timeIntervalSince1970: 1_796_112_000) })
    }
    return NightRunner(
      builder: b, ledger: ledger, transports: [transport], envelopeFrom: sender.email,
      bcc: ["archief@studiovermeer.nl"],
      maxPerMinute: 0, archive: archive, unarchive: unarchive,
      clock: { Date(timeIntervalSince1970: 1_796_112_000) })
  }

  func messages(_ n: Int) -> [PlannedMessage] {
    let plan = Planner(policy: Policy(), sender: sender).plan(
      invoices: (1...n).map { inv("A\($0)", customer: "C\($0)") }, histories: [:],
      on: d("2026-11-09")
    ) { _, _ in [] }
    return plan.messages
  }

  @Test func recordsBeforeSendingAndTalliesOutcomes() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(
      ledger: ledger,
      outcomes: [
        .accepted(code: 250, reply: "ok"), .deferred(code: 451, reply: "later"),
        .rejected(code: 550, reply: "no"), .unknown(reason: "lost"),
      ])
    let tally = try runner(ledger, t).run(messages(4))
    #expect((tally.sent, tally.deferred, tally.rejected, tally.unknown) == (1, 1, 1, 1))
    #expect(ledger.events.prefix(4) == ["begin A1", "begin A2", "begin A3", "begin A4"])
    #expect(t.received.count == 4)
    #expect(tally.needsAttention)
  }

  @Test func bccIsInTheEnvelopeOnlyAndTheArchiveGetsTheExactBytes() throws {
    let ledger = MemoryLedger()
    final class Capture: MailTransport {
      var envelopes: [Envelope] = []
      var bytes: [[UInt8]] = []
      let ledger: MemoryLedger
      init(_ l: MemoryLedger) { ledger = l }
      func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome {
        envelopes.append(envelope)
        bytes.append(message)
        return .accepted(code: 250, reply: "ok")
      }
    }
    let c = Capture(ledger)
    let archived = ArchivedBytes()
    let b = MessageBuilder(
      templates: try templates(), timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
      readAttachment: { _ in [1, 2, 3] })
    let r = NightRunner(
      builder: b, ledger: ledger, transports: [c], envelopeFrom: sender.email,
      bcc: ["archief@studiovermeer.nl"],
      maxPerMinute: 0,
      archive: { n, bytes in
        archived.append(bytes)
        return n
      }, unarchive: { _ in }, clock: { Date() })
    _ = try r.run(messages(1))
    #expect(c.envelopes.first?.recipients == ["klant@example.nl", "archief@studiovermeer.nl"])
    #expect(!String(decoding: c.bytes[0], as: UTF8.self).lowercased().contains("archief@"))
    #expect(archived.all == c.bytes)
  }

  /// The third message meets a lost connection: it is deferred, the fourth (recorded, queued)
  /// is not attempted and its record removed, the third group is never recorded.
  @Test func aConnectionLostMidBatchDefersThatMessageAndStops() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger, failAfter: 2)
    let r = try runner(ledger, t)
    r.messagesPerConnection = 2
    let tally = try r.run(messages(6))
    #expect((tally.sent, tally.deferred, tally.notAttempted) == (2, 1, 1))
    #expect(tally.stoppedEarly == "gone")
    #expect(t.received.count == 2)
    #expect(ledger.states.count == 3)
    #expect(ledger.states.values.filter { $0 == .deferred }.count == 1)
    #expect(tally.attention.contains(.notAttempted(invoices: ["A4"], step: .first)))
  }

  /// The archive fails for a message of the second group (rendered ahead while the first is
  /// on the wire): the first group goes out and is recorded, nothing of the second is recorded
  /// or sent, its other archived file is removed, and the run reports the failure.
  @Test func anArchiveFailureStopsTheRunWithoutRecordingItsGroup() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger)
    let removed = ArchivedBytes()
    let r = try runner(
      ledger, t,
      archive: { name, _ in
        if name.contains("A3-") { throw MessageBuilder.BuildError(description: "disk full") }
        return name
      }, unarchive: { removed.append(Array($0.utf8)) })
    r.messagesPerConnection = 2
    #expect(throws: MessageBuilder.BuildError.self) { try r.run(messages(6)) }
    #expect(ledger.states.count == 2)
    #expect(ledger.states.values.allSatisfy { $0 == .sent })
    #expect(t.received.count == 2)
    let removedNames = removed.all.map { String(decoding: $0, as: UTF8.self) }
    #expect(removedNames.count == 1 && removedNames[0].contains("A4-"), "\(removedNames)")
  }

  /// The ledger fails to record the second group: that group is neither sent nor left in the
  /// archive, the first group's outcomes are still recorded, and the run reports the failure.
  @Test func aLedgerFailureStopsBeforeTheUnrecordedGroup() throws {
    let memory = MemoryLedger()
    let ledger = FailingLedger(memory, failOnBegin: 2)
    let t = FakeTransport(ledger: memory)
    let removed = ArchivedBytes()
    let r = try runner(ledger, t, unarchive: { removed.append(Array($0.utf8)) })
    r.messagesPerConnection = 2
    #expect(throws: FailingLedger.Failure.self) { try r.run(messages(6)) }
    #expect(t.received.count == 2)
    #expect(memory.states.count == 2 && memory.states.values.allSatisfy { $0 == .sent })
    let removedNames = removed.all.map { String(decoding: $0, as: UTF8.self) }
    #expect(
      removedNames.contains { $0.contains("A3-") } && removedNames.contains { $0.contains("A4-") })
  }

  @Test func aServerThatRefusesTheFirstMessageLeavesNothingMarked() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger, failAfter: 0)
    #expect(throws: TransportError.self) { try runner(ledger, t).run(messages(3)) }
    #expect(ledger.states.isEmpty)
  }

  /// 600 a minute on a clock that only moves when the runner sleeps: the messages start at
  /// 0, 0.1 and 0.2 s, and no real time passes.
  @Test func rateLimitSpacesTheMessages() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger)
    let b = MessageBuilder(
      templates: try templates(), timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
      readAttachment: { _ in [1] })
    let r = NightRunner(
      builder: b, ledger: ledger, transports: [t], envelopeFrom: sender.email, bcc: [],
      maxPerMinute: 600,
      archive: { n, _ in n }, unarchive: { _ in }, clock: { Date() })
    r.messagesPerConnection = 1
    let clock = FakeClock(start: 100)
    r.pace = Pace(now: { clock.now }, sleep: { clock.sleep($0) })
    t.onSend = { clock.mark() }
    _ = try r.run(messages(3))
    #expect(clock.marks.map { (($0 - 100) * 1000).rounded() } == [0, 100, 200])
  }

  /// What a message reached is journaled before it happens: recorded before the commit,
  /// started before the transport has it, answered after.
  @Test func theJournalNotesEachMessageBeforeItsTransactionStarts() throws {
    let ledger = MemoryLedger()
    let journal = MemoryJournal()
    _ = journal.begin(bootID: "b1")
    let t = FakeTransport(ledger: ledger)
    t.onSend = {
      let c = journal.contents
      let key = ledger.states.first {
        $0.value == .sending && !(c?.answered.keys.contains($0.key) ?? false)
          && (c?.started.contains($0.key) ?? false)
      }
      #expect(key != nil, "sent before its start was journaled")
    }
    let r = try runner(ledger, t)
    r.journal = journal
    r.messagesPerConnection = 2
    let tally = try r.run(messages(5))
    #expect(tally.sent == 5)
    let c = try #require(journal.contents)
    let keys = Set(ledger.states.keys)
    #expect(c.recorded == keys && c.started == keys && Set(c.answered.keys) == keys)
    #expect(c.answered.values.allSatisfy { $0.state == .sent })
    #expect(Set(c.archived.keys) == keys)
  }

  @Test func aConnectionThatCannotBeOpenedIsLeftOut() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger)
    let given = Given(t)
    let r = try runner(
      ledger, t,
      open: { i throws(TransportError) in
        if i == 1 { throw TransportError(kind: .unreachable, message: "421 too many sessions") }
        return given.transport
      }, connections: 2)
    let tally = try r.run(messages(5))
    #expect(tally.sent == 5)
    #expect(t.received.count == 5)
    #expect(
      tally.attention == [
        .connectionsLeftOut(count: 1, of: 2, reason: "421 too many sessions")
      ])
    #expect(!tally.needsAttention, "all done over the other connection")
  }

  @Test func whenNoConnectionOpensNothingIsMarkedAndTheRunFails() throws {
    let ledger = MemoryLedger()
    let t = FakeTransport(ledger: ledger)
    let removed = ArchivedBytes()
    let r = try runner(
      ledger, t, unarchive: { removed.append(Array($0.utf8)) },
      open: { _ throws(TransportError) in
        throw TransportError(kind: .login, message: "535 authentication failed")
      }, connections: 2)
    #expect(throws: TransportError.self) { try r.run(messages(3)) }
    #expect(ledger.states.isEmpty)
    #expect(t.received.isEmpty)
    #expect(removed.all.count == 3)
  }

  /// A message whose start cannot be journaled is not sent: a recovery would take it for one
  /// that never started.
  @Test func aJournalThatCannotBeWrittenStopsTheNightBeforeTheNextMessage() throws {
    let ledger = MemoryLedger()
    let journal = MemoryJournal()
    _ = journal.begin(bootID: "b1")
    let t = FakeTransport(ledger: ledger)
    t.onSend = { if t.received.count == 1 { journal.failFromNowOn() } }
    let r = try runner(ledger, t)
    r.journal = journal
    r.messagesPerConnection = 3
    #expect(throws: (any Error).self) { try r.run(messages(3)) }
    #expect(t.received.count == 2)
    #expect(ledger.states.values.filter { $0 == .sent }.count == 2)
    #expect(ledger.states.count == 2)
  }
}

/// A clock that moves only when slept on; `mark` notes the time.
final class FakeClock: @unchecked Sendable {
  private let lock = NSLock()
  private var time: Double
  private var _marks: [Double] = []
  init(start: Double) { time = start }
  var now: Double { lock.withLock { time } }
  func sleep(_ s: Double) { lock.withLock { time += s } }
  func mark() { lock.withLock { _marks.append(time) } }
  var marks: [Double] { lock.withLock { _marks } }
}

/// Hands a test's transport to the runner's connection thread.
final class Given: @unchecked Sendable {
  let transport: any MailTransport
  init(_ t: any MailTransport) { transport = t }
}

/// What the runner archived; written from its builder threads.
final class ArchivedBytes: @unchecked Sendable {
  private var items: [[UInt8]] = []
  private let lock = NSLock()
  func append(_ b: [UInt8]) { lock.withLock { items.append(b) } }
  var all: [[UInt8]] { lock.withLock { items } }
}

/// A ledger whose n-th `begin` fails (a full disk, say).
final class FailingLedger: DeliveryLedger {
  struct Failure: Error {}
  let inner: MemoryLedger
  let failOnBegin: Int
  var begins = 0
  init(_ inner: MemoryLedger, failOnBegin: Int) {
    self.inner = inner
    self.failOnBegin = failOnBegin
  }
  func begin(_ attempts: [NewAttempt]) throws {
    begins += 1
    if begins == failOnBegin { throw Failure() }
    try inner.begin(attempts)
  }
  func finish(_ results: [DeliveryResult]) throws { try inner.finish(results) }
  func abandon(_ messageKeys: [String]) throws { try inner.abandon(messageKeys) }
}
