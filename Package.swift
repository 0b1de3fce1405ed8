// swift-tools-version:6.0
import PackageDescription

// One settings array for every target (Hummingbird's habit): Swift 6 mode, strict concurrency.
let settings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
  name: "herinner",
  products: [
    .executable(name: "herinner", targets: ["herinner"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
  ],
  targets: [
    // Pure: values, policy, calendar, the ladder, WIK and interest, the ports. Foundation only.
    .target(name: "HerinnerCore", swiftSettings: settings),
    // Config and invoice sources.
    .target(name: "HerinnerInput", dependencies: ["HerinnerCore"], swiftSettings: settings),
    // Templates → letter (its own Mustache engine), and the MIME composer. Pure.
    .target(
      name: "HerinnerLetters",
      dependencies: ["HerinnerCore"], swiftSettings: settings),
    // The system SQLite (libsqlite3-dev).
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    // The delivery ledger on a SQLite file.
    .target(
      name: "HerinnerLedger", dependencies: ["HerinnerCore", "CSQLite"], swiftSettings: settings),
    // libcurl (libcurl4-openssl-dev) and the SMTP transport on it.
    .systemLibrary(
      name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    .target(name: "CurlSMTP", dependencies: ["HerinnerCore", "CCurl"], swiftSettings: settings),
    // The IMAP client on libcurl that reads returned mail (bounces fetch).
    .target(name: "CurlIMAP", dependencies: ["HerinnerCore", "CCurl"], swiftSettings: settings),
    // syncfs(2), which Glibc only declares with _GNU_SOURCE.
    .target(name: "CHerinnerSystem"),
    // Returned mail: MIME reader, delivery reports, auto-replies, matching to a reminder. Pure.
    .target(name: "HerinnerBounces", dependencies: ["HerinnerCore"], swiftSettings: settings),
    // The night's machinery: the planner, and the runner that renders, records and sends.
    .target(
      name: "HerinnerBatch", dependencies: ["HerinnerCore", "HerinnerLetters", "HerinnerBounces"],
      swiftSettings: settings),
    // The application: one use case per command (the night, resend, resolve, the read models,
    // export). Sees only the ports; never prints, never exits.
    .target(
      name: "HerinnerApp",
      dependencies: [
        "HerinnerCore", "HerinnerInput", "HerinnerLetters", "HerinnerBatch", "HerinnerBounces",
      ],
      swiftSettings: settings),
    // File-system adapters: the archive (Archive.live), the attachments (Attachments.live),
    // the run lock (FlockRunLock), the dossier writer.
    .target(
      name: "HerinnerFiles",
      dependencies: ["HerinnerCore", "HerinnerInput", "HerinnerApp", "CHerinnerSystem"],
      swiftSettings: settings),
    // The command line: parses, wires the live adapters (Live.swift), prints, maps exit codes.
    .executableTarget(
      name: "herinner",
      dependencies: [
        "HerinnerCore", "HerinnerInput", "HerinnerLedger", "HerinnerLetters", "HerinnerBatch",
        "HerinnerApp", "HerinnerFiles", "HerinnerBounces", "CurlSMTP", "CurlIMAP",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings),
    // Benchmarks (Benchmarks/run builds it in release mode).
    .executableTarget(
      name: "herinner-bench",
      dependencies: ["HerinnerCore", "HerinnerInput", "HerinnerLetters", "CurlSMTP"],
      swiftSettings: settings),
    .testTarget(
      name: "HerinnerBatchTests",
      dependencies: ["HerinnerBatch", "HerinnerLetters", "HerinnerBounces"],
      swiftSettings: settings),
    .testTarget(
      name: "HerinnerBouncesTests",
      dependencies: ["HerinnerBounces", "HerinnerCore", "HerinnerLedger"],
      exclude: ["Fixtures"], swiftSettings: settings),
    .testTarget(name: "HerinnerCoreTests", dependencies: ["HerinnerCore"], swiftSettings: settings),
    .testTarget(
      name: "HerinnerInputTests", dependencies: ["HerinnerInput"], swiftSettings: settings),
    // swift-mustache is the reference the template engine is tested against (differential test).
    .testTarget(
      name: "HerinnerLettersTests",
      dependencies: ["HerinnerLetters", .product(name: "Mustache", package: "swift-mustache")],
      // The golden letters are read from the source tree, not bundled.
      exclude: ["Golden"], swiftSettings: settings),
    // Starts the real test servers (aiosmtpd, smtp-sink) for the integration tests.
    .target(name: "HerinnerTestSupport", path: "Tests/Support", swiftSettings: settings),
    .testTarget(
      name: "CurlSMTPTests", dependencies: ["CurlSMTP", "HerinnerTestSupport"],
      swiftSettings: settings),
    // The IMAP response parser on bytes; the client against a real Dovecot the tests start.
    .testTarget(
      name: "CurlIMAPTests", dependencies: ["CurlIMAP", "CCurl", "HerinnerTestSupport"],
      swiftSettings: settings),
    .testTarget(
      name: "HerinnerLedgerTests",
      dependencies: ["HerinnerLedger", "CSQLite", "HerinnerApp", "HerinnerBounces"],
      swiftSettings: settings),
    .testTarget(
      name: "HerinnerAppTests",
      dependencies: ["HerinnerApp", "HerinnerFiles", "HerinnerTestSupport"],
      swiftSettings: settings),
    .testTarget(
      name: "HerinnerCLITests",
      dependencies: ["HerinnerCore", "HerinnerLedger", "HerinnerTestSupport", "CHerinnerSystem"],
      swiftSettings: settings),
  ],
  swiftLanguageModes: [.v6]
)
