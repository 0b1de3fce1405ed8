/// The sender: the user's company as the config names it and every letter shows it.
public struct Sender: Sendable, Hashable {
  public var name: String
  public var email: String
  public var replyTo: String?
  public var phone: String?
  public var iban: String
  public var bic: String?
  public var accountHolder: String
  public var kvk: String?
  public var btw: String?
  public var website: String?
  public var address: [String]
  public var signature: String?

  public init(
    name: String, email: String, replyTo: String? = nil, phone: String? = nil, iban: String,
    bic: String? = nil, accountHolder: String? = nil, kvk: String? = nil, btw: String? = nil,
    website: String? = nil, address: [String] = [], signature: String? = nil
  ) {
    self.name = name
    self.email = email
    self.replyTo = replyTo
    self.phone = phone
    self.iban = iban
    self.bic = bic
    self.accountHolder = accountHolder ?? name
    self.kvk = kvk
    self.btw = btw
    self.website = website
    self.address = address
    self.signature = signature
  }

  /// The domain Message-IDs live on.
  public var domain: String {
    email.split(separator: "@").last.map(String.init) ?? "localhost"
  }
}
