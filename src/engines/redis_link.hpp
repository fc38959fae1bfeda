#pragma once
// The Redis engine's link to Redis, shared by its RedisBroker (pub/sub) and
// its RedisClusterState: two connections (commands, subscriber) driven by one
// I/O thread, the handshake, reconnection with backoff, the bounded backlog
// of messages for other nodes, SUBSCRIBE/UNSUBSCRIBE following local interest,
// and delivery under the node's service lock.
//
// History (redis_history.hpp) goes through one Lua script: XADD + PUBLISH
// of the numbered message in one call, or a read of the stream. Order: a
// node's listener must see a topic's numbered messages in offset order,
// its own among the other nodes'. Offsets exist only once Redis ran the
// script, and replies (command connection) and messages (subscriber
// connection) come on two sockets; so a node takes its own numbered
// messages from the subscriber connection too, like everyone else's, in
// the order Redis published them, and matches them to what it sent (its
// frame, its sender) by a sequence number in the header. For that to hold,
// a script on a topic this node listens to waits until Redis confirmed the
// SUBSCRIBE; and a read's answer is held until a PING sent on the
// subscriber connection after the read comes back, so every message that
// the read saw as published is delivered before it.
//
// Threading: publish/subscribe/unsubscribe/send are called by service threads
// with the service lock held and never block on Redis; they queue work for
// the I/O thread and wake it. The I/O thread takes the service lock to call
// listeners and completions (once per batch).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engines/redis_connection.hpp"
#include "snorky/core/broker.hpp"
#include "snorky/core/log.hpp"
#include "snorky/engines/redis_broker.hpp"

namespace snorky {

struct Metrics;

namespace redis {

class Link {
public:
    // Runs on the I/O thread with a command's reply (null: connection lost)
    // and returns what must then run under the service lock (or nothing).
    using Completion = std::function<std::function<void()>(const redisReply* reply)>;

    explicit Link(RedisBrokerOptions options);
    ~Link();
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    // The first call connects once (so a node whose Redis is up is connected
    // when it starts serving) and starts the I/O thread; later calls do nothing.
    void attach(Node& node);
    // Stops the I/O thread: no listener or completion runs afterwards. Idempotent.
    void close();

    bool up() const { return up_; }
    std::uint64_t epoch() const { return epoch_.load(); }
    const std::string& nodeId() const { return nodeId_; }
    const RedisBrokerOptions& options() const { return options_; }

    // --- pub/sub (service lock held) ---
    // This node's listener at once, with `sender`; then queued for Redis.
    // `confirmed` (optional) runs with PUBLISH's reply; `refused` is told at
    // once instead when the message cannot be queued (Redis down, backlog full).
    void publish(const std::string& topic, const FramePtr& frame, const Client* sender, Completion confirmed,
                 const std::function<void()>& refused);
    void subscribe(const std::string& topic, BrokerListener* listener);
    void unsubscribe(const std::string& topic);
    // `done` under the service lock once a PING sent on the subscriber
    // connection after this call came back, every message before it delivered;
    // at once while Redis is down. Calls waiting together share one PING.
    void catchUp(std::function<void()> done);

    // --- commands (service lock held) ---
    // Queues a command; while Redis is down `complete` runs at once with null.
    void send(const std::vector<std::string_view>& argv, Completion complete);
    void send(const std::vector<std::string_view>& argv);  // the reply is not needed

    // --- history (service lock held; redis_history.hpp) ---
    // With history.size > 0 and the script loaded: appended and published by
    // the script; this node's listener gets it later, with its offset, from
    // the subscriber connection. While Redis is down: this node's listener at
    // once, without offset (other nodes lose it, as any publish). Without the
    // script (refused by Redis at connect): a plain publish. `confirmed` and
    // `refused` as for publish(), with the script's reply.
    void publishHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                        const HistoryOptions& history, Completion confirmed, const std::function<void()>& refused);
    // `done` runs under the service lock with the read, or nullopt (Redis down, an error).
    void readHistory(const std::string& topic, const HistoryOptions& history, std::optional<std::uint64_t> after,
                     std::size_t limit, Broker::HistoryDone done);
    // I/O thread only: sends a command now (a completion chaining the next step).
    void issue(const std::vector<std::string_view>& argv, Completion complete);

private:
    struct Incoming {
        std::string topic;
        FramePtr frame;
        std::function<void()> task;  // set: a completion to run under the lock instead
        Origin origin{};             // of a message: another node's unless the header says ours
    };
    struct Command {
        std::string resp;
        Completion complete;
    };
    struct Outgoing {
        std::string topic;
        FramePtr frame;
        Completion confirmed;  // set: told the reply
        const Client* sender = nullptr;  // with history only: told to this node's listener with the echo
        HistoryOptions history{};        // size > 0: through the history script
    };
    struct Read {
        std::string topic;
        HistoryOptions history;
        std::optional<std::uint64_t> after;
        std::size_t limit;
        Broker::HistoryDone done;
    };
    // Waiting for a PING on the subscriber connection (a read answered, or
    // catchUp): `then` runs under the service lock, false if the connection was lost.
    struct Barrier {
        std::function<void(bool arrived)> then;
    };
    // A numbered message of ours in flight on a topic this node listens to.
    struct Own {
        std::uint64_t seq;
        const Client* sender;
        FramePtr frame;
    };

    // connection set-up (redis_link.cpp)
    bool handshake(Connection& c, bool select, std::string& error);
    bool connectAll(std::string& error);
    void onConnected();
    void onConnectFailed(const std::string& error);
    void disconnect(const std::string& error);
    // the loop (redis_link.cpp)
    void run();
    bool stopRequested();
    void wake();
    void drainWake();
    void waitWake(std::chrono::milliseconds timeout);
    bool step(std::string& error);
    void sendQueued();
    void sendPublishes(const std::vector<Outgoing>& sending);
    // history (redis_link.cpp)
    void whenSubscribed(const std::string& topic, std::function<void(bool send)> action);
    void onSubscribed(const std::string& topic);
    void sendScripted(const Outgoing& out);
    void sendRead(const Read& read);
    void onRead(const Read& read, const redisReply* r);
    std::string newEpoch();
    bool keepAlive(std::string& error);
    bool pollSockets(std::string& error);
    void checkReply(const char* what, const redisReply* r);
    // a completion's task joins the inbox, to run under the lock
    void finish(const Completion& complete, const redisReply* r);
    void issueResp(const std::string& resp, Completion complete);
    // subscriptions and deliveries (redis_link.cpp)
    void syncSubscriptions(const std::unordered_set<std::string>& changed);
    void sendSubscriptions(const char* verb, const std::vector<std::string>& topics);
    void onPush(const redisReply& r);
    void deliver();
    void deliverOne(const Incoming& in);
    Metrics& metrics();
    std::string where() const { return options_.host + ":" + std::to_string(options_.port); }

    const RedisBrokerOptions options_;
    const std::string nodeId_;
    const std::string originTag_ = nodeId_ + " ";
    Node* node_ = nullptr;
    int wakeFd_ = -1;
    std::thread thread_;

    // Shared between service threads and the I/O thread.
    mutable std::mutex mutex_;
    std::unordered_map<std::string, BrokerListener*> listeners_;  // local interest
    std::unordered_set<std::string> dirty_;                       // topics whose interest changed
    std::vector<Outgoing> outbox_;
    std::size_t outboxBytes_ = 0;
    std::vector<Command> commandBox_;
    std::vector<Read> reads_;
    std::vector<std::function<void()>> catchUps_;
    bool stopping_ = false;
    bool closed_ = false;
    std::atomic<bool> up_{false};
    std::atomic<std::uint64_t> epoch_{0};
    std::atomic<bool> scripted_{false};  // the history script is loaded
    log::RateLimit backlogLog_{1, std::chrono::seconds(10)};

    // I/O thread only.
    Connection cmd_, sub_;
    std::unordered_set<std::string> subscribed_;  // what Redis has for this node
    std::vector<Incoming> inbox_;
    std::string resp_;
    std::string scriptSha_;
    bool scriptLost_ = false;  // NOSCRIPT (SCRIPT FLUSH): reconnect, which loads it again
    std::unordered_map<std::string, int> unconfirmed_;  // SUBSCRIBEs sent, not yet confirmed
    std::unordered_map<std::string, std::vector<std::function<void(bool)>>> gated_;  // waiting for them
    std::deque<Barrier> barriers_;
    std::unordered_map<std::string, std::deque<Own>> own_;
    std::uint64_t ownSeq_ = 0;
    std::uint64_t epochCount_ = 0;
    bool everConnected_ = false;
    bool downLogged_ = false;
    std::chrono::steady_clock::time_point downSince_{}, lastPing_{}, lastAnswer_{};
    log::RateLimit stillDownLog_{1, std::chrono::seconds(30)};
    log::RateLimit replyErrorLog_{5, std::chrono::seconds(10)};
};

}  // namespace redis
}  // namespace snorky
