#pragma once
// A Broker carries messages between nodes. Services publish on a topic; every
// node that subscribed to the topic (this one included) gets the frame back
// through its listener and fans it out to its local clients. The embedded
// MemoryBroker delivers in-process; a Redis broker changes a config line, not
// the services.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/clock.hpp"
#include "snorky/frame.hpp"
#include "snorky/json.hpp"

namespace snorky {

class Client;
class Node;

// Where a delivery comes from. A publish names its acting client (the local
// connection whose command caused it) or none (a backend call, a timer); the
// engine hands that to this node's listener in the publish call itself
// (`local`). A delivery from another node has no sender. "Everyone but the
// sender" is then a comparison in the listener, not a flag around the call.
struct Origin {
    const Client* sender = nullptr;  // compared, never dereferenced: it may be gone by a later delivery
    bool local = false;              // this node's own publish, delivered synchronously
    bool isSender(const Client* client) const { return sender != nullptr && client == sender; }
};

class BrokerListener {
public:
    virtual ~BrokerListener() = default;
    // Called with the node's service lock held.
    virtual void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) = 0;
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
    // `sender`: the acting local client, or nullptr; this node's listener gets
    // it back in Origin, other nodes' listeners do not.
    virtual void publish(const std::string& topic, const FramePtr& frame, const Client* sender) = 0;
    // Declares local interest in a topic; one listener per topic.
    virtual void subscribe(const std::string& topic, BrokerListener* listener) = 0;
    virtual void unsubscribe(const std::string& topic) = 0;

    // --- Cluster state, for services that need more than pub/sub ---
    // A small key-value store shared by every node, with expiry: a key lives
    // `ttl` unless refreshed, so the keys of a node killed with SIGKILL go
    // away by themselves. Values are short strings (typically a node id).
    //
    // Calls are made with the service lock held. Each `done` is called
    // exactly once, with the service lock held, either before the call
    // returns (MemoryBroker) or later (RedisBroker): accept both. While the
    // engine is unreachable `done` gets Unavailable at once.
    enum class Result { Ok, Taken, Missing, Unavailable };
    using Done = std::function<void(Result)>;
    using ReadDone = std::function<void(Result, const std::string& value)>;   // Ok or Missing
    using ListDone = std::function<void(Result, std::vector<std::string> keys)>;

    // publish(), then `done` once the engine has taken the message: with Redis,
    // once the PUBLISH is answered, so every node receives it before anything
    // published after `done` (Unavailable: other nodes will not get it).
    virtual void publishConfirmed(const std::string& topic, const FramePtr& frame, Done done) {
        publish(topic, frame, nullptr);
        done(Result::Ok);
    }
    // Sets key=value unless the key exists: Ok, or Taken.
    // (The defaults here are an engine without cluster state: Unavailable.)
    virtual void claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) {
        done(Result::Unavailable);
    }
    // Extends a key holding `value`, or sets it again when it has vanished
    // (e.g. Redis restarted empty); leaves another owner's key alone.
    virtual void refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {}
    // Deletes the key if it still holds `value`.
    virtual void releaseKey(const std::string& key, const std::string& value) {}
    virtual void readKey(const std::string& key, ReadDone done) { done(Result::Unavailable, ""); }
    // Every live key starting with `prefix`, sorted.
    virtual void listKeys(const std::string& prefix, ListDone done) { done(Result::Unavailable, {}); }
    // Small shared maps (a Redis hash): field -> value. The whole map expires
    // `ttl` after its last mapSet; per-field liveness is the caller's business
    // (e.g. an expiry time in the value).
    using MapDone = std::function<void(Result, std::map<std::string, std::string> fields)>;
    // `done` (optional) runs once the engine applied the write, so a caller can
    // answer its client only when every node can read the value.
    virtual void mapSet(const std::string& key, const std::string& field, const std::string& value,
                        std::chrono::milliseconds ttl, Done done = {}) {
        if (done) done(Result::Unavailable);
    }
    virtual void mapDelete(const std::string& key, const std::string& field) {}
    virtual void mapRead(const std::string& key, MapDone done) { done(Result::Unavailable, {}); }
    // Increases every time the engine (re)connects: cluster state may have
    // been lost (Redis restarted empty) and is being set again by every node,
    // so services wait a TTL before concluding that something expired. Any thread.
    virtual std::uint64_t connectionEpoch() const { return 0; }
    // This node's id, unique in the cluster: a topic named after it reaches
    // this node only ("one node" addressing, e.g. a direct message).
    virtual const std::string& nodeId() const {
        static const std::string local = "local";
        return local;
    }
};

// Single-process broker: publish calls the topic's listener synchronously.
// Expiry follows the attached Node's clock (the real one until attached).
class MemoryBroker final : public Broker {
public:
    void attach(Node& node) override;
    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    std::size_t topicCount() const { return listeners_.size(); }
    std::size_t keyCount() const { return keys_.size(); }  // expired ones included until swept

    void claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) override;
    void refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) override;
    void releaseKey(const std::string& key, const std::string& value) override;
    void readKey(const std::string& key, ReadDone done) override;
    void listKeys(const std::string& prefix, ListDone done) override;
    void mapSet(const std::string& key, const std::string& field, const std::string& value,
                std::chrono::milliseconds ttl, Done done = {}) override;
    void mapDelete(const std::string& key, const std::string& field) override;
    void mapRead(const std::string& key, MapDone done) override;
    const std::string& nodeId() const override { return nodeId_; }

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Entry {
        std::string value;
        TimePoint expires;
    };
    // The entry of a live key, or end() (an expired one is erased on the way).
    std::map<std::string, Entry>::iterator live(const std::string& key);

    std::unordered_map<std::string, BrokerListener*> listeners_;
    std::map<std::string, Entry> keys_;  // sorted, for listKeys
    struct Map {
        std::map<std::string, std::string> fields;
        TimePoint expires;
    };
    std::unordered_map<std::string, Map> maps_;
    std::uint64_t claims_ = 0;
    std::string nodeId_ = "local";
    const Clock* clock_ = &Clock::real();
};

// After the engine reconnects, cluster state may be gone (Redis restarted
// empty) and every node is setting its own again, within one TTL: until then
// a missing entry proves nothing. Services with heartbeats call observe() on
// each one and decide nothing from absences while active(). Times come from
// the caller (the Node's clock), so tests decide what time it is.
class ReconnectGrace {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    void observe(const Broker& broker, TimePoint now, std::chrono::steady_clock::duration ttl) {
        std::uint64_t epoch = broker.connectionEpoch();
        if (epoch == epoch_) return;
        bool reconnected = epoch > 1;  // the first connection lost nothing
        epoch_ = epoch;
        if (reconnected) until_ = now + ttl;
    }
    bool active(TimePoint now) const { return now < until_; }

private:
    std::uint64_t epoch_ = 0;
    TimePoint until_{};
};

}  // namespace snorky
