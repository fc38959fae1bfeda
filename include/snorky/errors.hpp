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

// PubSub (section 4)
inline constexpr const char* kAlreadySubscribed = "Already subscribed";
inline constexpr const char* kNotSubscribed = "Not subscribed";
inline constexpr const char* kNotAuthorized = "Not authorized";
inline constexpr const char* kTooManyChannels = "Too many channels";

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

}  // namespace snorky::errors
