/// The language a customer's letters are written in.
public enum Language: String, Sendable, Codable, CaseIterable {
  case nl, en
}

/// Business customers (B2B, art. 6:96 lid 4 BW) and consumers (14-day letter, art. 6:96 lid 6 BW).
public enum CustomerKind: String, Sendable, Codable, CaseIterable {
  case business, consumer
}

/// An invoice's status in the user's bookkeeping. Only `open` moves along the ladder.
public enum InvoiceStatus: String, Sendable, Codable, CaseIterable {
  case open, paid, credited, disputed
  case paymentPlan = "payment-plan"
  case onHold = "on-hold"
}

/// One open or closed invoice as read from the invoice source.
public struct Invoice: Sendable, Hashable {
  public var number: String
  public var customerID: String?
  public var customer: String
  public var contact: String?
  public var email: String
  public var kind: CustomerKind
  public var issued: CalendarDate
  public var due: CalendarDate
  public var amount: Money
  public var paid: Money
  public var status: InvoiceStatus
  /// The attachment's path relative to the attachments folder (checked to stay inside it).
  public var pdf: String
  public var language: Language
  public var phone: String?
  /// The betalingskenmerk printed on the invoice, if any.
  public var reference: String?
  /// Where the record starts in its source, for messages.
  public var sourceLine: Int

  public init(
    number: String, customerID: String? = nil, customer: String, contact: String? = nil,
    email: String, kind: CustomerKind = .business, issued: CalendarDate, due: CalendarDate,
    amount: Money, paid: Money? = nil, status: InvoiceStatus = .open, pdf: String,
    language: Language = .nl, phone: String? = nil, reference: String? = nil, sourceLine: Int = 0
  ) {
    self.number = number
    self.customerID = customerID
    self.customer = customer
    self.contact = contact
    self.email = email
    self.kind = kind
    self.issued = issued
    self.due = due
    self.amount = amount
    self.paid = paid ?? Money(cents: 0, currency: amount.currency)
    self.status = status
    self.pdf = pdf
    self.language = language
    self.phone = phone
    self.reference = reference
    self.sourceLine = sourceLine
  }

  public var currency: String { amount.currency }

  /// What is still owed: amount − paid (payments imported later lower it further).
  public var outstanding: Money { amount - paid }

  /// Identifies the customer across invoices: `customer_id` where given, else the lower-cased
  /// email address plus kind (`policy.onePerCustomer` groups by it).
  public var customerKey: String {
    if let id = customerID, !id.isEmpty { return "id:" + id }
    return "email:" + email.lowercased() + "|" + kind.rawValue
  }
}
