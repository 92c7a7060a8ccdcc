/// One message of a conversation, as chat templates see it: `message['role']` and
/// `message['content']` (or `message.role`, `message.content`).
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user`, `assistant`, ...
    public var role: String
    /// The message text.
    public var content: String

    /// A message with the given role and text.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
