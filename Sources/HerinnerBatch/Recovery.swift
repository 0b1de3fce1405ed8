import HerinnerCore

/// What becomes of the deliveries an interrupted run left `sending`.
public struct RecoveryPlan: Sendable, Equatable {
  /// Never handed to a server: the record is removed (the step is due again) and so is the
  /// archive file.
  public var abandon: [InterruptedDelivery] = []
  /// The server's verdict had arrived but was not yet recorded: recorded now.
  public var finish: [(InterruptedDelivery, JournalAnswer)] = []
  /// May have reached the server: `unknown`, for a person to decide.
  public var unknown: [InterruptedDelivery] = []
  /// Archive files of messages that were rendered but never handed over and are not `sending`
  /// (the run stopped before it recorded them).
  public var strayArchives: [String] = []
  /// The same for files whose writing began but was never noted as done (the run died while
  /// it wrote them): their names in the archive.
  public var strayNames: [String] = []

  public init() {}

  public static func == (a: RecoveryPlan, b: RecoveryPlan) -> Bool {
    a.abandon == b.abandon && a.unknown == b.unknown && a.strayArchives == b.strayArchives
      && a.strayNames == b.strayNames
      && a.finish.map(\.0) == b.finish.map(\.0) && a.finish.map(\.1) == b.finish.map(\.1)
  }

  /// Pure. The journal is trusted only when it was written on this boot (a kill, not a power
  /// loss or a kernel crash, interrupted the run); otherwise, or without a journal, every
  /// interrupted delivery is unknown.
  /// - Parameters:
  ///   - interrupted: the ledger's `sending` records.
  ///   - journal: the interrupted run's journal, parsed; nil when absent or unreadable.
  ///   - currentBoot: this boot's id; nil when the system has none.
  ///   - recorded: every message key the ledger holds, in any state; nil when not known. With
  ///     a journal of another boot, an archive file of a message the ledger never held is
  ///     removed: a message goes out only after its record is durable.
  public static func decide(
    interrupted: [InterruptedDelivery], journal: JournalContents?, currentBoot: String?,
    recorded: Set<String>? = nil
  ) -> RecoveryPlan {
    var plan = RecoveryPlan()
    let trusted = journal.flatMap { j in currentBoot.flatMap { $0 == j.bootID ? j : nil } }
    for d in interrupted {
      guard let j = trusted, j.recorded.contains(d.messageKey) else {
        // Recorded by a run whose notes are lost or were never kept.
        plan.unknown.append(d)
        continue
      }
      if let answer = j.answered[d.messageKey] {
        plan.finish.append((d, answer))
      } else if j.handedOver.contains(d.messageKey) {
        plan.unknown.append(d)
      } else {
        // Started or not, its end of data never went out: no server holds it.
        plan.abandon.append(d)
      }
    }
    if let j = trusted {
      // Never handed over and not `sending`: never recorded, or removed by the run itself;
      // either way the file is no proof of anything.
      let interruptedKeys = Set(interrupted.map(\.messageKey))
      let stray = { (key: String) in
        !j.handedOver.contains(key) && !interruptedKeys.contains(key)
          && !(j.answered[key].map { GroupCommit.keepsArchive($0.state) } ?? false)
      }
      plan.strayArchives = j.archived.filter { stray($0.key) }.map(\.value).sorted()
      plan.strayNames = j.archiving.filter { j.archived[$0.key] == nil && stray($0.key) }
        .map(\.value).sorted()
    } else if let j = journal, let recorded {
      plan.strayArchives = j.archived.filter { !recorded.contains($0.key) }.map(\.value).sorted()
      plan.strayNames = j.archiving.filter { key, _ in
        j.archived[key] == nil && !recorded.contains(key)
      }.map(\.value).sorted()
    }
    return plan
  }

  /// The ledger results this plan records (the abandoned ones are removed instead).
  public var results: [DeliveryResult] {
    finish.map { d, a in
      let keep = GroupCommit.keepsArchive(a.state)
      return DeliveryResult(
        messageKey: d.messageKey, state: a.state, replyCode: a.code, reply: a.reply,
        archivePath: keep ? d.archivePath : nil)
    }
      + unknown.map {
        DeliveryResult(
          messageKey: $0.messageKey, state: .unknown, replyCode: nil,
          reply: "interrupted before the server's final reply", archivePath: $0.archivePath)
      }
  }

  /// Archive files of messages that never reached a server, or were refused or deferred.
  public var archivesToRemove: [String] {
    abandon.compactMap(\.archivePath) + strayArchives
      + finish.compactMap { d, a in GroupCommit.keepsArchive(a.state) ? nil : d.archivePath }
  }
}

/// What recovery did, for the summary.
public struct RecoveryReport: Sendable {
  public var plan: RecoveryPlan
  /// Whether the interrupted run's journal was trusted (same boot).
  public var journalTrusted: Bool
  /// One item per invoice whose delivery is now unknown (each is resolved on its own).
  public var attention: [Attention] {
    plan.unknown.flatMap { d in
      d.invoices.map { .interruptedUnknown(invoices: [$0], step: d.step) }
    }
  }
}

/// Settles what an interrupted run left `sending`, before a new run begins: the verdicts that
/// had arrived are recorded, messages that never started are removed (the new run sends them),
/// the rest becomes unknown. Then the old journal is discarded.
///
/// Call it where `markInterruptedAsUnknown` is called today, under the run lock and before
/// `journal.begin`. Safe to repeat: a crash in the middle leaves the journal, and the next call
/// reaches the same decisions for what is still `sending`.
/// - Parameters:
///   - unarchive: removes one archive file (a missing file is fine).
///   - unarchiveName: removes the archive file of that name (its path unknown to the journal).
///   - recorded: every message key the ledger holds; asked only for a journal of another boot.
public func recoverInterruptedRun(
  ledger: any DeliveryLedger, journal: any JournalStore, currentBoot: String?,
  unarchive: (String) -> Void, unarchiveName: (String) -> Void = { _ in },
  recorded: (() throws -> Set<String>)? = nil
) throws -> RecoveryReport {
  let interrupted = try ledger.interruptedDeliveries()
  let previous = try journal.previous()
  let contents = previous.flatMap(JournalFormat.parse)
  let untrusted = contents != nil && (currentBoot == nil || contents?.bootID != currentBoot)
  let plan = RecoveryPlan.decide(
    interrupted: interrupted, journal: contents, currentBoot: currentBoot,
    recorded: untrusted ? try recorded?() : nil)
  let results = plan.results
  if !results.isEmpty { try ledger.finish(results) }
  // Durable removal first: a crash before the files are gone leaves a stray file, never a
  // record without its proof.
  if !plan.abandon.isEmpty { try ledger.abandon(plan.abandon.map(\.messageKey)) }
  for path in plan.archivesToRemove { unarchive(path) }
  for name in plan.strayNames { unarchiveName(name) }
  if previous != nil { try journal.discard() }
  return RecoveryReport(
    plan: plan,
    journalTrusted: contents != nil && currentBoot != nil && contents?.bootID == currentBoot)
}
