#pragma once
// RedisBroker: the scale-out engine. Several Snorky nodes share one Redis 7;
// a publish reaches the local listener at once (as with MemoryBroker) and
// every other node through one Redis PUBLISH. A node SUBSCRIBEs only to the
// topics it has local interest in.
//
// Delivery is at most once: while Redis is unreachable the node keeps serving
// its local clients, messages for other nodes are dropped (counted in
// snorky_engine_dropped_total), and the broker reconnects by itself with
// backoff and re-subscribes. Order is kept per publishing node.
//
// Threading: publish/subscribe/unsubscribe are called with the service lock
// held and never block on Redis; they hand work to the broker's own I/O
// thread, which takes the service lock to call listeners.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "snorky/broker.hpp"

namespace snorky {

struct RedisBrokerOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string username;  // ACL user (Redis 6+); empty: AUTH with the password only
    std::string password;  // empty: no AUTH
    int database = 0;      // SELECT for keys; pub/sub ignores databases, the prefix separates clusters
    std::string prefix = "snorky:";  // every Redis channel and key starts with it
    std::chrono::milliseconds connectTimeout{1000};
    std::chrono::milliseconds reconnectMin{100};   // first retry after a loss; doubles up to reconnectMax
    std::chrono::milliseconds reconnectMax{2000};
    std::size_t maxBacklogBytes = 64 * 1024 * 1024;  // unsent messages held for Redis; above: dropped

    // redis://[[user]:password@]host[:port][/db][?prefix=name:]
    // Throws std::invalid_argument naming what is wrong.
    static RedisBrokerOptions fromUrl(std::string_view url);
};

class RedisBroker final : public Broker {
public:
    explicit RedisBroker(RedisBrokerOptions options);
    ~RedisBroker() override;

    void attach(Node& node) override;  // starts the I/O thread
    void close() override;
    json::object health() const override;

    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Done done) override;

    // Cluster state in Redis keys (prefix + key), with PX expiry.
    void claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) override;
    void refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) override;
    void releaseKey(const std::string& key, const std::string& value) override;
    void readKey(const std::string& key, ReadDone done) override;
    void listKeys(const std::string& prefix, ListDone done) override;
    void mapSet(const std::string& key, const std::string& field, const std::string& value,
                std::chrono::milliseconds ttl, Done done = {}) override;
    void mapDelete(const std::string& key, const std::string& field) override;
    void mapRead(const std::string& key, MapDone done) override;
    std::uint64_t connectionEpoch() const override;
    // Random per process: tells this node's messages from the others'.
    const std::string& nodeId() const override;

    bool connected() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace snorky
