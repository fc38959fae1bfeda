#include "snorky/services/messaging.hpp"

#include <algorithm>

#include "snorky/errors.hpp"

namespace snorky {

MessagingService::MessagingService(std::string name, Options options)
    : RpcService(std::move(name)), options_(options) {
    command("registerParticipant", {required("name", ParamType::String)}, [this](Request& req) {
        std::string participant(req.string("name"));
        if (participants_.count(participant)) throw RpcError(errors::kNameAlreadyRegistered);
        if (participant.size() > options_.maxNameBytes || !isNameAllowed(req.client(), participant))
            throw RpcError(errors::kNameNotAllowed);
        auto& owned = clientNames_[req.client().get()];
        if (owned.size() >= options_.maxNamesPerClient) {
            if (owned.empty()) clientNames_.erase(req.client().get());
            throw RpcError(errors::kTooManyNames);
        }
        owned.push_back(participant);
        participants_.emplace(std::move(participant), req.client());
    });
    command("unregisterParticipant", {required("name", ParamType::String)}, [this](Request& req) {
        auto it = participants_.find(std::string(req.string("name")));
        if (it == participants_.end()) throw RpcError(errors::kUnknownParticipant);
        if (it->second != req.client()) throw RpcError(errors::kInvalidParticipant);
        auto owned = clientNames_.find(req.client().get());
        auto& names = owned->second;
        names.erase(std::find(names.begin(), names.end(), it->first));
        if (names.empty()) clientNames_.erase(owned);
        participants_.erase(it);
    });
    command("listParticipants", {}, [this](Request&) {
        json::array names;
        names.reserve(participants_.size());
        for (const auto& [participant, owner] : participants_) names.emplace_back(participant);
        return names;
    });
    command("send", {required("sender", ParamType::String), required("dest", ParamType::String), required("body")},
            [this](Request& req) {
                auto sender = participants_.find(std::string(req.string("sender")));
                if (sender == participants_.end() || sender->second != req.client())
                    throw RpcError(errors::kInvalidSender);
                auto dest = participants_.find(std::string(req.string("dest")));
                if (dest == participants_.end()) throw RpcError(errors::kUnknownDestination);
                if (json::serialize(req.param("body")).size() > options_.maxBodyBytes)
                    throw RpcError(errors::kMessageTooLarge);
                json::object message;
                message["type"] = "message";
                message["sender"] = req.param("sender");
                message["dest"] = req.param("dest");
                message["body"] = req.param("body");
                send(dest->second, message);
            });
}

bool MessagingService::isNameAllowed(const ClientPtr&, const std::string&) { return true; }

void MessagingService::onDisconnect(const ClientPtr& client) {
    auto owned = clientNames_.find(client.get());
    if (owned == clientNames_.end()) return;
    for (const std::string& participant : owned->second) participants_.erase(participant);
    clientNames_.erase(owned);
}

}  // namespace snorky
