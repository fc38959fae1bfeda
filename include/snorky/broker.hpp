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

namespace snorky {

class BrokerListener {
public:
    virtual ~BrokerListener() = default;
    // Called with the node's service lock held.
    virtual void onBrokerMessage(const std::string& topic, const FramePtr& frame) = 0;
};

class Broker {
public:
    virtual ~Broker() = default;
    // All calls are made with the node's service lock held.
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
