#include "transport/rate_limited_reply.hpp"

#include <variant>

#include "snorky/protocol/envelope.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

FramePtr rateLimitedReply(std::string_view text, const ServiceRegistry& registry) {
    auto parsed = parseEnvelope(text);
    auto* envelope = std::get_if<Envelope>(&parsed);
    if (!envelope || !envelope->message.is_object() || !registry.find(envelope->service)) return nullptr;
    json::object reply;
    reply["type"] = "error";
    const json::value* callId = envelope->message.as_object().if_contains("callId");
    reply["callId"] = callId ? *callId : json::value(nullptr);
    reply["message"] = errors::kRateLimited;
    return Frame::envelope(envelope->service, reply);
}

}  // namespace snorky
