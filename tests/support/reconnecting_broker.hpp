#pragma once
// The memory engine with a connection epoch the test moves, as RedisBroker's
// moves when it reconnects: services see "the engine came back, the cluster
// state may be gone" without a Redis. Everything else is MemoryBroker's.
#include <cstdint>
#include <string>

#include "snorky/broker.hpp"

namespace snorky::testing {

class ReconnectingBroker final : public Broker {
public:
    // Connected once, as a RedisBroker that reached its Redis at start-up.
    std::uint64_t epoch = 1;
    void reconnect() { ++epoch; }
    MemoryBroker& memory() { return memory_; }

    void attach(Node& node) override { memory_.attach(node); }
    std::uint64_t connectionEpoch() const override { return epoch; }
    const std::string& nodeId() const override { return memory_.nodeId(); }

    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override {
        memory_.publish(topic, frame, sender);
    }
    void subscribe(const std::string& topic, BrokerListener* listener) override { memory_.subscribe(topic, listener); }
    void unsubscribe(const std::string& topic) override { memory_.unsubscribe(topic); }
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Done done) override {
        memory_.publishConfirmed(topic, frame, std::move(done));
    }
    void claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) override {
        memory_.claimKey(key, value, ttl, std::move(done));
    }
    void refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) override {
        memory_.refreshKey(key, value, ttl);
    }
    void releaseKey(const std::string& key, const std::string& value) override { memory_.releaseKey(key, value); }
    void readKey(const std::string& key, ReadDone done) override { memory_.readKey(key, std::move(done)); }
    void listKeys(const std::string& prefix, ListDone done) override { memory_.listKeys(prefix, std::move(done)); }
    void mapSet(const std::string& key, const std::string& field, const std::string& value,
                std::chrono::milliseconds ttl, Done done = {}) override {
        memory_.mapSet(key, field, value, ttl, std::move(done));
    }
    void mapDelete(const std::string& key, const std::string& field) override { memory_.mapDelete(key, field); }
    void mapRead(const std::string& key, MapDone done) override { memory_.mapRead(key, std::move(done)); }

private:
    MemoryBroker memory_;
};

}  // namespace snorky::testing
