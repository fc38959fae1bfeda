#include "snorky/protocol/envelope.hpp"

namespace snorky {

std::variant<Envelope, DropReason> parseEnvelope(std::string_view text) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec) return DropReason::InvalidJson;
    // Boost.JSON reads 1e400 as infinity, which no JSON text can carry: such
    // a message would reach every subscriber as a frame they cannot parse.
    if (!allNumbersFinite(value)) return DropReason::NumberOutOfRange;
    json::object* object = value.if_object();
    if (!object) return DropReason::NotAnObject;
    auto service = object->find("service");
    auto message = object->find("message");
    if (service == object->end() || !service->value().is_string() || message == object->end())
        return DropReason::MalformedEnvelope;
    return Envelope{std::string(service->value().as_string()), std::move(message->value())};
}

void appendEnvelope(std::string_view service, const json::value& message, std::string& out) {
    out += "{\"service\":";
    out += json::serialize(json::string_view(service.data(), service.size()));
    out += ",\"message\":";
    appendJson(message, out);
    out += '}';
}

std::string serializeEnvelope(std::string_view service, const json::value& message) {
    std::string out;
    out.reserve(32 + service.size());
    appendEnvelope(service, message, out);
    return out;
}

}  // namespace snorky
