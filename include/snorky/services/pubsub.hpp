#pragma once
// PubSub (protocol.md section 4): clients subscribe to channels (any JSON
// value) and receive every message published on them. Publishing goes through
// the node's Broker, so subscribers on every node receive it; each node fans
// out one shared frame to its local subscribers.
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/rpc_service.hpp"

namespace snorky {

class PubSubService : public RpcService, private BrokerListener {
public:
    struct Options {
        bool clientPublish = true;               // false: only the backend publishes
        std::size_t maxChannelsPerClient = 1000;  // subscriptions one client may hold
    };

    explicit PubSubService(std::string name, Options options);
    explicit PubSubService(std::string name) : PubSubService(std::move(name), Options{}) {}
    ~PubSubService() override;

    // Publishes to every subscriber of the channel on every node. Call with
    // the service lock held.
    void publish(const json::value& channel, const json::value& message);

    std::size_t channelCount() const { return channels_.size(); }
    std::size_t subscriberCount(const json::value& channel) const;

protected:
    // Publish policy for clients; the backend is always allowed. Default:
    // Options::clientPublish. Override for per-channel or per-identity rules.
    virtual bool canPublish(const ClientPtr& client, const json::value& channel);

    void onDisconnect(const ClientPtr& client) override;

private:
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    std::string topicFor(const std::string& key) const { return topicPrefix_ + key; }
    void unsubscribeKey(const ClientPtr& client, const std::string& key);

    Options options_;
    std::string topicPrefix_;
    // canonical channel -> local subscribers (fan-out walks this vector)
    std::unordered_map<std::string, std::vector<ClientPtr>> channels_;
    // client -> canonical channels it holds (for disconnect and the cap)
    std::unordered_map<const Client*, std::vector<std::string>> clientChannels_;
};

// Backend side of PubSub: publish, always allowed whatever the frontend policy.
class PubSubBackend : public RpcService {
public:
    PubSubBackend(std::string name, PubSubService& pubsub);
};

}  // namespace snorky
