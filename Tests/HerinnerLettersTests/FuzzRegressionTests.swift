import Foundation
import Testing

@testable import HerinnerLetters

/// Templates that hung the loader, found reproducing the fuzz target's find (Fuzz/templates,
/// scripts/fuzz: a partial including itself): each is refused with a message now, in well under
/// a second.
@Suite struct FuzzRegressionTests {
  /// The problems of a template folder whose `nl/first.txt.mustache` includes `p`, with these
  /// partials (the other letters are missing: "missing template").
  static func problems(partials: [String: String]) throws -> [String] {
    let dir = NSTemporaryDirectory() + "herinner-fuzz-" + UUID().uuidString
    let nl = dir + "/nl"
    try FileManager.default.createDirectory(atPath: nl, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var files = partials.mapValues { $0 }
    files["first.txt"] = "Subject: Herinnering\n\n{{> p}}\n"
    for (name, body) in files {
      try body.write(toFile: "\(nl)/\(name).mustache", atomically: true, encoding: .utf8)
    }
    do {
      _ = try TemplateSet.load(folder: dir)
      return []
    } catch {
      return error.all.map(\.message)
    }
  }

  /// A partial that includes itself twenty times walked 20⁹ inclusions
  /// before the depth limit; a chain of partials each including the next ten times, 10⁸ without
  /// any recursion. Both are refused by the inclusion limit.
  @Test(
    .timeLimit(.minutes(1)),
    arguments: [
      ["p": String(repeating: "{{> p}}", count: 20)],
      Dictionary(
        uniqueKeysWithValues: ["p", "q", "r", "s", "t", "u", "v", "w"].enumerated().map {
          let next = ["q", "r", "s", "t", "u", "v", "w", "x"][$0.offset]
          return ($0.element, String(repeating: "{{> \(next)}}", count: 10))
        } + [("x", "{{customer}}")]),
    ])
  func partialsIncludedTooOftenAreRefused(_ partials: [String: String]) throws {
    let started = ContinuousClock.now
    let messages = try Self.problems(partials: partials)
    #expect(messages.contains("partials are included more than 10000 times in all"))
    #expect(ContinuousClock.now - started < .seconds(30))
  }

  /// A partial included a few times, nested a few deep, is still fine.
  @Test func partialsIncludedAFewTimesStillLoad() throws {
    let messages = try Self.problems(partials: [
      "p": "{{> q}}{{> q}}\n", "q": "{{customer}} {{> r}}{{> r}}", "r": "{{total}}",
    ])
    #expect(messages.allSatisfy { $0 == "missing template" })
  }
}
