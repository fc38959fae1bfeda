#include "snorky/connector/backend.hpp"

#include <boost/json/serialize.hpp>

namespace snorky::connector {

namespace json = boost::json;

namespace {
std::string excerpt(const json::value& value) {
    std::string text = json::serialize(value);
    if (text.size() > 300) text = text.substr(0, 300) + "...";
    return text;
}

[[noreturn]] void badReply(const std::string& why, const json::value& reply) {
    throw TransportError(TransportError::Kind::BadReply, "unexpected reply from Snorky (" + why + "): " + excerpt(reply),
                         200, json::serialize(reply));
}
}  // namespace

json::value Backend::call(std::string_view service, std::string_view command, json::object params) {
    json::object message;
    message["command"] = command;
    message["params"] = std::move(params);
    json::object envelope;
    envelope["service"] = service;
    envelope["message"] = std::move(message);
    return unwrapReply(service, transport_.send(envelope));
}

json::value Backend::unwrapReply(std::string_view service, const json::value& reply) {
    const json::object* envelope = reply.if_object();
    if (!envelope) badReply("not a JSON object", reply);
    const json::value* sender = envelope->if_contains("service");
    if (!sender || !sender->is_string()) badReply("no service name", reply);
    if (sender->get_string() != service) badReply("answered by another service", reply);
    const json::value* messageValue = envelope->if_contains("message");
    const json::object* message = messageValue ? messageValue->if_object() : nullptr;
    if (!message) badReply("no message object", reply);
    const json::value* type = message->if_contains("type");
    if (!type || !type->is_string()) badReply("no message type", reply);

    if (type->get_string() == "response") {
        const json::value* data = message->if_contains("data");
        if (!data) badReply("response without data", reply);
        return *data;
    }
    if (type->get_string() == "error") {
        const json::value* text = message->if_contains("message");
        if (!text || !text->is_string()) badReply("error without a message text", reply);
        throw SnorkyError(std::string(text->get_string()));
    }
    badReply("type is neither response nor error", reply);
}

}  // namespace snorky::connector
