/// The ladder's timing and thresholds (`policy` in the config). Defaults as the README's config table lists them.
public struct Policy: Sendable, Hashable {
  public var firstReminderDaysAfterDue = 7
  public var callDaysAfterFirst = 7
  public var secondReminderDaysAfterFirst = 14
  public var collectionDaysAfterSecond = 16
  public var minimumOutstanding = Money(cents: 500)
  public var businessDaysOnly = true
  public var waitForCall = false
  public var onePerCustomer = true
  /// Bevrijdingsdag (5 May) as a day off every year; by default only in lustrum years.
  public var liberationDayEveryYear = false
  /// The payment term the first reminder gives, in calendar days from sending.
  public var firstReminderTermDays = 7
  /// The payment term of the second reminder. For consumers it is at least 14 days counted
  /// from the day after receipt (art. 6:96 lid 6 BW), so their stated date is send date + 15.
  public var secondReminderTermDays = 14
  /// Add 21 % VAT to the collection costs: only for a creditor who cannot deduct VAT
  /// (BIK art. 2 lid 3). Default off.
  public var collectionCostsIncludeVAT = false
  /// What a business's second letter does with the compensation owed by law from the day after
  /// the due date, without a reminder (art. 6:96 lid 4 BW: the BIK scale, at least € 40) and the
  /// commercial interest (art. 6:119a BW). Default: waived if paid by the letter's deadline.
  public var businessCompensation = BusinessCompensation.waiveIfPaidInTime

  public init() {}

  /// The deadline stated in a `second` letter sent on `date`.
  ///
  /// Consumers: the 14-day term starts the day after receipt (HR 25-11-2016,
  /// ECLI:NL:HR:2016:2704), so the named date is the send date + term + 1 spare day for receipt,
  /// moved past Saturdays, Sundays and the holidays of the Algemene termijnenwet.
  public func secondDeadline(sentOn date: CalendarDate, kind: CustomerKind) -> CalendarDate {
    switch kind {
    case .consumer:
      return StatutoryTerms.fourteenDayDeadline(sentOn: date, termDays: secondReminderTermDays)
    case .business: return date.adding(days: secondReminderTermDays)
    }
  }

  /// The deadline stated in a `first` reminder sent on `date`.
  public func firstDeadline(sentOn date: CalendarDate) -> CalendarDate {
    date.adding(days: firstReminderTermDays)
  }
}

/// A business's second letter and the compensation the law grants without a reminder
/// (art. 6:96 lid 4 BW) plus the commercial interest (art. 6:119a BW).
public enum BusinessCompensation: String, Sendable, Hashable, CaseIterable {
  /// The letter claims both now: the costs are added to the amount asked, the interest runs
  /// from the day after the due date until payment.
  case claim
  /// The letter names both and says they are not charged if the amount is paid by the deadline;
  /// after the deadline they are (with collection).
  case waiveIfPaidInTime = "waive"
}
