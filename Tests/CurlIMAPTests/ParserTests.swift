import CCurl
import CurlIMAP
import Testing

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The response reader on bytes, no socket.
struct ParserTests {
  static let good: [(String, [IMAPResponse])] = [
    ("* 3 EXISTS\r\n", [.untagged([.atom("3"), .atom("EXISTS")])]),
    (
      "* OK [UIDVALIDITY 1796178574] UIDs valid\r\n",
      [.untaggedStatus(.ok, code: "UIDVALIDITY", codeArguments: "1796178574", text: "UIDs valid")]
    ),
    (
      "* OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted.\r\n",
      [
        .untaggedStatus(
          .ok, code: "PERMANENTFLAGS", codeArguments: "(\\Seen \\*)", text: "Flags permitted.")
      ]
    ),
    (
      "* OK Dovecot (Debian) ready.\r\n",
      [.untaggedStatus(.ok, code: nil, codeArguments: nil, text: "Dovecot (Debian) ready.")]
    ),
    (
      "A003 OK [READ-WRITE] Select completed.\r\n",
      [.tagged(tag: "A003", .ok, code: "READ-WRITE", text: "Select completed.")]
    ),
    ("a1 no nope\r\n", [.tagged(tag: "a1", .no, code: nil, text: "nope")]),
    ("* SEARCH\r\n", [.untagged([.atom("SEARCH")])]),
    ("* SEARCH 2 5\n", [.untagged([.atom("SEARCH"), .atom("2"), .atom("5")])]),
    ("+ go ahead\r\n", [.continuation("go ahead")]),
    (
      "* LIST (\\HasNoChildren) \"/\" \"INBOX/her \\\"x\\\"\"\r\n",
      [
        .untagged([
          .atom("LIST"), .list([.atom("\\HasNoChildren")]), .quoted(bytes("/")),
          .quoted(bytes("INBOX/her \"x\"")),
        ])
      ]
    ),
    (
      "* LIST () NIL {5}\r\nIN)(X\r\n",
      [.untagged([.atom("LIST"), .list([]), .nil, .literal(bytes("IN)(X"))])]
    ),
    (
      "* 1 FETCH (UID 7 BODY[] {12}\r\nA001 OK x\r\n\r)\r\nA004 OK done\r\n",
      [
        .untagged([
          .atom("1"), .atom("FETCH"),
          .list([.atom("UID"), .atom("7"), .atom("BODY[]"), .literal(bytes("A001 OK x\r\n\r"))]),
        ]),
        .tagged(tag: "A004", .ok, code: nil, text: "done"),
      ]
    ),
    (
      "* 2 FETCH (BODY[HEADER.FIELDS (FROM)] {0}\r\n)\r\n",
      [
        .untagged([
          .atom("2"), .atom("FETCH"), .list([.atom("BODY[HEADER.FIELDS (FROM)]"), .literal([])]),
        ])
      ]
    ),
  ]

  @Test(arguments: good)
  func readsWellFormedResponses(input: String, expected: [IMAPResponse]) throws {
    #expect(try IMAPResponseParser.responses(bytes(input)) == expected)
  }

  /// Each is refused with an error, never a crash and never a shorter value.
  static let malformed: [String] = [
    "* 1 FETCH (UID 7 BODY[] {20}\r\nonly ten b)\r\n",  // cut short
    "* 1 FETCH (UID 7 BODY[] {12x}\r\n",
    "* 1 FETCH (UID 7 BODY[] {99999999999}\r\n",
    "* 1 FETCH (UID 7 BODY[] {5}x\r\nabcde)\r\n",
    "* 1 FETCH (UID 7\r\n",  // list not closed
    "* LIST () \"/\" \"INBOX\r\n",  // quote not closed
    "* LIST () \"\\x\" INBOX\r\n",  // bad escape
    "* 3 EXISTS",  // no end of line
    "* 3 EXISTS\r",
    "*3 EXISTS\r\n",
    "A001\r\n",
    "A001 MAYBE\r\n",
    "A001 BYE\r\n",
    " OK\r\n",
    "* OK [UIDVALIDITY 5 text\r\n",
    "* OK [] text\r\n",
    "* 1 FETCH )\r\n",
    "* SEARCH 1]\r\n",
    "* SEARCH a[b\r\n",
    "* SEARCH a\u{1}b\r\n",
    "* X " + String(repeating: "(", count: 40) + String(repeating: ")", count: 40) + "\r\n",
    "",
  ]

  @Test(arguments: malformed)
  func refusesMalformedResponses(input: String) {
    #expect(throws: IMAPParseError.self) {
      let r = try IMAPResponseParser.responses(bytes(input))
      if r.isEmpty { throw IMAPParseError(reason: "empty", offset: 0) }
    }
  }

  /// Every cut and many one-byte changes of a real conversation: an answer or an error, never a
  /// trap. (A deterministic generator, so a failure can be replayed.)
  @Test func neverTrapsOnCutOrDamagedInput() {
    let conversation = bytes(
      """
      * OK [CAPABILITY IMAP4rev1] ready\r
      A001 OK Logged in\r
      * 2 EXISTS\r
      * OK [UIDVALIDITY 9] x\r
      * LIST (\\Noselect) "/" {3}\r
      a/b\r
      * 1 FETCH (UID 4 FLAGS (\\Seen) BODY[] {10}\r
      0123456789)\r
      A002 OK done\r

      """)
    for cut in 0...conversation.count {
      _ = try? IMAPReply.last(in: Array(conversation[..<cut]))
    }
    var seed: UInt64 = 42
    for _ in 0..<5000 {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      var damaged = conversation
      let at = Int(seed >> 33) % damaged.count
      let byte = UInt8(truncatingIfNeeded: seed >> 13)
      damaged[at] = byte
      if let reply = try? IMAPReply.last(in: damaged) {
        _ = try? reply.fetchedBody(uid: 4)
        _ = try? reply.listEntries()
        _ = try? reply.searchResults()
        _ = try? MailboxStatus(selectReply: reply)
      }
    }
  }

  @Test func theReplyIsWhatFollowsTheEarlierCompletions() throws {
    let stream = bytes(
      "* OK [CAPABILITY IMAP4rev1] ready\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
        + "A001 OK Pre-login\r\n* CAPABILITY IMAP4rev1 MOVE UIDPLUS\r\nA002 OK Logged in\r\n"
        + "* CAPABILITY IMAP4rev1 MOVE UIDPLUS IDLE\r\nA003 OK Capability completed.\r\n")
    let reply = try IMAPReply.last(in: stream)
    #expect(reply.status == .ok)
    #expect(reply.capabilities() == ["IMAP4REV1", "MOVE", "UIDPLUS", "IDLE"])
    #expect(reply.line == "OK Capability completed.")
    #expect(throws: IMAPParseError.self) { try IMAPReply.last(in: bytes("* 1 EXISTS\r\n")) }
  }

  /// After a refused command libcurl logs out in the same perform: the refusal is what counts.
  @Test func aRefusalIsFoundBeforeLibcurlsLogout() throws {
    let stream = bytes(
      "* LIST () \"/\" INBOX\r\nA003 OK listed\r\n* 2 EXISTS\r\n"
        + "A004 NO [TRYCREATE] Mailbox doesn't exist\r\n* BYE Logging out\r\n"
        + "A005 OK Logout completed.\r\n")
    let reply = try IMAPReply.lastRefused(in: stream)
    #expect(reply.status == .no)
    #expect(reply.code == "TRYCREATE")
    #expect(reply.line == "NO [TRYCREATE] Mailbox doesn't exist")
    #expect(reply.untagged == [.untagged([.atom("2"), .atom("EXISTS")])])
    #expect(throws: IMAPParseError.self) {
      try IMAPReply.lastRefused(in: bytes("* BYE x\r\nA1 OK fine\r\n"))
    }
  }

  static let selects: [(String, MailboxStatus?)] = [
    (
      "* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 77] v\r\n"
        + "* OK [UIDNEXT 12] n\r\nA1 OK [READ-WRITE] ok\r\n",
      MailboxStatus(uidValidity: 77, uidNext: 12, exists: 3)
    ),
    (
      "* 0 EXISTS\r\n* OK [UIDVALIDITY 1] v\r\nA1 OK ok\r\n",
      MailboxStatus(uidValidity: 1, uidNext: nil, exists: 0)
    ),
    ("* 3 EXISTS\r\nA1 OK ok\r\n", nil),  // no UIDVALIDITY: no UID can be trusted
    ("* 3 EXISTS\r\n* OK [UIDVALIDITY 0] v\r\nA1 OK ok\r\n", nil),
    ("* 3 EXISTS\r\n* OK [UIDVALIDITY -4] v\r\nA1 OK ok\r\n", nil),
    ("* 3 EXISTS\r\n* OK [UIDVALIDITY 4294967296] v\r\nA1 OK ok\r\n", nil),
    ("* OK [UIDVALIDITY 5] v\r\nA1 OK ok\r\n", nil),
    ("* x EXISTS\r\n* OK [UIDVALIDITY 5] v\r\nA1 OK ok\r\n", nil),
  ]

  @Test(arguments: selects)
  func readsTheSelectedMailbox(input: String, expected: MailboxStatus?) throws {
    let reply = try IMAPReply.last(in: bytes(input))
    if let expected {
      #expect(try MailboxStatus(selectReply: reply) == expected)
    } else {
      #expect(throws: IMAPParseError.self) { try MailboxStatus(selectReply: reply) }
    }
  }

  static let searches: [(String, [UInt32]?)] = [
    ("* SEARCH\r\nA1 OK\r\n", []),
    ("* SEARCH 9 3 3 7\r\nA1 OK\r\n", [3, 7, 9]),
    ("* SEARCH 3\r\n* SEARCH 4\r\nA1 OK\r\n", [3, 4]),
    ("* SEARCH 3 4 (MODSEQ 917162500)\r\nA1 OK\r\n", [3, 4]),
    ("* SEARCH 3 x\r\nA1 OK\r\n", nil),
    ("* SEARCH 0\r\nA1 OK\r\n", nil),
    ("* SEARCH (MODSEQ 1) 3\r\nA1 OK\r\n", nil),
  ]

  @Test(arguments: searches)
  func readsSearchResults(input: String, expected: [UInt32]?) throws {
    let reply = try IMAPReply.last(in: bytes(input))
    if let expected {
      #expect(try reply.searchResults() == expected)
    } else {
      #expect(throws: IMAPParseError.self) { try reply.searchResults() }
    }
  }

  static let fetches: [(String, UInt32, [UInt8]??)] = [
    ("* 1 FETCH (UID 7 BODY[] {3}\r\na\r\n)\r\nA1 OK\r\n", 7, .some(bytes("a\r\n"))),
    ("* 1 FETCH (BODY[] \"abc\" UID 7)\r\nA1 OK\r\n", 7, .some(bytes("abc"))),
    // An unsolicited flag update first, then ours.
    (
      "* 2 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (UID 7 BODY[] {1}\r\nz)\r\nA1 OK\r\n", 7,
      .some(bytes("z"))
    ),
    ("* 1 FETCH (UID 8 BODY[] {1}\r\nz)\r\nA1 OK\r\n", 7, .some(nil)),  // another message
    ("A1 OK nothing\r\n", 7, .some(nil)),  // expunged meanwhile
    ("* 1 FETCH (UID 7 BODY[])\r\nA1 OK\r\n", 7, nil),
    ("* 1 FETCH (UID 7 BODY[] NIL)\r\nA1 OK\r\n", 7, nil),
    ("* 1 FETCH (UID x BODY[] {1}\r\nz)\r\nA1 OK\r\n", 7, nil),
    ("* 1 FETCH UID\r\nA1 OK\r\n", 7, nil),
  ]

  @Test(arguments: fetches)
  func readsTheFetchedMessage(input: String, uid: UInt32, expected: [UInt8]??) throws {
    let reply = try IMAPReply.last(in: bytes(input))
    if let expected {
      #expect(try reply.fetchedBody(uid: uid) == expected)
    } else {
      #expect(throws: IMAPParseError.self) { try reply.fetchedBody(uid: uid) }
    }
  }

  @Test func readsListEntries() throws {
    let reply = try IMAPReply.last(
      in: bytes(
        "* LIST (\\HasNoChildren) \"/\" INBOX/herinner\r\n* LIST (\\Noselect) \".\" \"a b\"\r\n"
          + "* LIST () NIL {3}\r\nx\"y\r\nA1 OK\r\n"))
    let entries = try reply.listEntries()
    #expect(
      entries == [
        ListEntry(flags: ["\\hasnochildren"], delimiter: "/", name: "INBOX/herinner"),
        ListEntry(flags: ["\\noselect"], delimiter: ".", name: "a b"),
        ListEntry(flags: [], delimiter: nil, name: "x\"y"),
      ])
    #expect(entries.map(\.selectable) == [true, false, true])
    for bad in ["* LIST \"/\" INBOX\r\nA1 OK\r\n", "* LIST () \"//\" INBOX\r\nA1 OK\r\n"] {
      #expect(throws: IMAPParseError.self) { try IMAPReply.last(in: bytes(bad)).listEntries() }
    }
  }
}

/// The cursor, the URL, folder names and libcurl's codes: pure.
struct PlanTests {
  static let plans: [(IMAPCursor?, MailboxStatus, IMAPReadPlan)] = [
    // First run: everything.
    (
      nil, MailboxStatus(uidValidity: 5, uidNext: 9, exists: 4),
      .init(firstUID: 1, restarted: false)
    ),
    (
      nil, MailboxStatus(uidValidity: 5, uidNext: 1, exists: 0),
      .init(firstUID: nil, restarted: false)
    ),
    // Same numbering: what came after the cursor.
    (
      IMAPCursor(uidValidity: 5, lastUID: 6), MailboxStatus(uidValidity: 5, uidNext: 9, exists: 4),
      .init(firstUID: 7, restarted: false)
    ),
    // Nothing new: UIDNEXT says so, no search needed.
    (
      IMAPCursor(uidValidity: 5, lastUID: 8), MailboxStatus(uidValidity: 5, uidNext: 9, exists: 4),
      .init(firstUID: nil, restarted: false)
    ),
    (
      IMAPCursor(uidValidity: 5, lastUID: 8),
      MailboxStatus(uidValidity: 5, uidNext: nil, exists: 4),
      .init(firstUID: 9, restarted: false)
    ),
    (
      IMAPCursor(uidValidity: 5, lastUID: UInt32.max),
      MailboxStatus(uidValidity: 5, uidNext: nil, exists: 4), .init(firstUID: nil, restarted: false)
    ),
    // Renumbered: start over.
    (
      IMAPCursor(uidValidity: 4, lastUID: 800),
      MailboxStatus(uidValidity: 5, uidNext: 9, exists: 4),
      .init(firstUID: 1, restarted: true)
    ),
    (
      IMAPCursor(uidValidity: 4, lastUID: 800),
      MailboxStatus(uidValidity: 5, uidNext: 1, exists: 0),
      .init(firstUID: nil, restarted: true)
    ),
  ]

  @Test(arguments: plans)
  func plansWhatToRead(cursor: IMAPCursor?, status: MailboxStatus, expected: IMAPReadPlan) {
    #expect(IMAPReadPlan(cursor: cursor, status: status) == expected)
  }

  @Test func theHighestUIDThatASearchAboveItReturnsIsNotNew() {
    let plan = IMAPReadPlan(firstUID: 9, restarted: false)
    #expect(plan.searchCommand == "UID SEARCH UID 9:*")
    // "9:*" with 8 the highest UID is "8:9": the server answers 8, which was read before.
    #expect(plan.newUIDs([8]) == [])
    #expect(plan.newUIDs([12, 9, 12]) == [9, 12])
    #expect(IMAPReadPlan(firstUID: nil, restarted: false).newUIDs([1]) == [])
  }

  static let urls: [(String, IMAPEndpoint?)] = [
    (
      "imaps://imap.example.nl:993/INBOX",
      IMAPEndpoint(host: "imap.example.nl", port: 993, mailbox: "INBOX")
    ),
    ("IMAPS://imap.example.nl", IMAPEndpoint(host: "imap.example.nl", port: 993, mailbox: "INBOX")),
    (
      "imaps://imap.example.nl/", IMAPEndpoint(host: "imap.example.nl", port: 993, mailbox: "INBOX")
    ),
    (
      "imaps://127.0.0.1:1993/INBOX/bounces/",
      IMAPEndpoint(host: "127.0.0.1", port: 1993, mailbox: "INBOX/bounces")
    ),
    (
      "imaps://[::1]:1993/INBOX%2Fb%C3%A9",
      IMAPEndpoint(host: "::1", port: 1993, mailbox: "INBOX/bé")
    ),
    ("imap://imap.example.nl/INBOX", nil),
    ("https://imap.example.nl/INBOX", nil),
    ("imaps://user:pw@imap.example.nl/INBOX", nil),
    ("imaps://imap.example.nl:99999/INBOX", nil),
    ("imaps://imap.example.nl:x/INBOX", nil),
    ("imaps://imap.example.nl:/INBOX", nil),
    ("imaps:///INBOX", nil),
    ("imaps://imap.example.nl/INBOX;UIDVALIDITY=5", nil),
    ("imaps://imap.example.nl/INBOX%zz", nil),
    ("imaps://imap.example.nl/%FF", nil),
    ("imaps://[::1/INBOX", nil),
  ]

  @Test(arguments: urls)
  func readsTheMailboxURL(url: String, expected: IMAPEndpoint?) throws {
    if let expected {
      #expect(try IMAPEndpoint(url: url) == expected)
    } else {
      let error = try #require(throws: IMAPError.self) { try IMAPEndpoint(url: url) }
      #expect(error.code == .settings)
      #expect(error.message.contains("bounces.imap.url"))
    }
  }

  static let names: [(String, String)] = [
    ("INBOX", "INBOX"),
    ("INBOX/herinner", "INBOX/herinner"),
    ("a&b", "a&-b"),
    ("Ärger", "&AMQ-rger"),
    // RFC 3501 §5.1.3's own example.
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
  ]

  @Test(arguments: names)
  func encodesFolderNamesInModifiedUTF7(name: String, encoded: String) {
    #expect(IMAPName.modifiedUTF7(name) == encoded)
  }

  @Test func theInboxIsTheInboxInAnyCase() {
    #expect(IMAPName.sameMailbox("INBOX", "inbox"))
    #expect(IMAPName.sameMailbox("INBOX/a", "INBOX/a"))
    #expect(!IMAPName.sameMailbox("INBOX/a", "inbox/a"))
    #expect(!IMAPName.sameMailbox("Archief", "archief"))
  }

  @Test func quotesFolderNames() {
    #expect(IMAPName.quoted("INBOX/her\"in\\ner") == "\"INBOX/her\\\"in\\\\ner\"")
    #expect(IMAPName.quoted("a\r\nb") == nil)
    #expect(IMAPName.quoted("") == nil)
  }

  static let codes: [(CURLcode, String)] = [
    (CURLE_LOGIN_DENIED, "CURLE_LOGIN_DENIED"),
    (CURLE_PEER_FAILED_VERIFICATION, "CURLE_PEER_FAILED_VERIFICATION"),
    (CURLE_COULDNT_CONNECT, "CURLE_COULDNT_CONNECT"),
    (CURLE_OPERATION_TIMEDOUT, "CURLE_OPERATION_TIMEDOUT"),
  ]

  @Test(arguments: codes)
  func namesLibcurlResults(code: CURLcode, name: String) {
    #expect(curlCodeName(code) == name)
  }

  @Test func theSettingsNeverPrintThePassword() {
    let s = IMAPSettings(url: "imaps://h/INBOX", username: "u", password: "geheim-42")
    #expect(!s.description.contains("geheim-42"))
    #expect(!String(describing: s).contains("geheim-42"))
  }
}
