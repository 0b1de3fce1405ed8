import HerinnerCore
import Testing

@testable import HerinnerBatch

/// Message i of a test night: key `m<i>`, archive file `a<i>`, invoice `F<i>`.
func message(_ i: Int) -> PreparedMessage {
  PreparedMessage(
    attempt: NewAttempt(
      messageKey: "m\(i)", invoices: ["F\(i)"], step: .first, isResend: false,
      runDate: CalendarDate(parsing: "2026-12-02")!, deadline: nil, costs: nil,
      recipients: ["klant@example.nl"], messageID: "<m\(i)>", inReplyTo: nil,
      archivePath: "a\(i)"),
    bytes: [])
}

struct Refused: Error, CustomStringConvertible {
  var description: String { "disk full" }
}

/// What happens to the machine in a test, in the words of the test.
enum Happening: CustomStringConvertible, Sendable {
  case prepared(Range<Int>, notRendered: [Int] = [])
  case prepFailed(archived: [Int])
  case committed, commitFailed
  case opened, openFailed
  case started(Int)
  case answered(Int, DeliveryOutcome)
  case failed(Int)
  case notAttempted([Int])

  var description: String {
    switch self {
    case .prepared(let r, _): return "prepared \(r)"
    case .prepFailed: return "prepFailed"
    case .committed: return "committed"
    case .commitFailed: return "commitFailed"
    case .opened: return "opened"
    case .openFailed: return "openFailed"
    case .started(let i): return "started m\(i)"
    case .answered(let i, _): return "answered m\(i)"
    case .failed(let i): return "failed m\(i)"
    case .notAttempted(let i): return "notAttempted \(i)"
    }
  }

  func apply(_ m: inout GroupCommit) -> [GroupCommit.Action] {
    switch self {
    case .prepared(let r, let not):
      return m.groupPrepared(
        r.filter { !not.contains($0) }.map(message),
        notRendered: not.map { .notRendered(invoices: ["F\($0)"], reason: "no template") })
    case .prepFailed(let archived):
      return m.preparationFailed(Refused(), archived: archived.map { "a\($0)" })
    case .committed: return m.committed()
    case .commitFailed: return m.commitFailed(Refused())
    case .opened: return m.connectionOpened()
    case .openFailed:
      return m.connectionFailed(TransportError(kind: .unreachable, message: "421 busy"))
    case .started(let i): return m.messageStarted("m\(i)")
    case .answered(let i, let o): return m.messageAnswered("m\(i)", .outcome(o))
    case .failed(let i):
      return m.messageAnswered(
        "m\(i)", .failed(TransportError(kind: .unreachable, message: "gone")))
    case .notAttempted(let i): return m.messagesNotAttempted(i.map { "m\($0)" })
    }
  }
}

/// One line per action, short enough to read a whole night in a table.
func line(_ a: GroupCommit.Action) -> String {
  func keys(_ r: [DeliveryResult]) -> String {
    r.map { "\($0.messageKey):\($0.state.rawValue)" }.joined(separator: ",")
  }
  switch a {
  case .prepare(let r): return "prepare \(r.lowerBound)-\(r.upperBound)"
  case .commit(let f, let b):
    return "commit [\(keys(f))] [\(b.map(\.messageKey).joined(separator: ","))]"
  case .enqueue(let g): return "enqueue \(g.map(\.attempt.messageKey).joined(separator: ","))"
  case .withdraw: return "withdraw"
  case .unarchive(let p): return "unarchive \(p.joined(separator: ","))"
  case .abandon(let k): return "abandon \(k.joined(separator: ","))"
  case .finish(let r): return "finish [\(keys(r))]"
  case .progress(let d, let t): return "progress \(d)/\(t)"
  case .closeQueue: return "close"
  case .done(let t, let e):
    return
      "done sent \(t.sent) deferred \(t.deferred) rejected \(t.rejected) unknown \(t.unknown) notAttempted \(t.notAttempted) notRendered \(t.notRendered)"
      + (e.map { " error \($0)" } ?? "")
  case .refused(let t, let e): return "refused \(t.message)" + (e.map { " error \($0)" } ?? "")
  }
}

let ok = DeliveryOutcome.accepted(code: 250, reply: "250 ok")

struct Scenario: CustomTestStringConvertible, Sendable {
  var name: String
  var total: Int
  var connections = 1
  var perConnection = 2
  var steps: [Happening]
  var expected: [String]
  var testDescription: String { name }
}

let scenarios: [Scenario] = [
  Scenario(
    name: "three messages, one connection: each group recorded before it is queued",
    total: 3,
    steps: [
      .opened, .prepared(0..<2), .committed, .prepared(2..<3), .started(0), .answered(0, ok),
      .started(1), .committed, .answered(1, ok), .started(2), .answered(2, ok),
    ],
    expected: [
      "prepare 0-2",
      "commit [] [m0,m1]", "prepare 2-3",
      "enqueue m0,m1",
      // m2 waited while the queue held two; recorded as soon as m0 left it.
      "commit [] [m2]",
      "enqueue m2",
      "finish [m0:sent,m1:sent,m2:sent]", "progress 3/3", "close",
      "done sent 3 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 0",
    ]),
  Scenario(
    name: "a lost connection defers its message; the queued rest is withdrawn and removed",
    total: 4, perConnection: 4,
    steps: [
      .opened, .prepared(0..<4), .committed, .started(0), .answered(0, ok), .started(1),
      .failed(1), .notAttempted([2, 3]),
    ],
    expected: [
      "prepare 0-4",
      "commit [] [m0,m1,m2,m3]",
      "enqueue m0,m1,m2,m3",
      "unarchive a1", "withdraw",
      "finish [m0:sent,m1:deferred]", "progress 2/4", "unarchive a2,a3", "abandon m2,m3",
      "close",
      "done sent 1 deferred 1 rejected 0 unknown 0 notAttempted 2 notRendered 0",
    ]),
  Scenario(
    name: "a server that refuses the first message: every record undone, nothing marked",
    total: 3, perConnection: 4,
    steps: [
      .prepared(0..<3), .committed, .opened, .started(0), .failed(0), .notAttempted([1, 2]),
    ],
    expected: [
      "prepare 0-3", "commit [] [m0,m1,m2]", "enqueue m0,m1,m2", "unarchive a0", "withdraw",
      "unarchive a1,a2", "abandon m0,m1,m2", "close", "refused gone",
    ]),
  Scenario(
    name: "no connection opens: the recorded group is abandoned and the run refused",
    total: 2, connections: 2, perConnection: 1,
    steps: [.prepared(0..<2), .committed, .openFailed, .openFailed, .notAttempted([0, 1])],
    expected: [
      "prepare 0-2", "commit [] [m0,m1]", "enqueue m0,m1", "withdraw", "unarchive a0,a1",
      "abandon m0,m1", "close", "refused 421 busy",
    ]),
  Scenario(
    name: "one of two connections does not open: the night goes on over the other",
    total: 2, connections: 2, perConnection: 1,
    steps: [
      .prepared(0..<2), .openFailed, .committed, .opened, .started(0), .answered(0, ok),
      .started(1), .answered(1, ok),
    ],
    expected: [
      "prepare 0-2", "commit [] [m0,m1]", "enqueue m0,m1", "finish [m0:sent,m1:sent]",
      "progress 2/2", "close",
      "done sent 2 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 0",
    ]),
  Scenario(
    name: "the ledger fails to record a group: none of it goes out, its files go, the queue drains",
    total: 4,
    steps: [
      .opened,
      .prepared(0..<2), .committed, .prepared(2..<4), .started(0), .answered(0, ok),
      .started(1), .commitFailed, .answered(1, ok),
    ],
    expected: [
      "prepare 0-2", "commit [] [m0,m1]", "prepare 2-4", "enqueue m0,m1",
      "commit [m0:sent] [m2,m3]", "unarchive a2,a3", "finish [m0:sent,m1:sent]",
      "progress 2/4", "close",
      "done sent 2 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 0 error disk full",
    ]),
  Scenario(
    name: "archiving fails for the second group: its files go, the first still goes out",
    total: 4,
    steps: [
      .opened, .prepared(0..<2), .committed, .prepFailed(archived: [3]), .started(0),
      .answered(0, ok),
      .started(1), .answered(1, ok),
    ],
    expected: [
      "prepare 0-2", "commit [] [m0,m1]", "prepare 2-4", "enqueue m0,m1", "unarchive a3",
      "finish [m0:sent,m1:sent]", "progress 2/4", "close",
      "done sent 2 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 0 error disk full",
    ]),
  Scenario(
    name: "a letter that cannot be rendered is reported and the rest goes",
    total: 2,
    steps: [
      .opened, .prepared(0..<2, notRendered: [0]), .committed, .started(1), .answered(1, ok),
    ],
    expected: [
      "prepare 0-2", "commit [] [m1]", "enqueue m1", "finish [m1:sent]", "progress 1/2",
      "close", "done sent 1 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 1",
    ]),
  Scenario(
    name: "refusals and deferrals keep no archive file, an unknown keeps it",
    total: 3, perConnection: 3,
    steps: [
      .opened,
      .prepared(0..<3), .committed, .started(0), .answered(0, .rejected(code: 550, reply: "no")),
      .started(1), .answered(1, .deferred(code: 451, reply: "later")), .started(2),
      .answered(2, .unknown(reason: "lost after the data")),
    ],
    expected: [
      "prepare 0-3", "commit [] [m0,m1,m2]", "enqueue m0,m1,m2", "unarchive a0", "unarchive a1",
      "finish [m0:rejected,m1:deferred,m2:unknown]", "progress 3/3", "close",
      "done sent 0 deferred 1 rejected 1 unknown 1 notAttempted 0 notRendered 0",
    ]),
  Scenario(
    name: "a group recorded while the night stopped is never queued",
    total: 4, perConnection: 2,
    steps: [
      .opened,
      .prepared(0..<2), .committed, .prepared(2..<4), .started(0), .answered(0, ok),
      .started(1), .failed(1), .committed,
    ],
    expected: [
      "prepare 0-2", "commit [] [m0,m1]", "prepare 2-4", "enqueue m0,m1",
      "commit [m0:sent] [m2,m3]", "unarchive a1", "progress 1/4", "finish [m1:deferred]",
      "progress 2/4", "unarchive a2,a3", "abandon m2,m3", "close",
      "done sent 1 deferred 1 rejected 0 unknown 0 notAttempted 2 notRendered 0",
    ]),
]

@Suite struct GroupCommitTests {
  @Test(arguments: scenarios) func actions(_ s: Scenario) {
    var m = GroupCommit(
      total: s.total, connections: s.connections, messagesPerConnection: s.perConnection)
    var got = m.start().map(line)
    for step in s.steps { got += step.apply(&m).map(line) }
    #expect(got == s.expected)
    #expect(m.isOver)
  }

  @Test func anEmptyNightIsDoneAtOnce() {
    var m = GroupCommit(total: 0, connections: 2, messagesPerConnection: 4)
    #expect(m.start().isEmpty)
    #expect(m.connectionOpened().isEmpty, "the night ends when every connection has reported")
    #expect(
      m.connectionOpened().map(line) == [
        "close", "done sent 0 deferred 0 rejected 0 unknown 0 notAttempted 0 notRendered 0",
      ])
  }

  @Test func aStoppedNightCountsAndNamesWhatItNeverTried() {
    var m = GroupCommit(total: 3, connections: 1, messagesPerConnection: 3)
    var actions = m.start()
    for step: Happening in [
      .opened, .prepared(0..<3), .committed, .started(0), .failed(0), .notAttempted([1, 2]),
    ] {
      actions += step.apply(&m)
    }
    // m0's failure came after no verdict: refused, nothing counted.
    #expect(actions.map(line).last?.hasPrefix("refused") == true, "\(actions.map(line))")
    #expect(actions.map(line).contains("abandon m0,m1,m2"), "\(actions.map(line))")
    #expect(!actions.map(line).contains { $0.hasPrefix("done") })
    // With a verdict first:
    var n = GroupCommit(total: 3, connections: 1, messagesPerConnection: 3)
    actions = n.start()
    for step: Happening in [
      .opened, .prepared(0..<3), .committed, .started(0), .answered(0, ok), .started(1), .failed(1),
      .notAttempted([2]),
    ] {
      actions += step.apply(&n)
    }
    guard case .done(let tally, nil) = actions.last else {
      Issue.record("not done: \(actions.map(line))")
      return
    }
    #expect(tally.notAttempted == 1)
    #expect(tally.stoppedEarly == "gone")
    #expect(tally.attention.contains(.notAttempted(invoices: ["F2"], step: .first)))
    #expect(tally.problems.contains("invoice F1 (first): deferred, retried next run: gone"))
  }

  @Test func connectionsLeftOutAreReported() {
    var m = GroupCommit(total: 1, connections: 3, messagesPerConnection: 1)
    var actions = m.start()
    for step: Happening in [
      .openFailed, .prepared(0..<1), .openFailed, .committed, .opened, .started(0),
      .answered(0, ok),
    ] {
      actions += step.apply(&m)
    }
    guard case .done(let tally, nil) = actions.last else {
      Issue.record("not done: \(actions.map(line))")
      return
    }
    #expect(tally.attention == [.connectionsLeftOut(count: 2, of: 3, reason: "421 busy")])
    #expect(tally.sent == 1)
  }
}
