import HerinnerCore

/// Why a use case refused or could not run: a code the command line maps to an exit status, a
/// one-line message that says what went wrong and what to do, and the underlying cause.
public struct AppError: Error, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    /// The command cannot do what was asked (a resend of a stage never sent, an unknown
    /// invoice, nothing to resolve): nothing was sent or changed.
    public static let refused = Code("refused")
    /// The input needed to decide safely is missing or too old (`payments.required`), or a
    /// file named on the command line cannot be read: nothing was sent.
    public static let invalidInput = Code("invalid-input")
    /// Something the run needs failed half-way (a file that could not be written).
    public static let failed = Code("failed")
  }

  public var code: Code
  public var message: String
  public var cause: (any Error & Sendable)?

  public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  public var description: String {
    guard let cause else { return message }
    return "\(message) (\(cause))"
  }
}

/// The mail server could not be used before anything was sent (unreachable, TLS, login, our
/// sender refused): nothing was sent and nothing marked.
public struct NothingSent: Error, Sendable, CustomStringConvertible {
  /// `host:port`.
  public var server: String
  public var cause: TransportError
  public init(server: String, cause: TransportError) {
    self.server = server
    self.cause = cause
  }
  public var description: String {
    "SMTP \(server): \(cause.message); nothing sent, nothing marked"
  }
}
