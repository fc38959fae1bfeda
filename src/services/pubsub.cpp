#include "snorky/services/pubsub.hpp"

#include <algorithm>

#include "snorky/protocol/errors.hpp"

namespace snorky {

PubSubService::PubSubService(std::string name, Options options)
    : RpcService(std::move(name)), options_(options), topicPrefix_("pubsub:" + this->name() + ":") {
    command("subscribe", {required("channel")}, [this](Request& req) {
        const ClientPtr& client = req.client();
        std::string key = canonicalJson(req.param("channel"));
        auto& held = clientChannels_[client.get()];
        if (std::find(held.begin(), held.end(), key) != held.end()) throw RpcError(errors::kAlreadySubscribed);
        if (held.size() >= options_.maxChannelsPerClient) {
            if (held.empty()) clientChannels_.erase(client.get());
            throw RpcError(errors::kTooManyChannels);
        }
        auto& subscribers = channels_[key];
        if (subscribers.empty()) node().broker().subscribe(topicFor(key), this);
        subscribers.push_back(client);
        held.push_back(std::move(key));
    });
    command("unsubscribe", {required("channel")}, [this](Request& req) {
        std::string key = canonicalJson(req.param("channel"));
        auto held = clientChannels_.find(req.client().get());
        if (held == clientChannels_.end()) throw RpcError(errors::kNotSubscribed);
        auto it = std::find(held->second.begin(), held->second.end(), key);
        if (it == held->second.end()) throw RpcError(errors::kNotSubscribed);
        held->second.erase(it);
        if (held->second.empty()) clientChannels_.erase(held);
        unsubscribeKey(req.client(), key);
    });
    command("publish", {required("channel"), required("message")}, [this](Request& req) {
        if (!canPublish(req.client(), req.param("channel"))) throw RpcError(errors::kNotAuthorized);
        publish(req.param("channel"), req.param("message"));
    });
}

PubSubService::~PubSubService() {
    if (!attached()) return;
    for (auto& [key, subscribers] : channels_) node().broker().unsubscribe(topicFor(key));
}

bool PubSubService::canPublish(const ClientPtr&, const json::value&) { return options_.clientPublish; }

void PubSubService::publish(const json::value& channel, const json::value& message) {
    json::object notification;
    notification["type"] = "message";
    notification["channel"] = channel;
    notification["message"] = message;
    // Serialized once here; every node and every subscriber shares this frame.
    node().broker().publish(topicFor(canonicalJson(channel)), frame(notification), nullptr);  // the publisher hears it too
}

void PubSubService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin&) {
    auto it = channels_.find(topic.substr(topicPrefix_.size()));
    if (it == channels_.end()) return;
    for (const ClientPtr& subscriber : it->second) subscriber->send(frame);
}

std::size_t PubSubService::subscriberCount(const json::value& channel) const {
    auto it = channels_.find(canonicalJson(channel));
    return it == channels_.end() ? 0 : it->second.size();
}

void PubSubService::unsubscribeKey(const ClientPtr& client, const std::string& key) {
    auto channel = channels_.find(key);
    if (channel == channels_.end()) return;
    auto& subscribers = channel->second;
    auto it = std::find(subscribers.begin(), subscribers.end(), client);
    if (it != subscribers.end()) {
        *it = std::move(subscribers.back());  // order among subscribers does not matter
        subscribers.pop_back();
    }
    if (subscribers.empty()) {
        channels_.erase(channel);
        node().broker().unsubscribe(topicFor(key));
    }
}

void PubSubService::onDisconnect(const ClientPtr& client) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    std::vector<std::string> keys = std::move(held->second);
    clientChannels_.erase(held);
    for (const std::string& key : keys) unsubscribeKey(client, key);
}

PubSubBackend::PubSubBackend(std::string name, PubSubService& pubsub) : RpcService(std::move(name)) {
    command("publish", {required("channel"), required("message")}, [&pubsub](Request& req) {
        pubsub.publish(req.param("channel"), req.param("message"));
    });
}

}  // namespace snorky
