/// The server's answer to one command: the untagged responses it sent, then its completion.
public struct IMAPReply: Sendable, Equatable {
  public var untagged: [IMAPResponse]
  public var status: IMAPStatus
  public var code: String?
  /// The completion line's text (`Select completed`), for messages.
  public var text: String

  public init(untagged: [IMAPResponse], status: IMAPStatus, code: String?, text: String) {
    self.untagged = untagged
    self.status = status
    self.code = code
    self.text = text
  }

  /// The reply to the last command in `bytes`: everything libcurl received during one perform
  /// (greeting, login and earlier commands included, when it had to connect). Pure.
  ///
  /// The last response must be a tagged completion; the reply's untagged responses are those
  /// after the completion before it.
  public static func last(in bytes: [UInt8]) throws(IMAPParseError) -> IMAPReply {
    let all = try IMAPResponseParser.responses(bytes)
    guard case .tagged = all.last else {
      throw IMAPParseError(
        reason: "the server's answer does not end with the command's completion",
        offset: bytes.count)
    }
    return reply(endingAt: all.count - 1, in: all)
  }

  /// The reply to a command the server refused (NO or BAD) somewhere in `bytes`. Pure.
  ///
  /// After a refused custom command libcurl closes the connection within the same perform, so
  /// the answer ends with LOGOUT's (`* BYE`, `A005 OK`): the refusal is the last completion
  /// that is not OK.
  public static func lastRefused(in bytes: [UInt8]) throws(IMAPParseError) -> IMAPReply {
    let all = try IMAPResponseParser.responses(bytes)
    guard
      let end = all.lastIndex(where: {
        if case .tagged(_, let status, _, _) = $0 { return status != .ok }
        return false
      })
    else {
      throw IMAPParseError(
        reason: "the server refused a command but its answer holds no refusal",
        offset: bytes.count)
    }
    return reply(endingAt: end, in: all)
  }

  private static func reply(endingAt end: Int, in all: [IMAPResponse]) -> IMAPReply {
    guard case .tagged(_, let status, let code, let text) = all[end] else {
      return IMAPReply(untagged: [], status: .bad, code: nil, text: "")
    }
    var start = end
    while start > 0 {
      if case .tagged = all[start - 1] { break }
      start -= 1
    }
    return IMAPReply(untagged: Array(all[start..<end]), status: status, code: code, text: text)
  }
}

/// A mailbox as SELECT reports it (RFC 3501 §6.3.1).
public struct MailboxStatus: Sendable, Equatable {
  public var uidValidity: UInt32
  /// The UID the next message will get, when the server says (RFC 3501 requires it; some omit).
  public var uidNext: UInt32?
  public var exists: UInt32

  public init(uidValidity: UInt32, uidNext: UInt32?, exists: UInt32) {
    self.uidValidity = uidValidity
    self.uidNext = uidNext
    self.exists = exists
  }

  /// From a SELECT or EXAMINE reply. Pure. No UIDVALIDITY or no EXISTS is an error: without
  /// them no UID can be trusted.
  public init(selectReply reply: IMAPReply) throws(IMAPParseError) {
    var validity: UInt32? = nil
    var next: UInt32? = nil
    var exists: UInt32? = nil
    for r in reply.untagged {
      switch r {
      case .untaggedStatus(.ok, let code?, let arguments, _):
        if code == "UIDVALIDITY" {
          guard let v = arguments.flatMap({ parseNumber(Substring($0)) }), v > 0 else {
            throw IMAPParseError(reason: "UIDVALIDITY is not a positive number", offset: 0)
          }
          validity = v
        } else if code == "UIDNEXT" {
          guard let v = arguments.flatMap({ parseNumber(Substring($0)) }) else {
            throw IMAPParseError(reason: "UIDNEXT is not a number", offset: 0)
          }
          next = v
        }
      case .untagged(let values):
        if values.count == 2, case .atom(let name) = values[1], name.uppercased() == "EXISTS" {
          guard let n = values[0].number else {
            throw IMAPParseError(reason: "EXISTS without a count", offset: 0)
          }
          exists = n
        }
      default: break
      }
    }
    guard let validity else {
      throw IMAPParseError(reason: "the server did not say the mailbox's UIDVALIDITY", offset: 0)
    }
    guard let exists else {
      throw IMAPParseError(reason: "the server did not say how many messages exist", offset: 0)
    }
    self.init(uidValidity: validity, uidNext: next, exists: exists)
  }
}

extension IMAPReply {
  /// The UIDs in the reply's `* SEARCH` responses (RFC 3501 §7.2.5), ascending, each once. Pure.
  /// A trailing `(MODSEQ n)` (RFC 7162 §3.1.5) is allowed and ignored.
  public func searchResults() throws(IMAPParseError) -> [UInt32] {
    var uids: Set<UInt32> = []
    for r in untagged {
      guard case .untagged(let values) = r, case .atom(let name)? = values.first,
        name.uppercased() == "SEARCH"
      else { continue }
      for (k, v) in values.dropFirst().enumerated() {
        if let n = v.number, n > 0 {
          uids.insert(n)
        } else if case .list = v, k == values.count - 2 {
          continue
        } else {
          throw IMAPParseError(reason: "a SEARCH result that is not a UID", offset: 0)
        }
      }
    }
    return uids.sorted()
  }

  /// The capabilities named in a `* CAPABILITY` response, upper-cased. Pure.
  public func capabilities() -> Set<String> {
    var out: Set<String> = []
    for r in untagged {
      guard case .untagged(let values) = r, case .atom(let name)? = values.first,
        name.uppercased() == "CAPABILITY"
      else { continue }
      for v in values.dropFirst() {
        if case .atom(let a) = v { out.insert(a.uppercased()) }
      }
    }
    return out
  }

  /// The exact bytes of `BODY[]` in the `* n FETCH` response for `uid` (RFC 3501 §7.4.2), or nil
  /// when the server sent none (the message was expunged meanwhile). Pure.
  public func fetchedBody(uid: UInt32) throws(IMAPParseError) -> [UInt8]? {
    for r in untagged {
      guard case .untagged(let values) = r, values.count == 3, values[0].number != nil,
        case .atom(let name) = values[1], name.uppercased() == "FETCH"
      else { continue }
      guard case .list(let items) = values[2], items.count % 2 == 0 else {
        throw IMAPParseError(reason: "a FETCH response that is not a list of pairs", offset: 0)
      }
      var fetchedUID: UInt32? = nil
      var body: [UInt8]? = nil
      var k = 0
      while k + 1 < items.count {
        guard case .atom(let key) = items[k] else {
          throw IMAPParseError(reason: "a FETCH item without a name", offset: 0)
        }
        let value = items[k + 1]
        switch key.uppercased() {
        case "UID":
          guard let n = value.number else {
            throw IMAPParseError(reason: "a FETCH UID that is not a number", offset: 0)
          }
          fetchedUID = n
        case "BODY[]":
          switch value {
          case .literal(let b), .quoted(let b): body = b
          default:
            throw IMAPParseError(reason: "BODY[] is not a string", offset: 0)
          }
        default: break
        }
        k += 2
      }
      // Servers also send unsolicited FETCH responses (flag changes): only ours counts.
      if fetchedUID == uid, let body { return body }
    }
    return nil
  }

  /// The `* LIST` entries (RFC 3501 §7.2.2): flags, the hierarchy delimiter and the name as the
  /// server spells it (modified UTF-7). Pure.
  public func listEntries() throws(IMAPParseError) -> [ListEntry] {
    var out: [ListEntry] = []
    for r in untagged {
      guard case .untagged(let values) = r, case .atom(let name)? = values.first,
        name.uppercased() == "LIST"
      else { continue }
      guard values.count >= 4, case .list(let flagValues) = values[1] else {
        throw IMAPParseError(reason: "a LIST response without flags, delimiter and name", offset: 0)
      }
      var flags: Set<String> = []
      for f in flagValues {
        guard case .atom(let a) = f else {
          throw IMAPParseError(reason: "a LIST flag that is not an atom", offset: 0)
        }
        flags.insert(a.lowercased())
      }
      var delimiter: String? = nil
      switch values[2] {
      case .nil: delimiter = nil
      case .quoted(let d) where d.count == 1: delimiter = String(decoding: d, as: UTF8.self)
      default:
        throw IMAPParseError(reason: "a LIST delimiter that is not one character", offset: 0)
      }
      guard let nameBytes = values[3].bytes else {
        throw IMAPParseError(reason: "a LIST entry without a name", offset: 0)
      }
      out.append(
        ListEntry(
          flags: flags, delimiter: delimiter, name: String(decoding: nameBytes, as: UTF8.self)))
    }
    return out
  }
}

/// One folder as LIST names it.
public struct ListEntry: Sendable, Equatable {
  /// Lower-cased (`\noselect`, `\hasnochildren`, `\nonexistent`).
  public var flags: Set<String>
  public var delimiter: String?
  public var name: String

  public init(flags: Set<String>, delimiter: String?, name: String) {
    self.flags = flags
    self.delimiter = delimiter
    self.name = name
  }

  /// A folder messages can be copied into (RFC 3501 \Noselect, RFC 5258 \NonExistent).
  public var selectable: Bool { !flags.contains("\\noselect") && !flags.contains("\\nonexistent") }
}
