#pragma once
// Error strings are API: clients match on them (protocol.md section 8).
// Every text a client can receive lives here.
namespace snorky::errors {

// RPC (protocol.md section 2)
inline constexpr const char* kUnknownCommand = "Unknown command";
inline constexpr const char* kInvalidParams = "Invalid params";
inline constexpr const char* kInternalError = "Internal error";

// Backend HTTP (section 3)
inline constexpr const char* kMissingKey = "Missing X-Backend-Key header";
inline constexpr const char* kInvalidKey = "Invalid API key";
inline constexpr const char* kInvalidJson = "Invalid JSON";
inline constexpr const char* kMalformedEnvelope = "Malformed envelope";
inline constexpr const char* kUnknownService = "Unknown service";
inline constexpr const char* kMethodNotAllowed = "Method not allowed";
inline constexpr const char* kNotFound = "Not found";
inline constexpr const char* kBodyTooLarge = "Body too large";
inline constexpr const char* kServiceTimeout = "Service did not answer in time";
inline constexpr const char* kMalformedMessage = "Malformed message";
// Ours: a number beyond double range (1e400) is refused, never passed on.
inline constexpr const char* kNumberOutOfRange = "Number out of range";

// WebSocket abuse limits (ours): a message over the connection's rate limit
// is answered with this error (same service, same callId) and not processed.
inline constexpr const char* kRateLimited = "Rate limited";
// HTTP body of an upgrade refused with 429 (max_connections_per_ip).
inline constexpr const char* kTooManyConnections = "Too many connections from this address";

// PubSub (section 4)
inline constexpr const char* kAlreadySubscribed = "Already subscribed";
inline constexpr const char* kNotSubscribed = "Not subscribed";
inline constexpr const char* kNotAuthorized = "Not authorized";
inline constexpr const char* kTooManyChannels = "Too many channels";
// PubSub namespaces and subscription tokens (ours, docs/channel-authorization.md).
// Refusals also use kNotAuthenticated, kNotAuthorized, kInvalidToken,
// kTokenExpired, kTokenNotYetValid and kMessageTooLarge.
inline constexpr const char* kUnknownNamespace = "Unknown namespace";
inline constexpr const char* kChannelFull = "Channel full";
inline constexpr const char* kTokensNotConfigured = "Subscription tokens are not configured";
inline constexpr const char* kInvalidChannels = "Invalid channels";
// History (ours, docs/history.md): the backend's history command on a
// channel that keeps none. A bad `since` or `limit` is kInvalidParams.
inline constexpr const char* kHistoryNotEnabled = "History is not enabled for this channel";
// admin_backend disconnect: a close reason over 123 bytes.
inline constexpr const char* kInvalidReason = "Invalid reason";

// DataSync (section 7)
inline constexpr const char* kDealerNotString = "dealer should be a dealer name";
inline constexpr const char* kNoSuchDealer = "No such dealer";
inline constexpr const char* kMissingDealerField = "Missing field 'dealer'";
inline constexpr const char* kMissingQueryField = "Missing field 'query'";
inline constexpr const char* kInvalidQuery = "Invalid query";
inline constexpr const char* kModelNotString = "model must be string";
inline constexpr const char* kInvalidDeltaType = "Invalid delta type";
inline constexpr const char* kMissingField = "Missing field";
inline constexpr const char* kTokenNotString = "token must be string";
inline constexpr const char* kNoSuchSubscription = "No such subscription";
// DataSync limits (ours; the original had none)
inline constexpr const char* kTooManyItems = "Too many items";
inline constexpr const char* kTooManySubscriptions = "Too many subscriptions";
inline constexpr const char* kTooManyPendingSubscriptions = "Too many pending subscriptions";

// Identity (section 6; the auth and auth_backend services, connect-time tokens)
inline constexpr const char* kNotAuthenticated = "Not authenticated";
inline constexpr const char* kInvalidToken = "Invalid token";
inline constexpr const char* kTokenExpired = "Token expired";
// Ours: a WebSocket upgrade whose query string does not parse (401: it may hide a token).
inline constexpr const char* kMalformedQuery = "Malformed query string";
inline constexpr const char* kTokenNotYetValid = "Token not yet valid";  // ours: nbf in the future
inline constexpr const char* kAlreadyAuthenticated = "Already authenticated";
inline constexpr const char* kInvalidIdentity = "Invalid identity";
inline constexpr const char* kInvalidLifetime = "Invalid lifetime";

// Messaging (section 5)
inline constexpr const char* kNameAlreadyRegistered = "Name already registered";
inline constexpr const char* kNameNotAllowed = "Name not allowed";
inline constexpr const char* kUnknownParticipant = "Unknown participant";
inline constexpr const char* kInvalidParticipant = "Invalid participant";
inline constexpr const char* kInvalidSender = "Invalid sender";
inline constexpr const char* kUnknownDestination = "Unknown destination";
inline constexpr const char* kTooManyNames = "Too many names";
inline constexpr const char* kMessageTooLarge = "Message too large";

// Scale-out (docs/scale-out.md): a command that needs the shared cluster state
// while the engine (Redis) is unreachable.
inline constexpr const char* kClusterUnavailable = "Cluster unavailable";

// Chat and Cursors (section 6)
inline constexpr const char* kAlreadyJoined = "Already joined";
inline constexpr const char* kNotJoined = "Not joined";
inline constexpr const char* kReusedHandle = "Reused handle";
inline constexpr const char* kTooManyCursors = "Too many cursors";
inline constexpr const char* kNoSuchCursor = "No such cursor";
inline constexpr const char* kTooManyDocuments = "Too many documents";
inline constexpr const char* kCursorTooLarge = "Cursor too large";

}  // namespace snorky::errors
