import Foundation
import HerinnerCore
import HerinnerLetters
import Testing

@testable import HerinnerBatch

/// Everything a kill -9 would leave behind, changed one operation at a time under one lock (a
/// ledger transaction, a journal write, a message handed to a server are each atomic), with a
/// copy taken after every operation: each copy is what one kill at that moment leaves.
final class FrozenWorld: @unchecked Sendable {
  struct Snapshot {
    var states: [String: DeliveryState]
    var attempts: [String: NewAttempt]
    var journal: [UInt8]
    var reached: Set<String>
  }
  private let lock = NSLock()
  private var states: [String: DeliveryState] = [:]
  private var attempts: [String: NewAttempt] = [:]
  private var journal = JournalFormat.header(bootID: "b1")
  private var reached: Set<String> = []
  private var _snapshots: [Snapshot] = []
  /// Checked by the test: recorded on the runner's threads, where no test context is.
  var violations: [String] = []
  var snapshots: [Snapshot] { lock.withLock { _snapshots } }
  var finalStates: [String: DeliveryState] { lock.withLock { states } }
  var lockedViolations: [String] { lock.withLock { violations } }

  func change(_ body: (FrozenWorld) -> Void) {
    lock.withLock {
      body(self)
      _snapshots.append(
        Snapshot(states: states, attempts: attempts, journal: journal, reached: reached))
    }
  }

  final class Ledger: DeliveryLedger {
    let world: FrozenWorld
    init(_ w: FrozenWorld) { world = w }
    func begin(_ a: [NewAttempt]) throws { try commit(finishing: [], beginning: a) }
    func finish(_ r: [DeliveryResult]) throws { try commit(finishing: r, beginning: []) }
    func abandon(_ keys: [String]) throws {
      world.change { w in for k in keys where w.states[k] == .sending { w.states[k] = nil } }
    }
    func commit(finishing results: [DeliveryResult], beginning attempts: [NewAttempt]) throws {
      world.change { w in
        for r in results { w.states[r.messageKey] = r.state }
        for a in attempts {
          w.states[a.messageKey] = .sending
          w.attempts[a.messageKey] = a
        }
      }
    }
  }

  struct Journal: DeliveryJournal {
    let world: FrozenWorld
    func append(_ b: [UInt8]) { world.change { $0.journal += b } }
    func archiving(_ key: String, name: String) { append(JournalFormat.archiving(key, name)) }
    func archived(_ key: String, path: String) { append(JournalFormat.archived(key, path)) }
    func recording(_ keys: [String]) { append(keys.flatMap(JournalFormat.recording)) }
    func started(_ key: String) { append(JournalFormat.started(key)) }
    func handedOver(_ key: String) { append(JournalFormat.handedOver(key)) }
    func answered(_ key: String, state: DeliveryState, code: Int?, reply: String) {
      append(JournalFormat.answered(key, JournalAnswer(state: state, code: code, reply: reply)))
    }
  }

  /// A connection: the message reaches the server, a moment passes, the server says 250.
  final class Connection: MailTransport {
    let world: FrozenWorld
    var seed: UInt64
    init(_ w: FrozenWorld, seed: UInt64) {
      world = w
      self.seed = seed
    }
    func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome {
      let text = String(decoding: message.prefix(3000), as: UTF8.self)
      let id =
        text.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: <") }?
        .dropFirst(13).dropLast() ?? ""
      world.change { w in
        if w.states[String(id)] != .sending { w.violations.append("\(id) sent before recorded") }
        w.reached.insert(String(id))
      }
      var g = SplitMix(state: seed)
      seed &+= 1
      usleep(UInt32(g.next(400)))
      return .accepted(code: 250, reply: "250 ok")
    }
  }
}

@Suite struct RunnerCrashTests {
  /// The real runner, its threads and its journal: a kill after any one operation leaves at
  /// most one unknown per connection on the same boot, abandons nothing that reached the
  /// server, and leaves every message that had not been handed over due for the next run.
  @Test(arguments: [(1, 1), (1, 4), (4, 1), (4, 4)])
  func aKillAfterAnyOperationOfTheRealRunnerStaysInTheBound(
    connections: Int, perConnection: Int
  ) throws {
    let world = FrozenWorld()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let builder = MessageBuilder(
      templates: try TemplateSet.load(folder: root.path + "/Templates"),
      timeZone: TimeZone(identifier: "Europe/Amsterdam")!, readAttachment: { _ in [1, 2, 3] })
    let r = NightRunner(
      builder: builder, ledger: FrozenWorld.Ledger(world), connections: connections,
      open: { i throws(TransportError) in FrozenWorld.Connection(world, seed: UInt64(i)) },
      envelopeFrom: sender.email, bcc: [], maxPerMinute: 0, archive: { n, _ in n },
      unarchive: { _ in }, clock: { Date(timeIntervalSince1970: 1_796_112_000) })
    r.journal = FrozenWorld.Journal(world: world)
    r.messagesPerConnection = perConnection
    let total = 24
    let plan = Planner(policy: Policy(), sender: sender).plan(
      invoices: (1...total).map { inv("A\($0)", customer: "C\($0)") }, histories: [:],
      on: d("2026-11-09")
    ) { _, _ in [] }
    let tally = try r.run(plan.messages)
    #expect(tally.sent == total)
    #expect(world.finalStates.values.allSatisfy { $0 == .sent })
    #expect(world.lockedViolations.isEmpty)

    let snapshots = world.snapshots
    #expect(snapshots.count > total * 3)
    for s in snapshots {
      let interrupted = s.attempts.values.filter { s.states[$0.messageKey] == .sending }.map {
        InterruptedDelivery(
          messageKey: $0.messageKey, invoices: $0.invoices, step: $0.step,
          archivePath: $0.archivePath)
      }
      let journal = JournalFormat.parse(s.journal)
      #expect(journal != nil)
      let same = RecoveryPlan.decide(
        interrupted: interrupted, journal: journal, currentBoot: "b1")
      #expect(same.unknown.count <= connections)
      for a in same.abandon { #expect(!s.reached.contains(a.messageKey), "a duplicate") }
      // Only what was journaled as handed over may stay unknown; the rest is due next run.
      // (Between the note and the end of data it counts as handed over: within the one per
      // connection.)
      var after = s.states
      for a in same.abandon { after[a.messageKey] = nil }
      for a in same.unknown { after[a.messageKey] = .unknown }
      let handedOver = journal?.handedOver ?? []
      for (key, state) in after where !handedOver.contains(key) {
        #expect(state != .sending && state != .unknown, "\(key) never handed over, not due")
      }
      let rebooted = RecoveryPlan.decide(
        interrupted: interrupted, journal: journal, currentBoot: "b2")
      #expect(rebooted.abandon.isEmpty)
      #expect(interrupted.count <= connections * (perConnection + 1))
    }
  }
}
