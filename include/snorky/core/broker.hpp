#pragma once
// A Broker carries messages between nodes. Services publish on a topic; every
// node that subscribed to the topic (this one included) gets the frame back
// through its listener and fans it out to its local clients. The embedded
// MemoryBroker (memory_broker.hpp) delivers in-process; the Redis engine
// (redis_broker.hpp) changes a config line, not the services. The state the
// nodes share besides messages is the ClusterState's (cluster_state.hpp).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/json.hpp"

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
    std::uint64_t offset = 0;        // its place in the topic's history stream; 0: published without history
    bool isSender(const Client* client) const { return sender != nullptr && client == sender; }
};

// History (docs/history.md): a topic published with history has a stream,
// the last `size` messages, each with an offset (1, 2, ... per stream), and
// an epoch naming the stream; a stream that is lost (expired `ttl` after its
// last publish, evicted, engine restarted or flushed) comes back with a new
// epoch, so an old (offset, epoch) never matches it.
struct HistoryOptions {
    std::size_t size = 0;  // messages kept; 0: no history
    std::chrono::seconds ttl{300};
};
struct StreamPosition {
    std::uint64_t offset = 0;  // of the last message published; 0: none yet
    std::string epoch;
};
struct HistoryEntry {
    std::uint64_t offset = 0;
    FramePtr frame;  // as published
};
struct HistoryRead {
    StreamPosition position;
    // Whether every message after `after` is still held (always true without `after`).
    bool complete = true;
    std::vector<HistoryEntry> entries;  // in offset order
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
    virtual void attach(Node& node) = 0;
    // Stops deliveries: once it returns, no listener is called again. Call
    // WITHOUT the service lock (a delivery may be waiting for it), before the
    // services are destroyed. Idempotent.
    virtual void close() = 0;
    // Engine state for GET /health, e.g. {"engine":"memory"}. Any thread.
    virtual json::object health() const = 0;
    // This node's id, unique in the cluster: a topic named after it reaches
    // this node only ("one node" addressing, e.g. a direct message); cluster
    // state entries name their node with it. Any thread.
    virtual const std::string& nodeId() const = 0;

    // The calls below are made with the node's service lock held.

    // To this node's listener of the topic before it returns, with `sender`
    // (the acting local client, or nullptr) in its Origin; to every other
    // node's listener later, without.
    virtual void publish(const std::string& topic, const FramePtr& frame, const Client* sender) = 0;
    // publish() without a sender, then `confirmed` (with the service lock held,
    // during the call or later) once the engine has taken the message: with
    // Redis, once the PUBLISH is answered, so every node receives it before
    // anything published after `confirmed(true)`; false: other nodes will not
    // get it.
    using Confirmed = std::function<void(bool taken)>;
    virtual void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) = 0;
    // `done` (with the service lock held, during the call or later) once this
    // node's listeners got every message the engine had taken for them before
    // the call: with Redis, whatever any node saw confirmed before this call
    // began. Together with publishConfirmed, a publish made through one node
    // after another node confirmed a publish reaches every node after it.
    // The default, an engine with nothing in flight: at once.
    virtual void catchUp(std::function<void()> done) { done(); }
    // Declares local interest in a topic; one listener per topic.
    virtual void subscribe(const std::string& topic, BrokerListener* listener) = 0;
    virtual void unsubscribe(const std::string& topic) = 0;

    // publish(), and the frame appended to the topic's stream (created when
    // absent); every listener, on every node, gets its offset in the Origin,
    // and a node's listener gets a topic's numbered messages in offset order.
    // An engine whose offsets come from elsewhere (Redis) may call this
    // node's listener after the call returns (still with `sender`, local).
    // `confirmed`, when set (with `sender` null), as for publishConfirmed.
    // The default is an engine without history: a plain publish (offset 0).
    virtual void publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                                    const HistoryOptions&, Confirmed confirmed) {
        if (confirmed) return publishConfirmed(topic, frame, std::move(confirmed));
        publish(topic, frame, sender);
    }
    // The topic's stream position and its messages: those after offset
    // `after` (all held when unset), at most `limit` of them (the oldest after
    // `after`, the newest without it). Creates an empty stream (so that its
    // epoch is known) when there is none. `done` is called with the service
    // lock held, once: nullopt when the engine could not answer.
    using HistoryDone = std::function<void(std::optional<HistoryRead>)>;
    // The default, without history: nullopt.
    virtual void readHistory(const std::string&, const HistoryOptions&, std::optional<std::uint64_t>, std::size_t,
                             HistoryDone done) {
        done(std::nullopt);
    }
};

}  // namespace snorky
