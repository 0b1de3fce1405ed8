import Testing

@testable import HerinnerBounces

@Suite struct MailReaderTests {
  @Test(arguments: [
    ("5.1.1", "550 5.1.1 <a@b.nl>: user unknown"),
    ("4.4.7", "Status: 4.4.7 (delivery expired)"),
    ("5.1.2", "no host named x.nl (#5.1.2)"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
  ])
  func statusCodes(want: String, text: String) {
    #expect(StatusCodes.first(in: text) == want)
  }

  @Test(arguments: ["host 192.0.2.25 said", "version 5.1.1.3", "Postfix 2.10.1"])
  func notStatusCodes(text: String) {
    #expect(StatusCodes.first(in: text) == nil)
  }
}
