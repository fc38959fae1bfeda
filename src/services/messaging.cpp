#include "snorky/services/messaging.hpp"

#include <algorithm>

#include "snorky/core/log.hpp"
#include "snorky/core/node.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

MessagingService::MessagingService(std::string name, Options options)
    : RpcService(std::move(name)),
      options_(options),
      keyPrefix_("messaging:" + this->name() + ":names:") {
    asyncCommand("registerParticipant", {required("name", ParamType::String)}, &MessagingService::registerParticipant);
    command("unregisterParticipant", {required("name", ParamType::String)}, &MessagingService::unregisterParticipant);
    asyncCommand("listParticipants", {}, &MessagingService::listParticipants);
    asyncCommand("send", {required("sender", ParamType::String), required("dest", ParamType::String), required("body")},
                 &MessagingService::sendMessage);
}

// ---- commands ----

void MessagingService::registerParticipant(const RequestPtr& req) {
    std::string participant(req->string("name"));
    if (participants_.count(participant) || claiming_.count(participant))
        return req->reject(errors::kNameAlreadyRegistered);
    if (participant.size() > options_.maxNameBytes || !isNameAllowed(req->client(), participant))
        return req->reject(errors::kNameNotAllowed);
    auto& owned = clientNames_[req->client().get()];
    if (owned.size() >= options_.maxNamesPerClient) {
        if (owned.empty()) clientNames_.erase(req->client().get());
        return req->reject(errors::kTooManyNames);
    }
    owned.push_back(participant);
    claiming_.emplace(participant, req->client());
    // Unique in the cluster: the name is ours only once the claim succeeds.
    node().cluster().claimKey(keyFor(participant), node().broker().nodeId(), options_.nameTtl,
                             [this, req, participant](ClusterState::Result result) { onClaimed(req, participant, result); });
}

void MessagingService::onClaimed(const RequestPtr& req, const std::string& participant, ClusterState::Result result) {
    auto claim = claiming_.find(participant);
    bool stillWanted = claim != claiming_.end() && claim->second == req->client();
    if (!stillWanted) {
        // The client left while the claim was in flight.
        if (result == ClusterState::Result::Ok) node().cluster().releaseKey(keyFor(participant), node().broker().nodeId());
        return req->reject(errors::kUnknownParticipant);
    }
    claiming_.erase(claim);
    if (result != ClusterState::Result::Ok) {
        forgetName(req->client().get(), participant);
        return req->reject(result == ClusterState::Result::Taken ? errors::kNameAlreadyRegistered : errors::kClusterUnavailable);
    }
    participants_.emplace(participant, req->client());
    req->resolve();
}

void MessagingService::unregisterParticipant(Request& req) {
    std::string participant(req.string("name"));
    auto it = participants_.find(participant);
    if (it == participants_.end()) throw RpcError(errors::kUnknownParticipant);
    if (it->second != req.client()) throw RpcError(errors::kInvalidParticipant);
    participants_.erase(it);
    forgetName(req.client().get(), participant);
    node().cluster().releaseKey(keyFor(participant), node().broker().nodeId());
}

void MessagingService::listParticipants(const RequestPtr& req) {
    node().cluster().listKeys(keyPrefix_, [this, req](ClusterState::Result result, std::vector<std::string> keys) {
        if (result != ClusterState::Result::Ok) return req->reject(errors::kClusterUnavailable);
        json::array names;  // keys come sorted, and share the prefix: names are sorted too
        names.reserve(keys.size());
        for (const std::string& key : keys) names.emplace_back(std::string_view(key).substr(keyPrefix_.size()));
        req->resolve(std::move(names));
    });
}

void MessagingService::sendMessage(const RequestPtr& req) {
    auto sender = participants_.find(std::string(req->string("sender")));
    if (sender == participants_.end() || sender->second != req->client()) return req->reject(errors::kInvalidSender);
    std::string dest(req->string("dest"));
    auto local = participants_.find(dest);
    if (local != participants_.end()) return deliver(req, &local->second, "");
    node().cluster().readKey(keyFor(dest), [this, req](ClusterState::Result result, const std::string& owner) {
        if (result == ClusterState::Result::Unavailable) return req->reject(errors::kClusterUnavailable);
        // Ours but not (or no longer) registered here: gone.
        if (result != ClusterState::Result::Ok || owner == node().broker().nodeId())
            return req->reject(errors::kUnknownDestination);
        deliver(req, nullptr, owner);
    });
}

void MessagingService::deliver(const RequestPtr& req, const ClientPtr* localOwner, const std::string& ownerNode) {
    if (json::serialize(req->param("body")).size() > options_.maxBodyBytes) return req->reject(errors::kMessageTooLarge);
    json::object message;
    message["type"] = "message";
    message["sender"] = req->param("sender");
    message["dest"] = req->param("dest");
    message["body"] = req->param("body");
    if (localOwner) send(*localOwner, message);
    else node().broker().publish(keyPrefix_ + "@" + ownerNode, frame(message), req->client().get());  // one node only
    req->resolve();
}

// ---- cluster ----

MessagingService::~MessagingService() {
    if (!attached()) return;
    node().timers().cancel(refreshTimer_);
    node().broker().unsubscribe(nodeTopic_);
    for (const auto& [participant, owner] : participants_)
        node().cluster().releaseKey(keyFor(participant), node().broker().nodeId());
}

void MessagingService::onAttach() {
    // A topic of its own for this node, disjoint from the name keys' space.
    nodeTopic_ = keyPrefix_ + "@" + node().broker().nodeId();
    node().broker().subscribe(nodeTopic_, this);
    refreshTimer_ = node().timers().schedule(options_.nameTtl / 3, [this] { refreshNames(); });
}

void MessagingService::refreshNames() {
    // Also sets the keys again after Redis restarted empty.
    for (const auto& [participant, owner] : participants_)
        node().cluster().refreshKey(keyFor(participant), node().broker().nodeId(), options_.nameTtl);
    refreshTimer_ = node().timers().schedule(options_.nameTtl / 3, [this] { refreshNames(); });
}

void MessagingService::onBrokerMessage(const std::string&, const FramePtr& frame, const Origin&) {
    // A direct message from another node for a name owned here.
    try {
        json::value envelope = json::parse(frame->payload());
        const json::value& dest = envelope.at("message").at("dest");
        auto owner = participants_.find(std::string(dest.as_string()));
        if (owner != participants_.end()) owner->second->send(frame);
        // else: the owner left meanwhile; the message is lost, as on one node.
    } catch (const std::exception& error) {
        SNORKY_LOG(Warn, "messaging " << name() << ": unreadable direct message from another node: " << error.what());
    }
}

bool MessagingService::isNameAllowed(const ClientPtr&, const std::string&) { return true; }

void MessagingService::forgetName(const Client* client, const std::string& participant) {
    auto owned = clientNames_.find(client);
    if (owned == clientNames_.end()) return;
    auto& names = owned->second;
    auto it = std::find(names.begin(), names.end(), participant);
    if (it != names.end()) names.erase(it);
    if (names.empty()) clientNames_.erase(owned);
}

void MessagingService::onDisconnect(const ClientPtr& client) {
    auto owned = clientNames_.find(client.get());
    if (owned == clientNames_.end()) return;
    for (const std::string& participant : owned->second) {
        if (participants_.erase(participant)) node().cluster().releaseKey(keyFor(participant), node().broker().nodeId());
        claiming_.erase(participant);  // its claim callback releases the key if it succeeds
    }
    clientNames_.erase(owned);
}

json::object MessagingService::stats() const {
    return {{"participants", participants_.size()}};
}

}  // namespace snorky
