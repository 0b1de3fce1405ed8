import Foundation
import HerinnerCore
import HerinnerLetters

/// Counts of what a run did, for the summary and the exit code.
public struct RunTally: Sendable, Codable {
  public var sent = 0
  public var deferred = 0
  public var rejected = 0
  public var unknown = 0
  public var notRendered = 0
  public var sentInvoices = 0
  /// One line per message that needs a person: rejected, unknown, not rendered.
  public var problems: [String] = []
  /// The transport failed mid-batch; the rest waits for the next run.
  public var stoppedEarly: String?

  public init() {}

  /// Adds another tally's counts and problems to this one.
  public mutating func add(_ o: RunTally) {
    sent += o.sent
    deferred += o.deferred
    rejected += o.rejected
    unknown += o.unknown
    notRendered += o.notRendered
    sentInvoices += o.sentInvoices
    problems += o.problems
    stoppedEarly = stoppedEarly ?? o.stoppedEarly
  }

  public var needsAttention: Bool {
    deferred + rejected + unknown + notRendered > 0 || stoppedEarly != nil
  }
}

/// Carries out the night's messages: build, archive, record `sending`, send, record the outcome.
///
/// Messages are rendered and recorded in groups: a group's `sending` records are committed in
/// one durable transaction (with the outcomes of the messages sent meanwhile) before any of its
/// messages is handed to a server, a group commit that keeps the crash-safety guarantee; the
/// connections take messages from a bounded queue. Memory is bounded by the queue, not by the
/// batch.
public final class NightRunner {
  public let builder: MessageBuilder
  public let ledger: any DeliveryLedger
  public let transports: [any MailTransport]
  public let envelopeFrom: String
  public let bcc: [String]
  /// Messages per minute at most (0: no limit).
  public let maxPerMinute: Int
  /// Writes the exact bytes; returns the path recorded in the ledger. Called from several
  /// threads at once (each message is archived by the thread that built it).
  public let archive: @Sendable (_ name: String, _ bytes: [UInt8]) throws -> String
  /// Makes the group's archive writes durable (one flush for the group).
  public var flushArchive: () -> Void = {}
  /// Messages prepared and committed together per connection (group commit).
  public var messagesPerConnection = 4
  /// Removes an archived copy of a message that did not go out.
  public let unarchive: (String) -> Void
  public let clock: () -> Date
  /// Called after each group with (done, total).
  public var progress: (Int, Int) -> Void = { _, _ in }

  public init(
    builder: MessageBuilder, ledger: any DeliveryLedger, transports: [any MailTransport],
    envelopeFrom: String,
    bcc: [String], maxPerMinute: Int,
    archive: @escaping @Sendable (String, [UInt8]) throws -> String,
    unarchive: @escaping (String) -> Void, clock: @escaping () -> Date
  ) {
    precondition(!transports.isEmpty)
    self.builder = builder
    self.ledger = ledger
    self.transports = transports
    self.envelopeFrom = envelopeFrom
    self.bcc = bcc
    self.maxPerMinute = maxPerMinute
    self.archive = archive
    self.unarchive = unarchive
    self.clock = clock
  }

  struct Prepared: Sendable {
    var planned: PlannedMessage
    var attempt: NewAttempt
    var bytes: [UInt8]
  }

  /// Archive name: `2026-12-01/2026-0101-first-<token>.eml` (resends say so). One folder per
  /// night: a night's proofs together, and no folder to create per invoice (making a folder per
  /// message was a tenth of a night's CPU: Benchmarks/RESULTS.md).
  static func archiveName(
    _ m: PlannedMessage, date: CalendarDate, messageID: String, resend: Bool
  ) -> String {
    let number = m.numbers[0].map {
      $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_"
    }
    let token = messageID.split(separator: ".").dropLast().last.map(String.init) ?? "m"
    let tokenSafe = String(token.filter { $0.isLetter || $0.isNumber }.prefix(16))
    return
      "\(date.iso)/\(String(number))-\(m.step.rawValue)\(resend ? "-resend" : "")-\(tokenSafe).eml"
  }

  /// Renders a group on every core; each message is archived by the thread that built it (the
  /// files are not yet recorded: `run` records the group just before it goes out).
  func prepare(
    _ take: [PlannedMessage], resend: Bool, recipientsOverride: [String]?, tally: inout RunTally
  ) throws -> [Prepared] {
    guard !take.isEmpty else { return [] }
    let date = clock()
    let builder = self.builder
    let archive = self.archive
    let built = BuiltSlots(count: take.count)
    DispatchQueue.concurrentPerform(iterations: take.count) { i in
      let m = take[i]
      let letter = m.letter
      let b: MessageBuilder.Built
      do {
        b = try builder.build(
          letter, to: recipientsOverride ?? m.recipients, date: date, inReplyTo: m.inReplyTo,
          references: m.references, autoSubmitted: !resend)
      } catch {
        built.set(i, .notBuilt("\(error)"))
        return
      }
      do {
        let path = try archive(
          Self.archiveName(
            m, date: letter.date, messageID: b.message.messageID, resend: resend), b.bytes)
        built.set(i, .built(b.message.messageID, b.bytes, archivePath: path, letter))
      } catch {
        built.set(i, .archiveFailed(error))
      }
    }
    var batch: [Prepared] = []
    var archiveError: (any Error)? = nil
    for (i, m) in take.enumerated() {
      let recipients = recipientsOverride ?? m.recipients
      switch built.get(i) {
      case .notBuilt(let why):
        tally.notRendered += 1
        tally.problems.append(
          "invoice \(m.numbers.joined(separator: ", ")): not rendered, not sent: \(why)")
      case .archiveFailed(let error):
        archiveError = archiveError ?? error
      case .built(let messageID, let bytes, let path, let letter):
        let attempt = NewAttempt(
          messageKey: String(messageID.dropFirst().dropLast()), invoices: m.numbers, step: m.step,
          isResend: resend, runDate: letter.date, deadline: letter.deadline,
          costs: letter.costs?.cents, recipients: recipients, messageID: messageID,
          inReplyTo: m.inReplyTo, archivePath: path)
        batch.append(Prepared(planned: m, attempt: attempt, bytes: bytes))
      }
    }
    if let archiveError {
      // Nothing of this group is recorded: its files prove nothing, remove them.
      for p in batch { if let path = p.attempt.archivePath { unarchive(path) } }
      throw archiveError
    }
    return batch
  }

  /// Sends `messages`; `resend` marks them as resends (not auto-generated, never a new step).
  ///
  /// A pipeline that keeps every connection busy: one sender thread per connection takes
  /// messages from a bounded queue, while this thread renders and archives the next group (on
  /// every core) and then, in one durable transaction, records the outcomes that came back and
  /// the next group as `sending`, before that group enters the queue. So every message is
  /// durable before its DATA starts, there is one fsync per group, and a crash leaves at most the
  /// queue and the messages on the wire `unknown` (connections × (messagesPerConnection + 1)).
  public func run(
    _ messages: [PlannedMessage], resend: Bool = false, recipientsOverride: [String]? = nil
  ) throws -> RunTally {
    var tally = RunTally()
    let group = transports.count * max(1, messagesPerConnection)
    let pipe = SendPipeline(capacity: group)
    let start = Date()  // the rate limit is in real time, not the letters' date
    let envelopeFrom = self.envelopeFrom
    let bcc = self.bcc
    let interval = maxPerMinute > 0 ? 60 / Double(maxPerMinute) : 0
    let senders = DispatchGroup()
    let connections = ExclusiveUse(transports)
    for c in transports.indices {
      senders.enter()
      Thread.detachNewThread {
        defer { senders.leave() }
        while let (p, k) = pipe.take() {
          if let stopped = pipe.stopped {
            // A connection failed: the rest of the queue is not attempted (next run).
            pipe.report(p, .failure(stopped))
            continue
          }
          // Rate limit: message k may not start before start + k × 60/maxPerMinute seconds.
          if interval > 0 {
            let wait = start.addingTimeInterval(Double(k) * interval).timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
          }
          let envelope = Envelope(from: envelopeFrom, recipients: p.attempt.recipients + bcc)
          do throws(TransportError) {
            pipe.report(p, .success(try connections.items[c].send(p.bytes, envelope: envelope)))
          } catch {
            pipe.report(p, .failure(error))
          }
        }
      }
    }
    // Rendering and archiving run ahead on their own thread, one group at a time, so the
    // archive flush and the ledger's fsync of one group overlap the rendering of the next.
    let handoff = PreparedHandoff()
    let producer = Producer(runner: self)
    let producing = DispatchGroup()
    producing.enter()
    Thread.detachNewThread {
      defer { producing.leave() }
      var local = RunTally()
      var index = 0
      while index < messages.count && !handoff.isStopped {
        let take = Array(messages[index..<min(index + group, messages.count)])
        index += take.count
        do {
          let g = try producer.runner.prepare(
            take, resend: resend, recipientsOverride: recipientsOverride, tally: &local)
          if !g.isEmpty { handoff.put(g) }
        } catch {
          handoff.fail(error)
          break
        }
      }
      handoff.finish(local)
    }
    var begun: [Prepared] = []  // recorded as sending, outcome not yet committed
    var settled = 0
    var carried: [SendPipeline.Outcome] = []
    var failure: (any Error)? = nil
    while let pending = handoff.take() {
      let (outcomes, stopped) = pipe.waitForRoom(pending.count)
      if stopped {
        // Not recorded, not sent: its archive files prove nothing.
        for p in pending { if let path = p.attempt.archivePath { unarchive(path) } }
        carried = outcomes
        break
      }
      var counted = RunTally()
      let results = settle(outcomes, &counted)
      do {
        // The archived bytes, then the records, are durable before any DATA of this group.
        flushArchive()
        try ledger.commit(finishing: results, beginning: pending.map(\.attempt))
      } catch {
        failure = error
        for p in pending { if let path = p.attempt.archivePath { unarchive(path) } }
        carried = outcomes  // recorded (and counted) with the rest at the end
        break
      }
      tally.add(counted)
      settled += results.count
      let done = Set(outcomes.map(\.prepared.attempt.messageKey))
      begun.removeAll { done.contains($0.attempt.messageKey) }
      begun += pending
      if !results.isEmpty { progress(settled, messages.count) }
      pipe.push(pending)
    }
    handoff.stop()
    producing.wait()
    for p in handoff.leftovers() { if let path = p.attempt.archivePath { unarchive(path) } }
    let produced = handoff.result
    tally.notRendered += produced.tally.notRendered
    tally.problems = produced.tally.problems + tally.problems
    if failure == nil { failure = produced.error }
    pipe.close()
    senders.wait()
    let rest = carried + pipe.takeAll()
    if let stopped = pipe.stopped, settled == 0,
      !rest.contains(where: { if case .success = $0.result { true } else { false } })
    {
      // The server refused the session before the run's first message got anywhere: undo the
      // records, so the run marks nothing.
      try ledger.abandon(begun.map(\.attempt.messageKey))
      for p in begun { if let path = p.attempt.archivePath { unarchive(path) } }
      if let failure { throw failure }
      throw stopped
    }
    let results = settle(rest, &tally)
    try ledger.finish(results)
    settled += results.count
    progress(settled, messages.count)
    if let stopped = pipe.stopped { tally.stoppedEarly = stopped.message }
    if let failure { throw failure }
    return tally
  }

  /// Turns outcomes into ledger results and counts them; removes the archive copy of a message
  /// that provably did not go out.
  func settle(_ outcomes: [SendPipeline.Outcome], _ tally: inout RunTally) -> [DeliveryResult] {
    var results: [DeliveryResult] = []
    for (p, result) in outcomes {
      let outcome: DeliveryOutcome
      switch result {
      case .success(let o): outcome = o
      case .failure(let e):
        // The server could not be used: nothing of this message was delivered.
        outcome = .deferred(code: 0, reply: e.message)
        tally.stoppedEarly = e.message
      }
      let keepArchive = outcome.state == .sent || outcome.state == .unknown
      if !keepArchive, let path = p.attempt.archivePath { unarchive(path) }
      results.append(
        DeliveryResult(
          messageKey: p.attempt.messageKey, state: outcome.state, replyCode: outcome.code,
          reply: outcome.reply, archivePath: keepArchive ? p.attempt.archivePath : nil))
      let who = "invoice \(p.planned.numbers.joined(separator: ", ")) (\(p.planned.step.rawValue))"
      switch outcome.state {
      case .sent:
        tally.sent += 1
        tally.sentInvoices += p.planned.numbers.count
      case .deferred:
        tally.deferred += 1
        tally.problems.append("\(who): deferred, retried next run: \(outcome.reply)")
      case .rejected:
        tally.rejected += 1
        tally.problems.append("\(who): rejected by the server, not retried: \(outcome.reply)")
      default:
        tally.unknown += 1
        tally.problems.append("\(who): unknown (\(outcome.reply)); check, then `herinner resolve`")
      }
    }
    return results
  }
}

/// Lets the rendering thread call `prepare`: during a run the runner's builder, archive and
/// clock are only read.
struct Producer: @unchecked Sendable {
  let runner: NightRunner
}

/// Hands rendered groups from the rendering thread to the recording thread, one at a time.
final class PreparedHandoff: @unchecked Sendable {
  private let cond = NSCondition()
  private var waiting: [NightRunner.Prepared]? = nil
  private var stopped = false
  private var finished = false
  private var left: [NightRunner.Prepared] = []
  private var error: (any Error)? = nil
  private var tally = RunTally()

  var isStopped: Bool { cond.withLock { stopped } }

  /// Blocks while the previous group has not been taken; after `stop` the group is left over.
  func put(_ group: [NightRunner.Prepared]) {
    cond.withLock {
      while waiting != nil && !stopped { cond.wait() }
      if stopped {
        left += group
      } else {
        waiting = group
      }
      cond.broadcast()
    }
  }

  /// The next group; nil once the rendering thread has finished and nothing waits.
  func take() -> [NightRunner.Prepared]? {
    cond.lock()
    defer { cond.unlock() }
    while waiting == nil && !finished { cond.wait() }
    let g = waiting
    waiting = nil
    cond.broadcast()
    return g
  }

  func fail(_ e: any Error) { cond.withLock { error = e } }

  func finish(_ t: RunTally) {
    cond.withLock {
      tally = t
      finished = true
      cond.broadcast()
    }
  }

  func stop() {
    cond.withLock {
      stopped = true
      if let w = waiting { left += w }
      waiting = nil
      cond.broadcast()
    }
  }

  /// Groups rendered and archived but never recorded (the run stopped first).
  func leftovers() -> [NightRunner.Prepared] { cond.withLock { left } }

  var result: (tally: RunTally, error: (any Error)?) { cond.withLock { (tally, error) } }
}

/// The queue between the recording thread and the sender threads, and the outcomes back.
final class SendPipeline: @unchecked Sendable {
  typealias Outcome = (
    prepared: NightRunner.Prepared, result: Result<DeliveryOutcome, TransportError>
  )
  private let cond = NSCondition()
  private var queue: [NightRunner.Prepared] = []
  private var head = 0
  private var taken = 0
  private var closed = false
  private var outcomes: [Outcome] = []
  private var firstFailure: TransportError? = nil
  let capacity: Int

  init(capacity: Int) { self.capacity = max(1, capacity) }

  var stopped: TransportError? { cond.withLock { firstFailure } }

  func push(_ items: [NightRunner.Prepared]) {
    cond.withLock {
      if head == queue.count {
        queue.removeAll(keepingCapacity: true)
        head = 0
      }
      queue += items
      cond.broadcast()
    }
  }

  /// The next message and its place in the night's send order; nil when closed and drained.
  func take() -> (NightRunner.Prepared, Int)? {
    cond.lock()
    defer { cond.unlock() }
    while head == queue.count && !closed { cond.wait() }
    guard head < queue.count else { return nil }
    let p = queue[head]
    head += 1
    taken += 1
    cond.broadcast()
    return (p, taken - 1)
  }

  func report(_ p: NightRunner.Prepared, _ r: Result<DeliveryOutcome, TransportError>) {
    cond.withLock {
      outcomes.append((p, r))
      if case .failure(let e) = r, firstFailure == nil { firstFailure = e }
      cond.broadcast()
    }
  }

  /// Waits until `count` more messages fit in the queue, or a connection failed; returns the
  /// outcomes reported so far and whether the night has stopped, atomically: outcomes returned
  /// with `false` hold no failure.
  func waitForRoom(_ count: Int) -> ([Outcome], Bool) {
    cond.lock()
    defer { cond.unlock() }
    while queue.count - head + count > capacity && firstFailure == nil { cond.wait() }
    let out = outcomes
    outcomes = []
    return (out, firstFailure != nil)
  }

  func close() {
    cond.withLock {
      closed = true
      cond.broadcast()
    }
  }

  func takeAll() -> [Outcome] {
    cond.withLock {
      let out = outcomes
      outcomes = []
      return out
    }
  }
}

/// Hands each connection to one thread: index i belongs to sender i alone.
struct ExclusiveUse: @unchecked Sendable {
  let items: [any MailTransport]
  init(_ items: [any MailTransport]) { self.items = items }
}

/// Messages built in parallel, read after all builders finished.
final class BuiltSlots: @unchecked Sendable {
  enum Slot {
    case built(String, [UInt8], archivePath: String, Letter)
    case notBuilt(String)
    case archiveFailed(any Error)
  }
  private var values: [Slot?]
  private let lock = NSLock()
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ v: Slot) {
    lock.lock()
    values[i] = v
    lock.unlock()
  }
  func get(_ i: Int) -> Slot {
    lock.lock()
    defer { lock.unlock() }
    return values[i] ?? .notBuilt("not built")
  }
}
