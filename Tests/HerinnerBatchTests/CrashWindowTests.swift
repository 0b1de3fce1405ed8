import Foundation
import HerinnerCore
import Testing

@testable import HerinnerBatch

/// A deterministic generator, so a failing sweep can be replayed.
struct SplitMix {
  var state: UInt64
  mutating func next(_ n: Int) -> Int {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Int((z ^ (z >> 31)) % UInt64(n))
  }
}

/// A night carried out one step at a time, in an order the generator picks, the way the
/// runner's threads would: the recorder performs actions, the renderer prepares, each
/// connection starts, hands over (its end of data) and answers one message at a time, or
/// loses its connection before the end of data. The ledger and the journal are what a
/// kill -9 would leave behind after any step.
struct SimulatedNight {
  let connections: Int
  var machine: GroupCommit
  var work: [GroupCommit.Action] = []
  var ledger: [String: DeliveryState] = [:]
  var journal = JournalContents(bootID: "boot-1")
  var queue: [PreparedMessage] = []
  var rendering: Range<Int>? = nil
  /// Per connection: the message in its transaction, and whether its end of data went out.
  var wire: [Int: (key: String, handedOver: Bool)] = [:]
  /// Messages whose end of data went out: the server may have them.
  var reachedServer: Set<String> = []
  var archive: Set<String> = []
  var answers: [String: DeliveryOutcome] = [:]
  var over = false
  var rng: SplitMix

  init(total: Int, connections: Int, perConnection: Int, seed: UInt64) {
    self.connections = connections
    machine = GroupCommit(
      total: total, connections: connections, messagesPerConnection: perConnection)
    rng = SplitMix(state: seed)
    work = machine.start()
    for _ in 0..<connections { work += machine.connectionOpened() }
  }

  /// One step; false when nothing is left to do.
  mutating func step() -> Bool {
    var moves: [Int] = []
    if !work.isEmpty { moves.append(-1) }
    if rendering != nil { moves.append(-2) }
    for c in 0..<connections where wire[c] != nil || !queue.isEmpty { moves.append(c) }
    guard !moves.isEmpty else { return false }
    let move = moves[rng.next(moves.count)]
    switch move {
    case -1: perform(work.removeFirst())
    case -2:
      let r = rendering!
      rendering = nil
      let group = r.map(message)
      for m in group {
        archive.insert(m.attempt.archivePath!)
        journal.archived[m.attempt.messageKey] = m.attempt.archivePath!
      }
      work += machine.groupPrepared(group, notRendered: [])
    default:
      if let (key, handed) = wire[move], !handed, rng.next(8) > 0 {
        journal.handedOver.insert(key)
        reachedServer.insert(key)
        wire[move] = (key, true)
      } else if let (key, handed) = wire[move], !handed {
        // The connection ended before the end of data: nothing delivered, due next run.
        wire[move] = nil
        let o = DeliveryOutcome.deferred(code: 0, reply: "not sent: the connection ended")
        answers[key] = o
        journal.answered[key] = JournalAnswer(state: o.state, code: o.code, reply: o.reply)
        work += machine.messageAnswered(key, .outcome(o))
      } else if let (key, _) = wire[move] {
        wire[move] = nil
        let pick = rng.next(10)
        let o: DeliveryOutcome =
          pick < 7
          ? .accepted(code: 250, reply: "250 queued")
          : pick < 9
            ? .deferred(code: 451, reply: "later") : .rejected(code: 550, reply: "no such user")
        answers[key] = o
        journal.answered[key] = JournalAnswer(state: o.state, code: o.code, reply: o.reply)
        work += machine.messageAnswered(key, .outcome(o))
      } else {
        let p = queue.removeFirst()
        let key = p.attempt.messageKey
        journal.started.insert(key)
        wire[move] = (key, false)
        work += machine.messageStarted(key)
      }
    }
    return true
  }

  mutating func perform(_ action: GroupCommit.Action) {
    switch action {
    case .prepare(let r): rendering = r
    case .commit(let finishing, let beginning):
      for a in beginning { journal.recorded.insert(a.messageKey) }
      for r in finishing { ledger[r.messageKey] = r.state }
      for a in beginning { ledger[a.messageKey] = .sending }
      work += machine.committed()
    case .enqueue(let group):
      for m in group {
        #expect(ledger[m.attempt.messageKey] == .sending, "enqueued before it was recorded")
      }
      queue += group
    case .withdraw:
      let keys = queue.map(\.attempt.messageKey)
      queue = []
      work += machine.messagesNotAttempted(keys)
    case .unarchive(let paths): for p in paths { archive.remove(p) }
    case .abandon(let keys): for k in keys where ledger[k] == .sending { ledger[k] = nil }
    case .finish(let results): for r in results { ledger[r.messageKey] = r.state }
    case .progress: break
    case .closeQueue: break
    case .done, .refused: over = true
    }
  }

  var interrupted: [InterruptedDelivery] {
    ledger.filter { $0.value == .sending }.keys.sorted().map {
      InterruptedDelivery(
        messageKey: $0, invoices: ["F" + $0.dropFirst()], step: .first,
        archivePath: "a" + $0.dropFirst())
    }
  }

  /// What a kill -9 now, and a recovery on the same boot and after a reboot, would leave.
  func checkCrashHere(perConnection: Int, total: Int) {
    let interrupted = self.interrupted
    let same = RecoveryPlan.decide(
      interrupted: interrupted, journal: journal, currentBoot: "boot-1")
    for d in same.abandon {
      #expect(!reachedServer.contains(d.messageKey), "abandoned \(d.messageKey) after it started")
    }
    #expect(same.unknown.count <= connections, "more unknown than connections")
    for d in same.unknown {
      #expect(reachedServer.contains(d.messageKey), "\(d.messageKey) unknown, never handed over")
    }
    for (d, a) in same.finish {
      #expect(a.state == answers[d.messageKey]?.state)
    }
    // Every message never handed over is due next run: not in the ledger after recovery, or
    // deferred.
    var after = ledger
    for d in same.abandon { after[d.messageKey] = nil }
    for (d, a) in same.finish { after[d.messageKey] = a.state }
    for i in 0..<total where !reachedServer.contains("m\(i)") {
      #expect(
        after["m\(i)"] == nil || after["m\(i)"] == .deferred,
        "m\(i) never handed over but stays \(after["m\(i)"].map(\.rawValue) ?? "")")
    }
    // No archive file is left for a message that never reached a server.
    var files = archive
    for p in same.archivesToRemove { files.remove(p) }
    for i in 0..<total where !reachedServer.contains("m\(i)") {
      #expect(!files.contains("a\(i)"), "a\(i) kept for a message never sent")
    }
    // After a reboot the journal proves nothing: nothing is abandoned, so nothing is sent twice.
    let rebooted = RecoveryPlan.decide(
      interrupted: interrupted, journal: journal, currentBoot: "boot-2")
    #expect(rebooted.abandon.isEmpty && rebooted.finish.isEmpty)
    #expect(rebooted.unknown.count == interrupted.count)
    #expect(interrupted.count <= connections * (perConnection + 1))
  }
}

@Suite struct CrashWindowTests {
  /// A kill -9 after any step of many interleavings: at most one unknown per connection on the
  /// same boot, nothing that had started is abandoned (no duplicate), everything that had not
  /// started is due again and has no archive file; after a reboot no duplicate either.
  @Test(arguments: [(1, 1), (1, 4), (2, 2), (4, 1), (4, 4)])
  func aKillAfterAnyStepLeavesAtMostOneUnknownPerConnection(
    connections: Int, perConnection: Int
  ) {
    let total = 13
    for seed in UInt64(1)...60 {
      var night = SimulatedNight(
        total: total, connections: connections, perConnection: perConnection, seed: seed)
      var steps = 0
      night.checkCrashHere(perConnection: perConnection, total: total)
      while night.step() {
        night.checkCrashHere(perConnection: perConnection, total: total)
        steps += 1
        if steps > 10_000 { break }
      }
      #expect(night.over, "seed \(seed): the night did not end")
      #expect(night.ledger.count == total)
      #expect(!night.ledger.values.contains(.sending))
      #expect(
        night.reachedServer.count + night.ledger.values.filter { $0 == .deferred }.count >= total)
    }
  }
}

@Suite struct RecoveryTests {
  static let journal: JournalContents = {
    var j = JournalContents(bootID: "b1")
    j.recorded = ["m1", "m2", "m3", "m4"]
    j.started = ["m1", "m2", "m3"]
    j.handedOver = ["m1", "m2", "m3"]
    j.answered = [
      "m1": JournalAnswer(state: .sent, code: 250, reply: "250 ok: queued as X1"),
      "m3": JournalAnswer(state: .rejected, code: 550, reply: "550 no such user"),
    ]
    j.archived = ["m1": "a1", "m2": "a2", "m3": "a3", "m4": "a4", "m5": "a5"]
    return j
  }()

  static func d(_ i: Int) -> InterruptedDelivery {
    InterruptedDelivery(
      messageKey: "m\(i)", invoices: ["F\(i)"], step: .first, archivePath: "a\(i)")
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var journal: JournalContents?
    var boot: String?
    var abandon: [Int]
    var finish: [Int]
    var unknown: [Int]
    var strays: [String]
    var testDescription: String { name }
  }

  @Test(arguments: [
    Case(
      name: "same boot: answered are finished, handed over unknown, never started abandoned",
      journal: journal, boot: "b1", abandon: [4], finish: [1, 3], unknown: [2],
      strays: ["a5"]),
    Case(
      name: "after a reboot everything interrupted is unknown", journal: journal, boot: "b2",
      abandon: [], finish: [], unknown: [1, 2, 3, 4], strays: []),
    Case(
      name: "no journal: everything unknown", journal: nil, boot: "b1", abandon: [], finish: [],
      unknown: [1, 2, 3, 4], strays: []),
    Case(
      name: "no boot id: the journal is not trusted", journal: journal, boot: nil, abandon: [],
      finish: [], unknown: [1, 2, 3, 4], strays: []),
  ])
  func decides(_ c: Case) {
    let plan = RecoveryPlan.decide(
      interrupted: (1...4).map(Self.d), journal: c.journal, currentBoot: c.boot)
    #expect(plan.abandon == c.abandon.map(Self.d))
    #expect(plan.finish.map(\.0) == c.finish.map(Self.d))
    #expect(plan.unknown == c.unknown.map(Self.d))
    #expect(plan.strayArchives == c.strays)
  }

  @Test func aDeliveryNotInTheJournalIsUnknownEvenOnTheSameBoot() {
    let plan = RecoveryPlan.decide(
      interrupted: [Self.d(9)], journal: Self.journal, currentBoot: "b1")
    #expect(plan.unknown == [Self.d(9)])
  }

  @Test func resultsKeepTheProofOnlyOfWhatWasSentOrMayHaveBeen() {
    let plan = RecoveryPlan.decide(
      interrupted: (1...4).map(Self.d), journal: Self.journal, currentBoot: "b1")
    let byKey = Dictionary(uniqueKeysWithValues: plan.results.map { ($0.messageKey, $0) })
    #expect(byKey["m1"]?.state == .sent && byKey["m1"]?.archivePath == "a1")
    #expect(byKey["m1"]?.reply == "250 ok: queued as X1")
    #expect(byKey["m3"]?.state == .rejected && byKey["m3"]?.archivePath == nil)
    #expect(byKey["m2"]?.state == .unknown && byKey["m2"]?.archivePath == "a2")
    #expect(byKey["m4"] == nil)
    #expect(Set(plan.archivesToRemove) == ["a3", "a4", "a5"])
  }

  /// The whole recovery against a ledger and a journal store in memory.
  @Test func recoveryRecordsRemovesAndDiscardsTheJournal() throws {
    let ledger = MemoryLedger()
    try ledger.begin((1...4).map { message($0).attempt })
    let store = MemoryJournal()
    let j = store.begin(bootID: "b1")
    try j.recording(["m1", "m2", "m3", "m4"])
    for i in 1...3 {
      try j.started("m\(i)")
      try j.handedOver("m\(i)")
    }
    try j.answered("m1", state: .sent, code: 250, reply: "250 ok")
    let removed = ArchivedBytes()
    let report = try recoverInterruptedRun(
      ledger: ledger, journal: store, currentBoot: "b1",
      unarchive: { removed.append(Array($0.utf8)) })
    #expect(ledger.states == ["m1": .sent, "m2": .unknown, "m3": .unknown])
    #expect(
      Set(removed.all.map { String(decoding: $0, as: UTF8.self) }) == ["a4"])
    #expect(report.journalTrusted)
    #expect(
      report.attention.map(\.description) == [
        "invoice F2 (first): an interrupted send is now unknown; check, then `herinner resolve F2 --stage first --sent|--not-sent`",
        "invoice F3 (first): an interrupted send is now unknown; check, then `herinner resolve F3 --stage first --sent|--not-sent`",
      ])
    #expect(store.previous() == nil)
    // Again: nothing left to do.
    let again = try recoverInterruptedRun(
      ledger: ledger, journal: store, currentBoot: "b1", unarchive: { _ in })
    #expect(again.plan == RecoveryPlan())
  }
}

@Suite struct JournalFormatTests {
  @Test func recordsRoundTripWithAwkwardReplies() {
    var bytes = JournalFormat.header(bootID: "6a1c-boot")
    bytes += JournalFormat.archived("k\t1", "/archief/2026-12-02/F 1.eml")
    bytes += JournalFormat.recording("k\t1")
    bytes += JournalFormat.started("k\t1")
    bytes += JournalFormat.handedOver("k\t1")
    let reply = "250 2.0.0 Ok\r\nqueued \\ as\tX"
    bytes += JournalFormat.answered("k\t1", JournalAnswer(state: .sent, code: 250, reply: reply))
    bytes += JournalFormat.answered("k2", JournalAnswer(state: .unknown, code: nil, reply: ""))
    let c = JournalFormat.parse(bytes)
    #expect(c?.bootID == "6a1c-boot")
    #expect(c?.archived == ["k\t1": "/archief/2026-12-02/F 1.eml"])
    #expect(c?.recorded == ["k\t1"] && c?.started == ["k\t1"] && c?.handedOver == ["k\t1"])
    #expect(c?.answered["k\t1"] == JournalAnswer(state: .sent, code: 250, reply: reply))
    #expect(c?.answered["k2"] == JournalAnswer(state: .unknown, code: nil, reply: ""))
  }

  /// A write cut short by the kill announced something that had not happened yet.
  @Test func aTornLastRecordIsIgnored() {
    let whole = JournalFormat.header(bootID: "b") + JournalFormat.recording("m1")
    let torn = whole + JournalFormat.started("m1").dropLast()
    #expect(JournalFormat.parse(torn)?.started == [])
    #expect(JournalFormat.parse(torn)?.recorded == ["m1"])
  }

  @Test(arguments: [
    "", "not a journal\n", "herinner-journal 2\tb\nX\tm1\n", "herinner-journal 2\tb\nS\n",
    "herinner-journal 2\tb\nA\tm1\tlost\t250\tok\n", "herinner-journal 2\tb\nA\tm1\tsent\tx\tok\n",
    "herinner-journal 2\tb\nS\tm\\q\n", "herinner-journal 2\tb\nD\n",
    // A journal of the version before handed-over records: it cannot tell what reached a server.
    "herinner-journal 1\tb\nR\tm1\nS\tm1\n", "herinner-journal 3\tb\n",
  ])
  func anythingElseIsNotTrusted(_ text: String) {
    #expect(JournalFormat.parse(Array(text.utf8)) == nil)
  }

  @Test func invalidUTF8IsNotTrusted() {
    let bytes = JournalFormat.header(bootID: "b") + [0x53, 0x09, 0xFF, 0x0A]
    #expect(JournalFormat.parse(bytes) == nil)
  }
}

@Suite struct JournalFileTests {
  /// A real file: what one run writes, the next reads back; discard removes it, begin replaces.
  @Test func aRunsJournalIsReadByTheNextAndThenDiscarded() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "herinner-journal-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = JournalFile(path: dir.appendingPathComponent("ledger.sqlite.journal").path)
    #expect(try store.previous() == nil)
    do {
      let j = try store.begin(bootID: "b1")
      try j.archived("m1", path: "/archief/m1.eml")
      try j.recording(["m1", "m2"])
      try j.started("m1")
      try j.answered("m1", state: .sent, code: 250, reply: "250 ok\tX")
    }
    let written = try store.previous()
    let c = try #require(written.flatMap(JournalFormat.parse))
    #expect(c.bootID == "b1" && c.recorded == ["m1", "m2"] && c.started == ["m1"])
    #expect(c.answered["m1"]?.reply == "250 ok\tX")
    _ = try store.begin(bootID: "b2")
    #expect(JournalFormat.parse(try store.previous() ?? [])?.recorded == [])
    try store.discard()
    #expect(try store.previous() == nil)
    try store.discard()
  }

  @Test func theBootIDIsReadFromTheKernel() {
    #expect(BootID.current()?.count == 36)
    #expect(BootID.current(path: "/nonexistent") == nil)
  }
}

/// The fate of one message a killed run left `sending`, by the last thing its journal says.
/// Regression: a message noted as started but killed before its end of data went out (held at
/// MAIL, RCPT or in the body) was `unknown` though no server could hold it; it is due again.
@Suite struct InterruptedFateTests {
  enum Fate: Sendable {
    case abandon, unknown
    case finish(DeliveryState)
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var notes: String
    var boot: String
    var fate: Fate
    var testDescription: String { "\(notes) on \(boot)" }
  }

  static func journal(_ notes: String) -> JournalContents {
    var j = JournalContents(bootID: "b1")
    for n in notes.split(separator: " ") {
      switch n {
      case "R": j.recorded.insert("m")
      case "S": j.started.insert("m")
      case "D": j.handedOver.insert("m")
      case "A250": j.answered["m"] = JournalAnswer(state: .sent, code: 250, reply: "250 ok")
      case "A451": j.answered["m"] = JournalAnswer(state: .deferred, code: 451, reply: "451 later")
      case "A0":
        j.answered["m"] = JournalAnswer(state: .deferred, code: 0, reply: "not sent: lost")
      default: Issue.record("unknown note \(n)")
      }
    }
    return j
  }

  @Test(arguments: [
    Case(notes: "", boot: "b1", fate: .unknown),
    Case(notes: "R", boot: "b1", fate: .abandon),
    Case(notes: "R S", boot: "b1", fate: .abandon),
    Case(notes: "R S A0", boot: "b1", fate: .finish(.deferred)),
    Case(notes: "R S D", boot: "b1", fate: .unknown),
    Case(notes: "R S D A250", boot: "b1", fate: .finish(.sent)),
    Case(notes: "R S D A451", boot: "b1", fate: .finish(.deferred)),
    Case(notes: "R", boot: "b2", fate: .unknown),
    Case(notes: "R S", boot: "b2", fate: .unknown),
    Case(notes: "R S D A250", boot: "b2", fate: .unknown),
  ])
  func followsTheLastNote(_ c: Case) {
    let d = InterruptedDelivery(messageKey: "m", invoices: ["F1"], step: .first, archivePath: "a")
    let plan = RecoveryPlan.decide(
      interrupted: [d], journal: Self.journal(c.notes), currentBoot: c.boot)
    switch c.fate {
    case .abandon:
      #expect(plan.abandon == [d] && plan.unknown.isEmpty && plan.finish.isEmpty)
      #expect(plan.archivesToRemove == ["a"])
    case .unknown:
      #expect(plan.unknown == [d] && plan.abandon.isEmpty && plan.finish.isEmpty)
      #expect(plan.archivesToRemove.isEmpty)
    case .finish(let state):
      #expect(plan.finish.map(\.0) == [d] && plan.finish.map(\.1.state) == [state])
      #expect(plan.archivesToRemove == (state == .sent ? [] : ["a"]))
    }
  }

  /// Regression: after a power loss (a journal of another boot) the archive files of messages
  /// rendered but never recorded stayed; a message goes out only after its record is durable,
  /// so a file whose message the ledger never held proves nothing and is removed.
  @Test func anotherBootStillRemovesFilesOfMessagesNeverRecorded() {
    var j = JournalContents(bootID: "b1")
    j.archived = ["m1": "a1", "m2": "a2", "m3": "a3"]
    j.recorded = ["m1", "m2"]
    j.started = ["m1"]
    j.handedOver = ["m1"]
    let interrupted = [
      InterruptedDelivery(messageKey: "m2", invoices: ["F2"], step: .first, archivePath: "a2")
    ]
    let plan = RecoveryPlan.decide(
      interrupted: interrupted, journal: j, currentBoot: "b2", recorded: ["m1", "m2"])
    #expect(plan.unknown == interrupted)
    #expect(plan.strayArchives == ["a3"])
    // Without the ledger's keys nothing is removed.
    #expect(
      RecoveryPlan.decide(interrupted: interrupted, journal: j, currentBoot: "b2").strayArchives
        .isEmpty)
  }

  /// On the same boot, a file of a message answered `sent` whose record the run had already
  /// finished is kept, even had its handed-over note been lost.
  @Test func aSentMessagesFileIsNeverAStray() {
    var j = JournalContents(bootID: "b1")
    j.archived = ["m1": "a1"]
    j.recorded = ["m1"]
    j.answered = ["m1": JournalAnswer(state: .sent, code: 250, reply: "250 ok")]
    let plan = RecoveryPlan.decide(interrupted: [], journal: j, currentBoot: "b1")
    #expect(plan.strayArchives.isEmpty)
  }

  /// The whole recovery, given a journal of another boot: the ledger's keys are asked for.
  @Test func recoveryAfterAPowerLossAsksTheLedgerWhichFilesBelongToARecord() throws {
    let ledger = MemoryLedger()
    try ledger.begin([message(1).attempt])
    let store = MemoryJournal()
    let j = store.begin(bootID: "b1")
    try j.archived("m1", path: "a1")
    try j.archived("m9", path: "a9")
    try j.recording(["m1"])
    let removed = ArchivedBytes()
    _ = try recoverInterruptedRun(
      ledger: ledger, journal: store, currentBoot: "b2",
      unarchive: { removed.append(Array($0.utf8)) }, recorded: { ["m1"] })
    #expect(ledger.states == ["m1": .unknown])
    #expect(removed.all.map { String(decoding: $0, as: UTF8.self) } == ["a9"])
    #expect(store.previous() == nil)
  }
}

/// Regression: a kill while the renderer wrote a group ahead left archive files (whole, or cut
/// short) that no journal record named, for messages never recorded nor sent. The name is
/// noted before the write, so the recovery removes them.
@Suite struct ArchiveBegunTests {
  @Test(arguments: [
    // (notes for m1, same boot, stray paths, stray names)
    ("I", true, [String](), ["n1"]),
    ("I W", true, ["a1"], []),
    ("I W R S", true, ["a1"], []),
    ("I W R S D", true, [], []),
    ("I", false, [], ["n1"]),
    ("I W", false, ["a1"], []),
    ("I W R", false, [], []),
  ])
  func aFileBegunForAMessageNeverRecordedIsRemoved(
    notes: String, sameBoot: Bool, paths: [String], names: [String]
  ) {
    var j = JournalContents(bootID: "b1")
    for n in notes.split(separator: " ") {
      switch n {
      case "I": j.archiving["m1"] = "n1"
      case "W": j.archived["m1"] = "a1"
      case "R": j.recorded.insert("m1")
      case "S": j.started.insert("m1")
      case "D": j.handedOver.insert("m1")
      default: Issue.record("unknown note \(n)")
      }
    }
    // A message recorded and not finished is `sending`; the ledger knows what was recorded.
    let sending = j.recorded.contains("m1") && !j.handedOver.contains("m1") && !sameBoot
    let interrupted =
      sending
      ? [InterruptedDelivery(messageKey: "m1", invoices: ["F1"], step: .first, archivePath: "a1")]
      : []
    let plan = RecoveryPlan.decide(
      interrupted: interrupted, journal: j, currentBoot: sameBoot ? "b1" : "b2",
      recorded: j.recorded)
    #expect(plan.strayArchives == paths)
    #expect(plan.strayNames == names)
  }

  @Test func theJournalFormatKeepsTheName() {
    let bytes =
      JournalFormat.header(bootID: "b") + JournalFormat.archiving("m1", "2026-12-01/F 1.eml")
    #expect(JournalFormat.parse(bytes)?.archiving == ["m1": "2026-12-01/F 1.eml"])
  }
}
