#pragma once
// MemoryBroker: the single-process pub/sub engine. publish calls the topic's
// listener synchronously; there is no other node. Called with the service
// lock held, as every Broker.
#include <cstddef>
#include <string>
#include <unordered_map>

#include "snorky/core/broker.hpp"

namespace snorky {

class MemoryBroker final : public Broker {
public:
    void attach(Node&) override {}
    void close() override {}
    json::object health() const override { return {{"engine", "memory"}}; }
    const std::string& nodeId() const override { return nodeId_; }

    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override;
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    std::size_t topicCount() const { return listeners_.size(); }

private:
    std::unordered_map<std::string, BrokerListener*> listeners_;
    std::string nodeId_ = "local";
};

}  // namespace snorky
