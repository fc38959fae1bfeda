#pragma once
// Envelope codec (protocol.md section 1): pure functions, no I/O.
#include <string>
#include <string_view>
#include <variant>

#include "snorky/protocol/drop_reason.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

struct Envelope {
    std::string service;
    json::value message;
};

// Parses {"service": "<name>", "message": <any>}; the DropReason says why not.
std::variant<Envelope, DropReason> parseEnvelope(std::string_view text);

// Serializes an envelope (key order: service, message).
std::string serializeEnvelope(std::string_view service, const json::value& message);
// The same, appended to `out` (Frame::envelope writes after its header room).
void appendEnvelope(std::string_view service, const json::value& message, std::string& out);

}  // namespace snorky
