import Foundation
import HerinnerCore
import Testing

@testable import HerinnerInput

/// The `bounces` section and `smtp.tagEnvelope`.
@Suite struct BouncesConfigTests {
  func with(bounces: String, smtp: String = "") -> String {
    minimalConfig.replacingOccurrences(
      of: "\"security\": \"none\" }",
      with: "\"security\": \"none\"\(smtp) },\n  \"bounces\": \(bounces)")
  }

  @Test func absentMeansNotConfigured() throws {
    let c = try parseConfig(minimalConfig)
    #expect(c.bounces == nil)
    #expect(c.smtp.tagEnvelope == false)
  }

  @Test func theMailboxIsRead() throws {
    let c = try parseConfig(
      with(
        bounces: """
          { "imap": { "url": "imaps://imap.example.nl:993/INBOX", "username": "bounces",
                      "passwordFile": "secrets/imap" },
            "processedFolder": "INBOX/herinner" }
          """, smtp: ", \"tagEnvelope\": true, \"envelopeFrom\": \"bounces@studiovermeer.nl\""))
    let imap = try #require(c.bounces?.imap)
    #expect(imap.url == "imaps://imap.example.nl:993/INBOX")
    #expect(imap.username == "bounces")
    #expect(imap.passwordFile == "/srv/admin/secrets/imap")
    #expect(imap.passwordEnv == nil)
    #expect(c.bounces?.processedFolder == "INBOX/herinner")
    #expect(c.smtp.tagEnvelope)
    #expect(c.smtp.envelopeFrom == "bounces@studiovermeer.nl")
  }

  @Test(arguments: [
    (
      #"{ "imap": { "url": "imaps://h/INBOX", "username": "u", "passwordEnv": "P", "pasword": 1 } }"#,
      "bounces.imap.pasword: unknown key"
    ),
    (#"{ "imap": {}, "folder": "x" }"#, "bounces.folder: unknown key"),
    (
      #"{ "imap": { "url": "imaps://h/INBOX", "username": "u", "password": "geheim" } }"#,
      "bounces.imap.password: secrets never go in the config file"
    ),
    (
      #"{ "imap": { "url": "imaps://h/INBOX", "username": "u" } }"#,
      "bounces.imap.passwordEnv: missing"
    ),
    (
      #"{ "imap": { "url": "https://h/INBOX", "username": "u", "passwordEnv": "P" } }"#,
      "bounces.imap.url: expected imaps://"
    ),
    (#"{ "imap": { "username": "u", "passwordEnv": "P" } }"#, "bounces.imap.url: missing"),
    (#"{ "processedFolder": 3 }"#, "bounces.processedFolder: expected a string"),
  ])
  func mistakesAreNamedByTheirPath(_ section: String, _ message: String) {
    let p = problems(with(bounces: section)).joined(separator: "\n")
    #expect(p.contains(message), "\(p)")
    #expect(!p.contains("geheim"))
  }

  @Test func tagEnvelopeMustBeABoolean() {
    let p = problems(with(bounces: "{}", smtp: ", \"tagEnvelope\": \"yes\"")).joined()
    #expect(p.contains("smtp.tagEnvelope"), "\(p)")
  }
}
