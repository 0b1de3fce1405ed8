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

  public var needsAttention: Bool {
    deferred + rejected + unknown + notRendered > 0 || stoppedEarly != nil
  }
}

/// Carries out the night's messages: build, archive, record `sending`, send, record the outcome.
///
/// Messages go in groups of one per connection: the group's `sending` records are committed in
/// one durable transaction before any of its messages is handed to a server (a group commit that
/// keeps the crash-safety guarantee), the group is sent in parallel, and its outcomes are
/// committed together. Memory is bounded by the group, not by the batch.
public final class NightRunner {
  public let builder: MessageBuilder
  public let ledger: any DeliveryLedger
  public let transports: [any MailTransport]
  public let envelopeFrom: String
  public let bcc: [String]
  /// Messages per minute at most (0: no limit).
  public let maxPerMinute: Int
  /// Writes the exact bytes; returns the path recorded in the ledger.
  public let archive: (_ name: String, _ bytes: [UInt8]) throws -> String
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
    bcc: [String], maxPerMinute: Int, archive: @escaping (String, [UInt8]) throws -> String,
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

  /// Archive name: `2026-0101/2026-12-01-first-<token>.eml` (resends say so).
  static func archiveName(_ m: PlannedMessage, messageID: String, resend: Bool) -> String {
    let number = m.numbers[0].map {
      $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_"
    }
    let token = messageID.split(separator: ".").dropLast().last.map(String.init) ?? "m"
    let tokenSafe = String(token.filter { $0.isLetter || $0.isNumber }.prefix(16))
    return
      "\(String(number))/\(m.letter.date.iso)-\(m.step.rawValue)\(resend ? "-resend" : "")-\(tokenSafe).eml"
  }

  /// Sends `messages`; `resend` marks them as resends (not auto-generated, never a new step).
  /// Renders a group on every core and writes its archive files (not yet recorded).
  func prepare(
    _ take: [PlannedMessage], resend: Bool, recipientsOverride: [String]?, tally: inout RunTally
  ) throws -> [Prepared] {
    guard !take.isEmpty else { return [] }
    let date = clock()
    let builder = self.builder
    let built = BuiltSlots(count: take.count)
    DispatchQueue.concurrentPerform(iterations: take.count) { i in
      let m = take[i]
      do {
        built.set(
          i,
          .success(
            try builder.build(
              m.letter, to: recipientsOverride ?? m.recipients, date: date, inReplyTo: m.inReplyTo,
              references: m.references, autoSubmitted: !resend)))
      } catch {
        built.set(i, .failure(MessageBuilder.BuildError(description: "\(error)")))
      }
    }
    var batch: [Prepared] = []
    for (i, m) in take.enumerated() {
      let recipients = recipientsOverride ?? m.recipients
      let b: MessageBuilder.Built
      switch built.get(i) {
      case .success(let ok): b = ok
      case .failure(let error):
        tally.notRendered += 1
        tally.problems.append(
          "invoice \(m.numbers.joined(separator: ", ")): not rendered, not sent: \(error)")
        continue
      }
      let key = String(b.message.messageID.dropFirst().dropLast())
      let path = try archive(
        Self.archiveName(m, messageID: b.message.messageID, resend: resend), b.bytes)
      let attempt = NewAttempt(
        messageKey: key, invoices: m.numbers, step: m.step, isResend: resend,
        runDate: m.letter.date,
        deadline: m.letter.deadline, costs: m.letter.costs?.cents, recipients: recipients,
        messageID: b.message.messageID, inReplyTo: m.inReplyTo, archivePath: path)
      batch.append(Prepared(planned: m, attempt: attempt, bytes: b.bytes))
    }
    return batch
  }

  /// Sends a prepared group on the connections, in the background; `wait()` gives the outcomes.
  func startSending(_ batch: [Prepared]) -> (DispatchGroup, Outcomes) {
    let outcomes = Outcomes(count: batch.count)
    let envelopeFrom = self.envelopeFrom
    let bcc = self.bcc
    // Each connection is used by exactly one sender thread at a time.
    let transports = ExclusiveUse(self.transports)
    let connections = min(transports.items.count, batch.count)
    let done = DispatchGroup()
    // Connection c sends messages c, c + n, c + 2n, … of the group, in order.
    for c in 0..<connections {
      done.enter()
      DispatchQueue.global().async {
        defer { done.leave() }
        var i = c
        var failed: TransportError? = nil
        while i < batch.count {
          let p = batch[i]
          if let failed {
            // This connection is gone: the rest of its share was not delivered.
            outcomes.set(i, .failure(failed))
          } else {
            let envelope = Envelope(from: envelopeFrom, recipients: p.attempt.recipients + bcc)
            do throws(TransportError) {
              outcomes.set(i, .success(try transports.items[c].send(p.bytes, envelope: envelope)))
            } catch {
              failed = error
              outcomes.set(i, .failure(error))
            }
          }
          i += connections
        }
      }
    }
    return (done, outcomes)
  }

  /// Sends `messages`; `resend` marks them as resends (not auto-generated, never a new step).
  ///
  /// A pipeline: while one group is on the wire, the next is rendered and archived; it is
  /// recorded as `sending` (durably) just before it goes out, so every message is durable before
  /// its DATA starts and a crash leaves at most one group `unknown`.
  public func run(
    _ messages: [PlannedMessage], resend: Bool = false, recipientsOverride: [String]? = nil
  ) throws -> RunTally {
    var tally = RunTally()
    let group = transports.count * max(1, messagesPerConnection)
    var index = 0
    let start = clock()
    var sentCount = 0
    func nextSlice() -> [PlannedMessage] {
      let take = Array(messages[index..<min(index + group, messages.count)])
      index += take.count
      return take
    }
    var next: [Prepared] = []
    while next.isEmpty && index < messages.count {
      next = try prepare(
        nextSlice(), resend: resend, recipientsOverride: recipientsOverride, tally: &tally)
    }
    while !next.isEmpty {
      let batch = next
      next = []
      // Rate limit: message k may not start before start + k × 60/maxPerMinute seconds.
      if maxPerMinute > 0 {
        let earliest = start.addingTimeInterval(Double(sentCount) * 60 / Double(maxPerMinute))
        let wait = earliest.timeIntervalSince(clock())
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
      }
      // The archived bytes and the `sending` records are durable before any DATA starts. Only
      // this group is recorded ahead of its sending: a crash leaves at most one group unknown.
      flushArchive()
      try ledger.begin(batch.map(\.attempt))
      let (done, outcomes) = startSending(batch)
      // Meanwhile: the next group.
      var prepareError: (any Error)? = nil
      do {
        while next.isEmpty && index < messages.count {
          next = try prepare(
            nextSlice(), resend: resend, recipientsOverride: recipientsOverride, tally: &tally)
        }
      } catch {
        prepareError = error
      }
      done.wait()
      sentCount += batch.count

      let failedWhole = (0..<batch.count).allSatisfy {
        if case .failure = outcomes.get($0) { return true } else { return false }
      }
      if failedWhole, tally.sent + tally.deferred + tally.rejected + tally.unknown == 0,
        case .failure(let first) = outcomes.get(0)
      {
        // The server refused the session before the run's first message got anywhere: undo this
        // group's records (the next one is not recorded yet), so the run marks nothing.
        try ledger.abandon(batch.map(\.attempt.messageKey))
        for p in batch + next { if let path = p.attempt.archivePath { unarchive(path) } }
        throw first
      }
      var results: [DeliveryResult] = []
      for (i, p) in batch.enumerated() {
        let outcome: DeliveryOutcome
        switch outcomes.get(i) {
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
            reply: outcome.reply,
            archivePath: keepArchive ? p.attempt.archivePath : nil))
        let who =
          "invoice \(p.planned.numbers.joined(separator: ", ")) (\(p.planned.step.rawValue))"
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
          tally.problems.append(
            "\(who): unknown (\(outcome.reply)); check, then `herinner resolve`")
        }
      }
      try ledger.finish(results)
      progress(sentCount, messages.count)
      if let prepareError { throw prepareError }
      if tally.stoppedEarly != nil {
        // The group rendered behind this one was never recorded nor sent.
        for p in next { if let path = p.attempt.archivePath { unarchive(path) } }
        next = []
      }
    }
    return tally
  }
}

/// Results written by the parallel senders, read after they all finished.
final class Outcomes: @unchecked Sendable {
  private var values: [Result<DeliveryOutcome, TransportError>?]
  private let lock = NSLock()
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ v: Result<DeliveryOutcome, TransportError>) {
    lock.lock()
    values[i] = v
    lock.unlock()
  }
  func get(_ i: Int) -> Result<DeliveryOutcome, TransportError> {
    lock.lock()
    defer { lock.unlock() }
    return values[i] ?? .failure(TransportError(kind: .other, message: "no outcome"))
  }
}

/// Hands each connection to one thread: index i belongs to sender i alone.
struct ExclusiveUse: @unchecked Sendable {
  let items: [any MailTransport]
  init(_ items: [any MailTransport]) { self.items = items }
}

/// Messages built in parallel, read after all builders finished.
final class BuiltSlots: @unchecked Sendable {
  private var values: [Result<MessageBuilder.Built, MessageBuilder.BuildError>?]
  private let lock = NSLock()
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ v: Result<MessageBuilder.Built, MessageBuilder.BuildError>) {
    lock.lock()
    values[i] = v
    lock.unlock()
  }
  func get(_ i: Int) -> Result<MessageBuilder.Built, MessageBuilder.BuildError> {
    lock.lock()
    defer { lock.unlock() }
    return values[i] ?? .failure(MessageBuilder.BuildError(description: "not built"))
  }
}
