#pragma once
// The Redis engine, for scale-out: several Snorky nodes share one Redis 7.
// RedisBroker is its pub/sub; RedisClusterState (redis_cluster_state.hpp) its
// cluster state; both share one link to Redis (two connections, one I/O
// thread, src/engines/redis_link.hpp). redisEngine() makes the pair.
//
// A publish reaches the local listener at once (as with MemoryBroker) and
// every other node through one Redis PUBLISH; a publish with history, through
// one script call that numbers, keeps and publishes it. A node SUBSCRIBEs only to the
// topics it has local interest in.
//
// Delivery is at most once: while Redis is unreachable the node keeps serving
// its local clients, messages for other nodes are dropped (counted in
// snorky_engine_dropped_total), and the engine reconnects by itself with
// backoff and re-subscribes. Order is kept per publishing node.
//
// Threading: publish/subscribe/unsubscribe are called with the service lock
// held and never block on Redis; they hand work to the link's I/O thread,
// which takes the service lock to call listeners.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "snorky/core/broker.hpp"
#include "snorky/core/engine.hpp"

namespace snorky {

namespace redis {
class Link;
}

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

// A RedisBroker and a RedisClusterState on one link.
Engine redisEngine(RedisBrokerOptions options);

class RedisBroker final : public Broker {
public:
    explicit RedisBroker(std::shared_ptr<redis::Link> link);
    ~RedisBroker() override;

    void attach(Node& node) override;  // connects once and starts the I/O thread (shared)
    void close() override;
    json::object health() const override;
    // Random per process: tells this node's messages from the others'.
    const std::string& nodeId() const override;

    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override;
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) override;
    // A PING on the subscriber connection: what Redis sent before its answer has been delivered.
    void catchUp(std::function<void()> done) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    // History lives in Redis (a stream per topic, src/engines/redis_history.hpp),
    // so a client recovers on any node. Unlike publish(), this node's
    // listener gets the message after Redis numbered it, in offset order with
    // the other nodes' (src/engines/redis_link.hpp says how); while Redis is
    // down, at once without offset. A read answers nullopt while Redis is down.
    void publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                            const HistoryOptions& history, Confirmed confirmed) override;
    void readHistory(const std::string& topic, const HistoryOptions& history, std::optional<std::uint64_t> after,
                     std::size_t limit, HistoryDone done) override;

    bool connected() const;

private:
    std::shared_ptr<redis::Link> link_;
};

}  // namespace snorky
