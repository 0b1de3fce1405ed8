/// Why the mailbox could not be read: a code for the caller's decision (the executable maps
/// unreachable, tls and login to its exit code for a server that cannot be used), a one-line
/// message for the operator that says what to check, and the underlying cause. Never holds the
/// password.
public struct IMAPError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    /// No connection: the host is unknown, nothing listens, or the server stopped answering.
    case unreachable
    /// TLS failed: an untrusted or mismatched certificate, an unreadable CA file.
    case tls
    /// The server refused the user name and password.
    case login
    /// The mailbox or the processed folder cannot be used (missing, cannot be created).
    case mailbox
    /// The server answered something herinner cannot read, or refused a command.
    case `protocol`
    /// The settings themselves are wrong (the URL); nothing was tried.
    case settings
  }

  /// What lies underneath: libcurl's result and the server's words, as far as known.
  public struct Cause: Sendable, Equatable, CustomStringConvertible {
    /// libcurl's result by name, e.g. `CURLE_LOGIN_DENIED`.
    public var curlCode: String?
    /// libcurl's own explanation (its error buffer), or the parser's.
    public var detail: String?
    /// The server's completion line, e.g. `NO [TRYCREATE] Mailbox doesn't exist`.
    public var serverReply: String?

    public init(curlCode: String? = nil, detail: String? = nil, serverReply: String? = nil) {
      self.curlCode = curlCode
      self.detail = detail
      self.serverReply = serverReply
    }

    public var description: String {
      var parts: [String] = []
      if let curlCode { parts.append(curlCode) }
      if let detail, !detail.isEmpty { parts.append(detail) }
      if let serverReply { parts.append("the server said: \(serverReply)") }
      return parts.joined(separator: "; ")
    }
  }

  public var code: Code
  public var message: String
  public var cause: Cause?

  public init(_ code: Code, _ message: String, cause: Cause? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  public var description: String {
    guard let cause, !cause.description.isEmpty else { return message }
    return "\(message) (\(cause))"
  }
}
