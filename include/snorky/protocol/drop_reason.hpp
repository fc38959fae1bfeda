#pragma once
// Why a message was refused without an answer (protocol.md section 1): the
// envelope codec finds the first four, the registry the last two. The
// transports turn each into what their peer sees (nothing on WebSocket, a 4xx
// on the HTTP backend).
#include <string_view>

namespace snorky {

enum class DropReason {
    InvalidJson,        // not JSON at all
    NotAnObject,        // JSON, but the envelope is not an object
    MalformedEnvelope,  // no string "service" or no "message"
    UnknownService,     // no such service in this registry
    MalformedMessage,   // the service could not read the message (e.g. RPC without command)
    NumberOutOfRange,   // a number beyond double range (1e400): it has no JSON text to pass on
};
std::string_view describe(DropReason reason);

}  // namespace snorky
