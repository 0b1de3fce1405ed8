import HerinnerCore

/// One message ready to go: its `sending` record and its exact (archived) bytes.
public struct PreparedMessage: Sendable {
  public var attempt: NewAttempt
  public var bytes: [UInt8]
  public init(attempt: NewAttempt, bytes: [UInt8]) {
    self.attempt = attempt
    self.bytes = bytes
  }
}

/// What became of one message a connection took.
public enum SendResult: Sendable {
  /// The server's verdict.
  case outcome(DeliveryOutcome)
  /// The connection could not be used for it: nothing of it was delivered.
  case failed(TransportError)
}

/// The group commit of a night, as a pure state machine: which records are due when, which
/// messages may go out, what is undone when the night stops. Events in, actions out; no
/// threads, no clock, no I/O. `NightRunner` carries out the actions.
///
/// Invariants (the tests step through them):
/// - a message is enqueued only after the commit that records it as `sending` succeeded;
/// - only messages that provably never reached a server are abandoned: never taken by a
///   connection, or, when the night stopped on a transport failure before any server verdict,
///   failed by the transport (which delivers nothing when it throws);
/// - at most `capacity` messages wait in the queue, so a crash leaves at most
///   connections × (messagesPerConnection + 1) deliveries without a recorded outcome.
struct GroupCommit {
  enum Action {
    /// Render and archive these planned messages (by index), then report `groupPrepared`.
    case prepare(Range<Int>)
    /// Journal `beginning` as being recorded, then record in one durable transaction; report
    /// `committed` or `commitFailed`.
    case commit(finishing: [DeliveryResult], beginning: [NewAttempt])
    /// Hand these recorded messages to the connections.
    case enqueue([PreparedMessage])
    /// The night stopped on the transport: take back what no connection has taken yet, and
    /// report it as `notAttempted`.
    case withdraw
    /// Remove these archive files: they prove no delivery (never handed over, or refused).
    case unarchive([String])
    /// Remove these records: they provably never reached a server.
    case abandon([String])
    /// Record these outcomes (the last ones of the night).
    case finish([DeliveryResult])
    case progress(done: Int, total: Int)
    /// No more messages: let the connections end.
    case closeQueue
    /// The night is over; `error` is what stopped it, if anything but the transport did.
    case done(RunTally, error: (any Error)?)
    /// Nothing reached a server and nothing is marked: the run fails with this.
    case refused(TransportError, error: (any Error)?)
  }

  private enum Stop {
    /// A connection failed: withdraw the queue.
    case transport(TransportError)
    /// Rendering, archiving, the journal or the ledger failed: no new group; what is queued
    /// still goes out.
    case failure(any Error)
  }

  let total: Int
  let groupSize: Int
  let connections: Int
  let capacity: Int

  private var next = 0
  private var preparing = false
  private var held: [PreparedMessage]? = nil
  private var committing: [PreparedMessage]? = nil
  private var committingResults: [DeliveryResult] = []
  private var queued = 0
  /// Recorded as `sending`, no outcome committed yet: key → attempt.
  private var begun: [String: NewAttempt] = [:]
  private var beginOrder: [String] = []
  private var onWire: Set<String> = []
  private var results: [DeliveryResult] = []
  private var notAttempted: [String] = []
  /// Messages the transport declined to start, with its reason (larger than the server's SIZE).
  private var declined: [String: String] = [:]
  /// Keys whose archive file is already removed.
  private var unarchived: Set<String> = []
  private var verdicts = 0
  private var settled = 0
  private var openFailures: [TransportError] = []
  /// Connections that said whether they opened: the night ends only after all have, so that
  /// one left out is always reported.
  private var openReports = 0
  private var transportStop: TransportError? = nil
  private var failure: (any Error)? = nil
  private var withdrawn = false
  private var over = false
  private(set) var tally = RunTally()

  /// - Parameters:
  ///   - total: the night's messages.
  ///   - connections: connections that will take messages.
  ///   - messagesPerConnection: how many are rendered and recorded together per connection.
  init(total: Int, connections: Int, messagesPerConnection: Int) {
    self.total = total
    self.connections = max(1, connections)
    self.groupSize = self.connections * max(1, messagesPerConnection)
    self.capacity = groupSize
  }

  var isOver: Bool { over }

  mutating func start() -> [Action] { pump() }

  /// A group is rendered and archived; `notRendered` are the letters that could not be built.
  mutating func groupPrepared(_ messages: [PreparedMessage], notRendered: [Attention]) -> [Action] {
    preparing = false
    tally.notRendered += notRendered.count
    tally.attention += notRendered
    var actions: [Action] = []
    if stopped {
      actions.append(unarchive(messages.map(\.attempt)))
    } else if !messages.isEmpty {
      held = messages
    }
    return actions + pump()
  }

  /// Rendering or archiving failed; `archived` are the group's files already written.
  mutating func preparationFailed(_ error: any Error, archived: [String]) -> [Action] {
    preparing = false
    stop(.failure(error))
    return (archived.isEmpty ? [] : [.unarchive(archived)]) + pump()
  }

  mutating func committed() -> [Action] {
    guard let group = committing else { return [] }
    committing = nil
    settled += committingResults.count
    var actions: [Action] = []
    if !committingResults.isEmpty { actions.append(.progress(done: settled, total: total)) }
    committingResults = []
    for m in group {
      begun[m.attempt.messageKey] = m.attempt
      beginOrder.append(m.attempt.messageKey)
    }
    if stopped {
      // Recorded, but the night stopped meanwhile: never handed to a connection.
      notAttempted += group.map(\.attempt.messageKey)
    } else {
      queued += group.count
      actions.append(.enqueue(group))
    }
    return actions + pump()
  }

  /// The group was not recorded: none of it may go out, and its files prove nothing.
  mutating func commitFailed(_ error: any Error) -> [Action] {
    guard let group = committing else { return [] }
    committing = nil
    results = committingResults + results
    committingResults = []
    stop(.failure(error))
    return [unarchive(group.map(\.attempt))] + pump()
  }

  mutating func connectionOpened() -> [Action] {
    openReports += 1
    return pump()
  }

  /// A connection could not be opened: it is left out; when none opens the night stops.
  mutating func connectionFailed(_ error: TransportError) -> [Action] {
    openReports += 1
    openFailures.append(error)
    if openFailures.count >= connections { stop(.transport(error)) }
    return pump()
  }

  /// A connection is about to hand the message to its server (journaled as started).
  mutating func messageStarted(_ key: String) -> [Action] {
    queued -= 1
    onWire.insert(key)
    // Room in the queue: the held group may be recorded now.
    return pump()
  }

  /// Messages that no connection will try: withdrawn after a stop, or not journaled as started.
  mutating func messagesNotAttempted(_ keys: [String]) -> [Action] {
    queued -= keys.count
    notAttempted += keys
    return pump()
  }

  /// The journal could not note a message as started, so it was not sent.
  mutating func journalFailed(_ key: String, _ error: any Error) -> [Action] {
    stop(.failure(error))
    return messagesNotAttempted([key])
  }

  mutating func messageAnswered(_ key: String, _ result: SendResult) -> [Action] {
    onWire.remove(key)
    guard let attempt = begun[key] else { return pump() }
    var actions: [Action] = []
    let outcome: (state: DeliveryState, code: Int?, reply: String)
    switch result {
    case .outcome(.notAttempted(let reason)):
      // Nothing of it reached the server (RFC 1870: refused before MAIL FROM): not a delivery
      // attempt; it stays due and is reported.
      declined[key] = reason
      notAttempted.append(key)
      return pump()
    case .outcome(let o):
      verdicts += 1
      outcome = (o.state, o.code, o.reply)
    case .failed(let e):
      outcome = (.deferred, 0, e.message)
      stop(.transport(e))
    }
    let keep = Self.keepsArchive(outcome.state)
    if !keep { actions.append(unarchive([attempt])) }
    results.append(
      DeliveryResult(
        messageKey: key, state: outcome.state, replyCode: outcome.code, reply: outcome.reply,
        archivePath: keep ? attempt.archivePath : nil))
    count(attempt, outcome.state, outcome.reply)
    return actions + pump()
  }

  /// Whether the archive keeps the bytes: only a message that reached (or may have reached) a
  /// server is proof of anything.
  static func keepsArchive(_ state: DeliveryState) -> Bool {
    switch state {
    case .sent, .unknown: return true
    default: return false
    }
  }

  private var stopped: Bool { transportStop != nil || failure != nil }

  private mutating func stop(_ why: Stop) {
    switch why {
    case .transport(let e): if transportStop == nil { transportStop = e }
    case .failure(let e): if failure == nil { failure = e }
    }
  }

  private mutating func unarchive(_ attempts: [NewAttempt]) -> Action {
    var paths: [String] = []
    for a in attempts where !unarchived.contains(a.messageKey) {
      unarchived.insert(a.messageKey)
      if let p = a.archivePath { paths.append(p) }
    }
    return .unarchive(paths)
  }

  private mutating func count(_ a: NewAttempt, _ state: DeliveryState, _ reply: String) {
    switch state {
    case .sent:
      tally.sent += 1
      tally.sentInvoices += a.invoices.count
    case .deferred:
      tally.deferred += 1
      tally.attention.append(.deferred(invoices: a.invoices, step: a.step, reply: reply))
    case .rejected:
      tally.rejected += 1
      tally.attention.append(.rejected(invoices: a.invoices, step: a.step, reply: reply))
    default:
      tally.unknown += 1
      tally.attention.append(.unknown(invoices: a.invoices, step: a.step, reason: reply))
    }
  }

  /// Everything that can happen now without a new event.
  private mutating func pump() -> [Action] {
    guard !over else { return [] }
    var actions: [Action] = []
    if transportStop != nil && queued > 0 && !withdrawn {
      withdrawn = true
      actions.append(.withdraw)
    }
    if stopped, let h = held {
      held = nil
      actions.append(unarchive(h.map(\.attempt)))
    }
    if !stopped, committing == nil, let h = held, queued == 0 || queued + h.count <= capacity {
      held = nil
      committing = h
      committingResults = results
      results = []
      actions.append(.commit(finishing: committingResults, beginning: h.map(\.attempt)))
    }
    if !stopped, !preparing, held == nil, next < total {
      let end = min(next + groupSize, total)
      actions.append(.prepare(next..<end))
      next = end
      preparing = true
    }
    let quiet =
      !preparing && held == nil && committing == nil && queued == 0 && onWire.isEmpty
      && openReports >= connections
    if quiet && (stopped || next == total) { actions += end() }
    return actions
  }

  private mutating func end() -> [Action] {
    over = true
    var actions: [Action] = []
    if let refusal = transportStop, verdicts == 0 {
      // The server refused before anything of the run got a verdict: undo every record.
      let keys = beginOrder.filter { begun[$0] != nil }
      actions.append(unarchive(keys.compactMap { begun[$0] }))
      actions.append(.abandon(keys))
      actions.append(.closeQueue)
      actions.append(.refused(refusal, error: failure))
      return actions
    }
    if !results.isEmpty {
      settled += results.count
      actions.append(.finish(results))
      actions.append(.progress(done: settled, total: total))
      results = []
    }
    if !notAttempted.isEmpty {
      let attempts = notAttempted.compactMap { begun[$0] }
      actions.append(unarchive(attempts))
      actions.append(.abandon(notAttempted))
      tally.notAttempted += attempts.count
      for a in attempts {
        if let why = declined[a.messageKey] {
          tally.attention.append(.declined(invoices: a.invoices, step: a.step, reason: why))
        } else {
          tally.attention.append(.notAttempted(invoices: a.invoices, step: a.step))
        }
      }
    }
    if !openFailures.isEmpty {
      tally.attention.append(
        .connectionsLeftOut(
          count: openFailures.count, of: connections, reason: openFailures[0].message))
    }
    if let e = transportStop { tally.stoppedEarly = e.message }
    actions.append(.closeQueue)
    actions.append(.done(tally, error: failure))
    return actions
  }
}
