import Foundation
import HerinnerBounces
import HerinnerCore
import HerinnerLetters
import Synchronization

/// Spaces the messages of a night: message k may not start before start + k × 60/perMinute
/// seconds. The clock and the sleep are injected, so a test needs no real time.
public struct Pace: Sendable {
  /// Seconds on a monotonic clock.
  public var now: @Sendable () -> Double
  public var sleep: @Sendable (_ seconds: Double) -> Void
  public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) -> Void) {
    self.now = now
    self.sleep = sleep
  }

  public static let realTime = Pace(
    now: { ProcessInfo.processInfo.systemUptime }, sleep: { Thread.sleep(forTimeInterval: $0) })

  /// Pure: how long message `k` (0-based, in send order) must still wait at `now`.
  public static func wait(message k: Int, start: Double, now: Double, perMinute: Int) -> Double {
    guard perMinute > 0 else { return 0 }
    return max(0, start + Double(k) * 60 / Double(perMinute) - now)
  }
}

/// Carries out the night's messages: build, archive, record `sending`, send, record the outcome.
///
/// The decisions are `GroupCommit`'s (which records are committed when, what may go out, what
/// is undone); this class only runs its actions on threads: one renders and archives a group
/// ahead on every core, one per connection sends, and the caller's thread records. Memory is
/// bounded by the queue, not by the batch.
public final class NightRunner {
  public let builder: MessageBuilder
  public let ledger: any DeliveryLedger
  public let envelopeFrom: String
  /// Each message's envelope sender gets a `+tag` naming its delivery (`smtp.tagEnvelope`).
  public var tagEnvelope = false
  public let bcc: [String]
  /// Messages per minute at most (0: no limit).
  public let maxPerMinute: Int
  /// Writes the exact bytes; returns the path recorded in the ledger. Called from several
  /// threads at once (each message is archived by the thread that built it).
  public let archive: @Sendable (_ name: String, _ bytes: [UInt8]) throws -> String
  /// Makes the group's archive writes durable (one flush for the group).
  public var flushArchive: () throws -> Void = {}
  /// Messages prepared and committed together per connection (group commit).
  public var messagesPerConnection = 4
  /// Removes an archived copy of a message that did not go out.
  public let unarchive: (String) -> Void
  public let clock: () -> Date
  /// Called after each group with (done, total).
  public var progress: (Int, Int) -> Void = { _, _ in }
  /// Notes what each message reached, for the recovery after a crash.
  public var journal: any DeliveryJournal = NoJournal()
  /// The rate limiter's clock and sleep.
  public var pace: Pace = .realTime
  /// How many connections the night may use.
  public let connections: Int
  /// Opens connection `i` (0-based), on the thread that will use it alone. A connection that
  /// cannot be opened is left out; only when none opens does the run fail.
  public let open: @Sendable (Int) throws(TransportError) -> any MailTransport

  /// - Parameters:
  ///   - connections: how many connections to open (at least 1).
  ///   - open: opens one connection; called once per connection, each on its own thread.
  public init(
    builder: MessageBuilder, ledger: any DeliveryLedger, connections: Int,
    open: @escaping @Sendable (Int) throws(TransportError) -> any MailTransport,
    envelopeFrom: String, bcc: [String], maxPerMinute: Int,
    archive: @escaping @Sendable (String, [UInt8]) throws -> String,
    unarchive: @escaping (String) -> Void, clock: @escaping () -> Date
  ) {
    self.builder = builder
    self.ledger = ledger
    self.connections = max(1, connections)
    self.open = open
    self.envelopeFrom = envelopeFrom
    self.bcc = bcc
    self.maxPerMinute = maxPerMinute
    self.archive = archive
    self.unarchive = unarchive
    self.clock = clock
  }

  /// Over connections that are already made (they connect on their first message).
  public convenience init(
    builder: MessageBuilder, ledger: any DeliveryLedger, transports: [any MailTransport],
    envelopeFrom: String,
    bcc: [String], maxPerMinute: Int,
    archive: @escaping @Sendable (String, [UInt8]) throws -> String,
    unarchive: @escaping (String) -> Void, clock: @escaping () -> Date
  ) {
    precondition(!transports.isEmpty)
    let given = GivenConnections(transports)
    self.init(
      builder: builder, ledger: ledger, connections: transports.count,
      open: { i throws(TransportError) in given.items[i] }, envelopeFrom: envelopeFrom,
      bcc: bcc, maxPerMinute: maxPerMinute, archive: archive, unarchive: unarchive, clock: clock)
  }

  /// Archive name: `2026-12-01/2026-0101-first-<token>.eml` (resends say so). One folder per
  /// night: a night's proofs together, and no folder to create per invoice.
  static func archiveName(
    _ m: PlannedMessage, date: CalendarDate, token: String, resend: Bool
  ) -> String {
    let number = m.numbers[0].map {
      $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_"
    }
    let tokenSafe = String(token.filter { $0.isLetter || $0.isNumber }.prefix(16))
    return
      "\(date.iso)/\(String(number))-\(m.step.rawValue)\(resend ? "-resend" : "")-\(tokenSafe).eml"
  }

  /// What the threads tell the recording thread.
  enum Event: Sendable {
    case prepared([PreparedMessage], notRendered: [Attention])
    case preparationFailed(any Error, archived: [String])
    case opened
    case openFailed(TransportError)
    case started(String)
    case notAttempted([String])
    case journalFailed(String, any Error)
    case answered(String, SendResult)
  }

  /// Sends `messages`; `resend` marks them as resends (not auto-generated, never a new step).
  ///
  /// Every message is durable as `sending`, and journaled as started, before its transaction
  /// starts; one fsync per group. A kill leaves at most one message per connection journaled
  /// as started without a verdict: `recoverInterruptedRun` on the same boot makes only those
  /// unknown. Messages a stopped night never tried are removed from the ledger (due again).
  ///
  /// Throws the `TransportError` when the night stopped on the transport before any server
  /// verdict (no connection opened, or the first messages failed): then nothing is marked.
  public func run(
    _ messages: [PlannedMessage], resend: Bool = false, recipientsOverride: [String]? = nil
  ) throws -> RunTally {
    var machine = GroupCommit(
      total: messages.count, connections: connections,
      messagesPerConnection: messagesPerConnection)
    let inbox = BlockingQueue<Event>()
    let queue = BlockingQueue<PreparedMessage>()
    let requests = BlockingQueue<(Range<Int>, Date)>()
    let stopping = Flag()
    let threads = DispatchGroup()

    let renderer = Renderer(
      builder: builder, archive: archive, journal: journal, messages: messages, resend: resend,
      recipientsOverride: recipientsOverride)
    threads.enter()
    Thread.detachNewThread {
      defer { threads.leave() }
      while let (range, date) = requests.take() { inbox.put(renderer.prepare(range, date: date)) }
    }

    let sender = ConnectionWork(
      envelopeFrom: envelopeFrom, tagEnvelope: tagEnvelope, bcc: bcc, journal: journal,
      pace: pace,
      maxPerMinute: maxPerMinute, start: pace.now(), sequence: Counter())
    let open = self.open
    for c in 0..<connections {
      threads.enter()
      Thread.detachNewThread {
        defer { threads.leave() }
        let transport: any MailTransport
        do throws(TransportError) {
          transport = try open(c)
        } catch {
          inbox.put(.openFailed(error))
          return
        }
        inbox.put(.opened)
        while let p = queue.take() {
          sender.send(p, over: transport, stopping: stopping, report: inbox.put)
        }
      }
    }

    var work = machine.start()
    var outcome: Result<RunTally, any Error>? = nil
    var recordError: (any Error)? = nil
    while outcome == nil {
      while !work.isEmpty {
        let action = work.removeFirst()
        switch action {
        case .prepare(let range):
          requests.put((range, clock()))
        case .commit(let finishing, let beginning):
          // A failed note only makes these unknown after a crash; `started` then fails too.
          try? journal.recording(beginning.map(\.messageKey))
          do {
            // The archived bytes, then the records, are durable before any of them goes out.
            // A failed flush is a failed commit: the group is not recorded and never goes out.
            try flushArchive()
            try ledger.commit(finishing: finishing, beginning: beginning)
            work += machine.committed()
          } catch {
            work += machine.commitFailed(error)
          }
        case .enqueue(let group):
          queue.put(contentsOf: group)
        case .withdraw:
          stopping.set()
          work += machine.messagesNotAttempted(queue.drain().map(\.attempt.messageKey))
        case .unarchive(let paths):
          for p in paths { unarchive(p) }
        case .abandon(let keys):
          if !keys.isEmpty {
            do { try ledger.abandon(keys) } catch { recordError = recordError ?? error }
          }
        case .finish(let results):
          do { try ledger.finish(results) } catch { recordError = recordError ?? error }
        case .progress(let done, let total):
          progress(done, total)
        case .closeQueue:
          queue.close()
          requests.close()
        case .done(let tally, let error):
          if let e = error ?? recordError {
            outcome = .failure(e)
          } else {
            outcome = .success(tally)
          }
        case .refused(let refusal, let error):
          outcome = .failure(error ?? recordError ?? refusal)
        }
      }
      guard outcome == nil, let event = inbox.take() else { break }
      work = apply(event, to: &machine)
    }
    queue.close()
    requests.close()
    threads.wait()
    switch outcome {
    case .success(let tally): return tally
    case .failure(let e): throw e
    case nil: preconditionFailure("the group commit ended without an outcome")
    }
  }

  private func apply(_ event: Event, to m: inout GroupCommit) -> [GroupCommit.Action] {
    switch event {
    case .prepared(let group, let notRendered): m.groupPrepared(group, notRendered: notRendered)
    case .preparationFailed(let e, let archived): m.preparationFailed(e, archived: archived)
    case .opened: m.connectionOpened()
    case .openFailed(let e): m.connectionFailed(e)
    case .started(let key): m.messageStarted(key)
    case .notAttempted(let keys): m.messagesNotAttempted(keys)
    case .journalFailed(let key, let e): m.journalFailed(key, e)
    case .answered(let key, let result): m.messageAnswered(key, result)
    }
  }
}

/// Renders and archives a group on every core (on the rendering thread).
struct Renderer: Sendable {
  let builder: MessageBuilder
  let archive: @Sendable (String, [UInt8]) throws -> String
  let journal: any DeliveryJournal
  let messages: [PlannedMessage]
  let resend: Bool
  let recipientsOverride: [String]?

  enum Slot: Sendable {
    case built(PreparedMessage)
    case notBuilt(String)
    case archiveFailed(any Error)
  }

  func prepare(_ range: Range<Int>, date: Date) -> NightRunner.Event {
    let slots = Slots(count: range.count)
    DispatchQueue.concurrentPerform(iterations: range.count) { i in
      slots.set(i, build(messages[range.lowerBound + i], date: date))
    }
    var group: [PreparedMessage] = []
    var notRendered: [Attention] = []
    var failure: (any Error)? = nil
    for (i, m) in zip(0..., messages[range]) {
      switch slots.get(i) {
      case .built(let p): group.append(p)
      case .notBuilt(let why): notRendered.append(.notRendered(invoices: m.numbers, reason: why))
      case .archiveFailed(let e): failure = failure ?? e
      }
    }
    if let failure {
      // Nothing of this group is recorded: its files prove nothing.
      return .preparationFailed(failure, archived: group.compactMap(\.attempt.archivePath))
    }
    return .prepared(group, notRendered: notRendered)
  }

  private func build(_ m: PlannedMessage, date: Date) -> Slot {
    let letter = m.letter
    let recipients = recipientsOverride ?? m.recipients
    let b: MessageBuilder.Built
    do {
      b = try builder.build(
        letter, to: recipients, date: date, inReplyTo: m.inReplyTo, references: m.references,
        autoSubmitted: !resend)
    } catch {
      return .notBuilt("\(error)")
    }
    let key = String(b.message.messageID.dropFirst().dropLast())
    let name = NightRunner.archiveName(
      m, date: letter.date, token: b.token, resend: resend)
    // So that a recovery can remove the file, whole or cut short, if the run dies before
    // recording it. A failed note leaves at most a stray file; the failure itself shows at
    // `started`.
    try? journal.archiving(key, name: name)
    let path: String
    do {
      path = try archive(name, b.bytes)
    } catch {
      return .archiveFailed(error)
    }
    try? journal.archived(key, path: path)
    let attempt = NewAttempt(
      messageKey: key, invoices: m.numbers,
      step: m.step, isResend: resend, runDate: letter.date, deadline: letter.deadline,
      costs: letter.costs?.cents, recipients: recipients, messageID: b.message.messageID,
      inReplyTo: m.inReplyTo, archivePath: path)
    return .built(PreparedMessage(attempt: attempt, bytes: b.bytes))
  }
}

/// One connection's part: pace, journal, send, report.
struct ConnectionWork: Sendable {
  let envelopeFrom: String
  let tagEnvelope: Bool
  let bcc: [String]
  let journal: any DeliveryJournal
  let pace: Pace
  let maxPerMinute: Int
  let start: Double
  let sequence: Counter

  /// `local+tag@domain` (RFC 5233 subaddressing): a bounce sent to it names its delivery by the
  /// message's first invoice and its step, even when it quotes nothing of the original.
  static func tagged(_ address: String, _ attempt: NewAttempt) -> String {
    guard let invoice = attempt.invoices.first, let at = address.lastIndex(of: "@") else {
      return address
    }
    let tag = EnvelopeTag.make(invoice: invoice, step: attempt.step)
    return address[..<at] + "+" + tag + address[at...]
  }

  func send(
    _ p: PreparedMessage, over transport: any MailTransport, stopping: Flag,
    report: (NightRunner.Event) -> Void
  ) {
    let key = p.attempt.messageKey
    guard !stopping.isSet else { return report(.notAttempted([key])) }
    let wait = Pace.wait(
      message: sequence.next(), start: start, now: pace.now(), perMinute: maxPerMinute)
    if wait > 0 { pace.sleep(wait) }
    // A server can hold the message only from its end of data (RFC 5321 §4.1.1.4): "handed
    // over" is noted just before it goes out, so at most one message per connection is in doubt.
    do { try journal.started(key) } catch { return report(.journalFailed(key, error)) }
    report(.started(key))
    let envelope = Envelope(
      from: tagEnvelope ? Self.tagged(envelopeFrom, p.attempt) : envelopeFrom,
      recipients: p.attempt.recipients + bcc)
    let result: SendResult
    do throws(TransportError) {
      result = .outcome(
        try transport.send(p.bytes, envelope: envelope) { try journal.handedOver(key) })
    } catch {
      result = .failed(error)
    }
    switch result {
    case .outcome(let o):
      try? journal.answered(key, state: o.state, code: o.code, reply: o.reply)
    case .failed(let e):
      // The night stops on a failed connection: no connection takes another message (the group
      // commit decides the same when this report arrives, maybe after the next take).
      stopping.set()
      // As the group commit records it: nothing delivered, tried again next run.
      try? journal.answered(key, state: .deferred, code: 0, reply: e.message)
    }
    report(.answered(key, result))
  }
}

/// Messages built in parallel, read after all builders finished.
final class Slots: Sendable {
  private let values: Mutex<[Renderer.Slot?]>
  init(count: Int) { values = Mutex(Array(repeating: nil, count: count)) }
  func set(_ i: Int, _ v: Renderer.Slot) { values.withLock { $0[i] = v } }
  func get(_ i: Int) -> Renderer.Slot { values.withLock { $0[i] } ?? .notBuilt("not built") }
}

final class Flag: Sendable {
  private let value = Atomic(false)
  var isSet: Bool { value.load(ordering: .acquiring) }
  func set() { value.store(true, ordering: .releasing) }
}

final class Counter: Sendable {
  private let value = Atomic(0)
  /// 0, 1, 2, … across threads.
  func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// Connections made by the caller: connection i is used by sender thread i alone.
private final class GivenConnections: @unchecked Sendable {
  let items: [any MailTransport]
  init(_ items: [any MailTransport]) { self.items = items }
}
