import Testing

@testable import HerinnerCore

/// Walks one invoice through nightly runs, as cron would: each business day the engine decides,
/// and a letter it asks for is "sent" (or gets the outcome the scenario scripts).
struct Night {
  var policy = Policy()
  var invoice: Invoice
  var history = InvoiceHistory()
  /// Scripted outcomes for the next attempts of a step (default: sent).
  var outcomes: [Step: [DeliveryState]] = [:]
  /// Changes to the invoice on a given day, before that night's run.
  var changes: [CalendarDate: (inout Invoice) -> Void] = [:]
  /// Calls logged on a given day.
  var calls: Set<CalendarDate> = []
  /// Log of what happened: "2026-11-09 first", "2026-11-16 call", …
  var log: [String] = []

  init(_ invoice: Invoice) { self.invoice = invoice }

  mutating func run(from start: String, through end: String) {
    let ladder = Ladder(policy: policy)
    let cal = BusinessCalendar(liberationDayEveryYear: policy.liberationDayEveryYear)
    var day = date(start)
    var lastListed: Step?
    while day <= date(end) {
      changes[day]?(&invoice)
      if calls.contains(day) { history.calls.append(day) }
      if !policy.businessDaysOnly || cal.isBusinessDay(day) {
        let d = ladder.decision(for: invoice, history: history, on: day)
        if let step = d.step {
          if step.isMessage {
            let state = outcomes[step]?.isEmpty == false ? outcomes[step]!.removeFirst() : .sent
            let deadline =
              step == .second
              ? policy.secondDeadline(sentOn: day, kind: invoice.kind)
              : policy.firstDeadline(sentOn: day)
            history.deliveries.append(
              DeliveryRecord(step: step, state: state, date: day, deadline: deadline))
            log.append("\(day.iso) \(step.rawValue)\(state == .sent ? "" : " \(state.rawValue)")")
          } else if lastListed != step {
            log.append("\(day.iso) \(step.rawValue)")
          }
          lastListed = step
        } else {
          lastListed = nil
        }
      }
      day = day.adding(days: 1)
    }
  }
}

func invoice(
  due: String, kind: CustomerKind = .business, amount: Int64 = 100_000, paid: Int64 = 0,
  status: InvoiceStatus = .open
) -> Invoice {
  Invoice(
    number: "2026-0042", customer: "Klant", email: "klant@example.nl", kind: kind,
    issued: date(due).adding(days: -30), due: date(due), amount: Money(cents: amount),
    paid: Money(cents: paid), status: status, pdf: "f.pdf")
}

@Suite struct LadderScenarioTests {
  @Test func plainBusinessInvoiceWalksTheWholeLadder() {
    var n = Night(invoice(due: "2026-11-02"))
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(
      n.log == [
        "2026-11-09 first", "2026-11-16 call", "2026-11-23 second", "2026-12-09 collection",
      ])
  }

  @Test func dueDateIsCalendarDaysAndTheStepIsDueOnTheDayTheDelayEnds() {
    let ladder = Ladder(policy: Policy())
    let inv = invoice(due: "2026-11-02")
    #expect(ladder.decision(for: inv, history: .empty, on: date("2026-11-08")).step == nil)
    #expect(
      ladder.decision(for: inv, history: .empty, on: date("2026-11-08")).nextDate
        == date("2026-11-09"))
    #expect(ladder.decision(for: inv, history: .empty, on: date("2026-11-09")).step == .first)
  }

  @Test func weekendMovesTheLetterToMondayAndLaterStepsCountFromTheRealSend() {
    var n = Night(invoice(due: "2026-11-07"))  // +7 = Saturday 14 November
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log.first == "2026-11-16 first")
    #expect(n.log.contains("2026-11-30 second"))
  }

  @Test func christmasMovesTheLetter() {
    var n = Night(invoice(due: "2026-12-18"))  // +7 = Eerste Kerstdag
    n.run(from: "2026-12-01", through: "2027-01-31")
    #expect(n.log.prefix(3) == ["2026-12-28 first", "2027-01-04 call", "2027-01-11 second"])
  }

  @Test func sendsEveryDayWithoutBusinessDaysOnly() {
    var n = Night(invoice(due: "2026-11-07"))
    n.policy.businessDaysOnly = false
    n.run(from: "2026-11-01", through: "2026-11-30")
    #expect(n.log.first == "2026-11-14 first")
  }

  @Test func longOverdueInvoiceFirstSeenLateGetsFirstOnlyThenWaits() {
    var n = Night(invoice(due: "2026-06-30"))
    n.run(from: "2026-11-02", through: "2026-12-31")
    #expect(n.log.prefix(3) == ["2026-11-02 first", "2026-11-09 call", "2026-11-16 second"])
  }

  @Test func paymentAfterTheFirstReminderStopsTheLadder() {
    var n = Night(invoice(due: "2026-11-02"))
    n.changes[date("2026-11-12")] = { $0.paid = $0.amount }
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log == ["2026-11-09 first"])
    let d = Ladder(policy: n.policy).decision(
      for: n.invoice, history: n.history, on: date("2026-12-01"))
    #expect(d.reason == .settled)
  }

  @Test func partialPaymentBelowTheMinimumStops() {
    var n = Night(invoice(due: "2026-11-02"))
    n.changes[date("2026-11-12")] = { $0.paid = Money(cents: 99_600) }  // € 4 left
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log == ["2026-11-09 first"])
  }

  @Test func partialPaymentAboveTheMinimumContinues() {
    var n = Night(invoice(due: "2026-11-02"))
    n.changes[date("2026-11-12")] = { $0.paid = Money(cents: 50_000) }
    n.run(from: "2026-11-01", through: "2026-11-30")
    #expect(n.log.contains("2026-11-23 second"))
  }

  @Test func disputeStopsAndResumingCatchesUpWithoutSkipping() {
    var n = Night(invoice(due: "2026-11-02"))
    n.changes[date("2026-11-10")] = { $0.status = .disputed }
    n.changes[date("2026-12-07")] = { $0.status = .open }
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log.prefix(2) == ["2026-11-09 first", "2026-12-07 second"])
    #expect(n.log.last == "2026-12-23 collection")
  }

  @Test(arguments: [InvoiceStatus.paid, .credited, .disputed, .paymentPlan, .onHold])
  func stopStatusesNeverMove(_ status: InvoiceStatus) {
    var n = Night(invoice(due: "2026-06-02", status: status))
    n.run(from: "2026-06-01", through: "2026-12-31")
    #expect(n.log.isEmpty)
    let d = Ladder(policy: n.policy).decision(
      for: n.invoice, history: n.history, on: date("2026-12-01"))
    #expect(d.reason == .status(status))
  }

  @Test func deferredSendIsRetriedNextRun() {
    var n = Night(invoice(due: "2026-11-02"))
    n.outcomes[.first] = [.deferred, .deferred]
    n.run(from: "2026-11-01", through: "2026-11-30")
    #expect(
      n.log.prefix(3) == [
        "2026-11-09 first deferred", "2026-11-10 first deferred", "2026-11-11 first",
      ])
    // Later steps count from the successful send.
    #expect(n.log.contains("2026-11-25 second"))
  }

  @Test func rejectedSendIsNotRetried() {
    var n = Night(invoice(due: "2026-11-02"))
    n.outcomes[.first] = [.rejected]
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log == ["2026-11-09 first rejected"])
    let d = Ladder(policy: n.policy).decision(
      for: n.invoice, history: n.history, on: date("2026-12-01"))
    #expect(d.reason?.key == "rejected")
    #expect(d.reason?.needsAttention == true)
  }

  @Test func unknownBlocksUntilResolvedNotSent() {
    var n = Night(invoice(due: "2026-11-02"))
    n.outcomes[.first] = [.unknown]
    n.run(from: "2026-11-01", through: "2026-11-20")
    #expect(n.log == ["2026-11-09 first unknown"])
    // A person says it never went out: the step is due again.
    n.history.deliveries[0].state = .notSent
    n.run(from: "2026-11-23", through: "2026-11-23")
    #expect(n.log.last == "2026-11-23 first")
  }

  @Test func waitForCallHoldsTheSecondReminderUntilACall() {
    var n = Night(invoice(due: "2026-11-02"))
    n.policy.waitForCall = true
    n.calls = [date("2026-12-02")]
    n.run(from: "2026-11-01", through: "2026-12-31")
    #expect(n.log.prefix(3) == ["2026-11-09 first", "2026-11-16 call", "2026-12-02 second"])
  }

  @Test func aCallBeforeTheCallDateTakesTheInvoiceOffTheCallList() {
    var n = Night(invoice(due: "2026-11-02"))
    n.calls = [date("2026-11-10")]
    n.run(from: "2026-11-01", through: "2026-11-30")
    #expect(n.log.prefix(2) == ["2026-11-09 first", "2026-11-23 second"])
  }

  @Test func consumerCollectionWaitsForTheFourteenDayTerm() {
    var n = Night(invoice(due: "2026-11-02", kind: .consumer))
    n.run(from: "2026-11-01", through: "2026-12-31")
    // second on 23 Nov states 8 December (23 + 15); collection from 9 December.
    #expect(n.history.deliveries.last?.deadline == date("2026-12-08"))
    #expect(n.log.last == "2026-12-09 collection")
  }

  @Test func resendOfTheSecondPushesCollectionBeyondItsNewDeadlineButNotTheSchedule() {
    var n = Night(invoice(due: "2026-11-02", kind: .consumer))
    n.run(from: "2026-11-01", through: "2026-12-01")
    // A manual resend on 1 December states 16 December.
    n.history.deliveries.append(
      DeliveryRecord(
        step: .second, state: .sent, date: date("2026-12-01"), isResend: true,
        deadline: date("2026-12-16")))
    n.run(from: "2026-12-02", through: "2026-12-31")
    #expect(n.log.last == "2026-12-17 collection")
  }

  /// A claim a consumer's 14-day letter covered before its own first reminder (art. 6:96 lid 7
  /// BW): its first is never sent any more, and it moves to collection with the letter.
  @Test func aClaimCoveredByAFourteenDayLetterSkipsItsFirstAndFollowsTheLetter() {
    var n = Night(invoice(due: "2026-11-02", kind: .consumer))
    n.history.deliveries.append(
      DeliveryRecord(
        step: .second, state: .sent, date: date("2026-11-05"), deadline: date("2026-11-20")))
    n.run(from: "2026-11-06", through: "2026-12-31")
    // Due on Saturday 21 November (the day after the deadline), listed on the next run day.
    #expect(n.log == ["2026-11-23 collection"])
    let d = Ladder(policy: Policy()).decision(
      for: invoice(due: "2026-11-02", kind: .consumer), history: n.history,
      on: date("2026-11-20"))
    #expect(d.step == nil && d.reason == .notYet && d.nextStep == .collection)
  }

  @Test func resendOfTheFirstDoesNotShiftTheSecond() {
    let inv = invoice(due: "2026-11-02")
    let h = InvoiceHistory(deliveries: [
      DeliveryRecord(step: .first, state: .sent, date: date("2026-11-09")),
      DeliveryRecord(step: .first, state: .sent, date: date("2026-11-18"), isResend: true),
    ])
    let d = Ladder(policy: Policy()).decision(for: inv, history: h, on: date("2026-11-23"))
    #expect(d.step == .second)
  }
}

@Suite struct LadderPropertyTests {
  /// Random invoices, policies, payments and outcomes, walked for months: the invariants hold.
  @Test func invariantsHoldOverRandomWalks() {
    var rng = SeededRandom(seed: 6_96)
    for _ in 0..<400 {
      let due = date("2026-01-01").adding(days: Int.random(in: 0...300, using: &rng))
      var n = Night(
        invoice(
          due: due.iso, kind: Bool.random(using: &rng) ? .business : .consumer,
          amount: Int64.random(in: 100...500_000, using: &rng)))
      n.policy.firstReminderDaysAfterDue = Int.random(in: 0...20, using: &rng)
      n.policy.callDaysAfterFirst = Int.random(in: 0...20, using: &rng)
      n.policy.secondReminderDaysAfterFirst = Int.random(in: 1...30, using: &rng)
      n.policy.collectionDaysAfterSecond = Int.random(in: 1...30, using: &rng)
      n.policy.businessDaysOnly = Bool.random(using: &rng)
      n.policy.waitForCall = Int.random(in: 0..<4, using: &rng) == 0
      n.outcomes[.first] = (0..<Int.random(in: 0...2, using: &rng)).map { _ in .deferred }
      var paidOn: CalendarDate? = nil
      if Bool.random(using: &rng) {
        let d = due.adding(days: Int.random(in: 0...90, using: &rng))
        paidOn = d
        n.changes[d] = { $0.paid = $0.amount }
      }
      if Bool.random(using: &rng) {
        n.calls = [due.adding(days: Int.random(in: 0...60, using: &rng))]
      }
      n.run(from: due.adding(days: -3).iso, through: due.adding(days: 150).iso)

      let sends = n.history.deliveries
      // Never two steps for one invoice on one day.
      #expect(Set(sends.map(\.date)).count == sends.count)
      // Never `second` before the first successful `first`, and at least its delay after it.
      if let second = sends.first(where: { $0.step == .second }) {
        let first = sends.first { $0.step == .first && $0.state == .sent }
        #expect(first != nil)
        if let first {
          #expect(first.date.days(until: second.date) >= n.policy.secondReminderDaysAfterFirst)
        }
      }
      // Each step at most once successfully (no resends in these walks).
      for step in [Step.first, .second] {
        #expect(sends.filter { $0.step == step && $0.state == .sent }.count <= 1)
      }
      // Never a letter once the invoice is paid.
      if let paidOn { #expect(sends.allSatisfy { $0.date < paidOn }) }
      // Letters only on business days when asked.
      if n.policy.businessDaysOnly {
        #expect(sends.allSatisfy { BusinessCalendar().isBusinessDay($0.date) })
      }
      // Never before its own delay after the due date.
      if let first = sends.first {
        #expect(due.days(until: first.date) >= n.policy.firstReminderDaysAfterDue)
      }
    }
  }
}

@Suite struct CoveringLetterHoldTests {
  @Test(arguments: [DeliveryState.bounced, .rejected, .unknown])
  func aCoveringFourteenDayLetterThatFailedHoldsTheClaimsFirstReminder(_ state: DeliveryState)
    throws
  {
    let invoice = Invoice(
      number: "B", customer: "J. Jansen", email: "jan@example.nl", kind: .consumer,
      issued: CalendarDate(parsing: "2026-10-01")!, due: CalendarDate(parsing: "2026-10-15")!,
      amount: Money(cents: 100_00), pdf: "b.pdf")
    let history = InvoiceHistory(deliveries: [
      DeliveryRecord(
        step: .second, state: state, date: CalendarDate(parsing: "2026-11-05")!,
        recipients: "jan@example.nl")
    ])
    let d = Ladder(policy: Policy()).decision(
      for: invoice, history: history, on: CalendarDate(parsing: "2026-11-20")!)
    #expect(d.step == nil, "no first reminder to the address the 14-day letter failed at")
    #expect(d.reason?.needsAttention == true)
  }
}
