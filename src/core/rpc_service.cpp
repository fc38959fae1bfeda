#include "snorky/core/rpc_service.hpp"

#include "snorky/core/log.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

bool matches(ParamType type, const json::value& value) {
    switch (type) {
        case ParamType::Any: return true;
        case ParamType::String: return value.is_string();
        case ParamType::Number: return value.is_number();
        case ParamType::Integer: return exactInteger(value).has_value();  // 1e300 or 2^64: not an int64
        case ParamType::Boolean: return value.is_bool();
        case ParamType::Object: return value.is_object();
        case ParamType::Array: return value.is_array();
    }
    return false;
}

Request::Request(ClientPtr client, std::string service, json::value callId, bool hasCallId, json::object params)
    : client_(std::move(client)),
      service_(std::move(service)),
      callId_(std::move(callId)),
      hasCallId_(hasCallId),
      params_(std::move(params)) {}

Request::~Request() {
    if (!resolved_) {
        SNORKY_LOG(Error, "RPC request to " << service_ << " was dropped unresolved");
        reject(errors::kInternalError);
    }
}

const json::value& Request::param(std::string_view name) const {
    static const json::value null;
    auto it = params_.find(name);
    return it == params_.end() ? null : it->value();
}

void Request::resolve(json::value data) {
    if (resolved_) return;
    resolved_ = true;
    json::object reply;
    reply["type"] = "response";
    if (hasCallId_) reply["callId"] = callId_;
    reply["data"] = std::move(data);
    client_->send(Frame::envelope(service_, reply));
}

void Request::reject(std::string_view message) {
    if (resolved_) return;
    resolved_ = true;
    json::object reply;
    reply["type"] = "error";
    reply["callId"] = callId_;  // always present in errors, null when the call had none
    reply["message"] = message;
    client_->send(Frame::envelope(service_, reply));
}

const ClientPtr& RpcService::authenticated(const Request& req) {
    if (!req.client()->authenticated()) throw RpcError(errors::kNotAuthenticated);
    return req.client();
}

void RpcService::addCommand(std::string name, std::vector<Param> params, AsyncHandler handler) {
    commands_[std::move(name)] = Command{std::move(params), std::move(handler)};
}

const char* RpcService::checkParams(const std::vector<Param>& declared, json::object& given) {
    // All required present, no unknown ones, right types.
    for (const auto& param : given) {
        bool known = false;
        for (const Param& p : declared) known = known || p.name == param.key();
        if (!known) return errors::kInvalidParams;
    }
    for (const Param& p : declared) {
        auto it = given.find(p.name);
        if (it == given.end()) {
            if (p.required) return errors::kInvalidParams;
            given[p.name] = p.defaultValue;
        } else if (!matches(p.type, it->value())) {
            return errors::kInvalidParams;
        }
    }
    return nullptr;
}

void RpcService::onMessage(const ClientPtr& client, json::value message) {
    json::object* body = message.if_object();
    if (!body) return node().drop(client, DropReason::MalformedMessage);
    auto commandIt = body->find("command");
    auto paramsIt = body->find("params");
    if (commandIt == body->end() || paramsIt == body->end() || !commandIt->value().is_string() ||
        !paramsIt->value().is_object())
        return node().drop(client, DropReason::MalformedMessage);

    auto callIdIt = body->find("callId");
    bool hasCallId = callIdIt != body->end();
    json::object params = std::move(paramsIt->value().as_object());
    auto command = commands_.find(std::string_view(commandIt->value().as_string()));
    // Checked before the Request holds them, which then never changes them.
    const char* error = command == commands_.end() ? errors::kUnknownCommand : checkParams(command->second.params, params);
    auto request = std::make_shared<Request>(client, name(), hasCallId ? callIdIt->value() : json::value(),
                                             hasCallId, std::move(params));
    if (error) return request->reject(error);

    try {
        command->second.handler(request);
    } catch (const RpcError& error) {
        request->reject(error.what());
    } catch (const std::exception& error) {
        SNORKY_LOG(Error, "service " << name() << " failed in " << commandIt->value().as_string() << ": " << error.what());
        request->reject(errors::kInternalError);
    }
}

}  // namespace snorky
