#pragma once
// A Broker carries messages between nodes. Services publish on a topic; every
// node that subscribed to the topic (this one included) gets the frame back
// through its listener and fans it out to its local clients. The embedded
// MemoryBroker delivers in-process; a Redis broker changes a config line, not
// the services.
#include <memory>
#include <string>
#include <unordered_map>

#include "snorky/frame.hpp"
#include "snorky/json.hpp"

namespace snorky {

class Node;

class BrokerListener {
public:
    virtual ~BrokerListener() = default;
    // Called with the node's service lock held.
    virtual void onBrokerMessage(const std::string& topic, const FramePtr& frame) = 0;
};

class Broker {
public:
    virtual ~Broker() = default;
    // Called once by the Node that owns the broker, before any other call. A
    // broker that delivers from its own thread takes node.serviceLock() to
    // call listeners.
    virtual void attach(Node& node) {}
    // Stops deliveries: once it returns, no listener is called again. Call
    // WITHOUT the service lock (a delivery may be waiting for it), before the
    // services are destroyed. Idempotent.
    virtual void close() {}
    // Engine state for GET /health, e.g. {"engine":"memory"}. Any thread.
    virtual json::object health() const { return {{"engine", "memory"}}; }

    // The calls below are made with the node's service lock held.
    virtual void publish(const std::string& topic, const FramePtr& frame) = 0;
    // Declares local interest in a topic; one listener per topic.
    virtual void subscribe(const std::string& topic, BrokerListener* listener) = 0;
    virtual void unsubscribe(const std::string& topic) = 0;
};

// Single-process broker: publish calls the topic's listener synchronously.
class MemoryBroker final : public Broker {
public:
    void publish(const std::string& topic, const FramePtr& frame) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    std::size_t topicCount() const { return listeners_.size(); }

private:
    std::unordered_map<std::string, BrokerListener*> listeners_;
};

}  // namespace snorky
