#pragma once
// ClusterState: a small key-value store shared by every node, with expiry,
// for services that need more than pub/sub (names unique in the cluster,
// presence, cursors, pending subscriptions). A key lives `ttl` unless
// refreshed, so the keys of a node killed with SIGKILL go away by
// themselves. Values are short strings (typically a node id).
// MemoryClusterState (memory_cluster_state.hpp) keeps it in the process; the
// Redis engine (redis_broker.hpp) in Redis keys and hashes.
//
// Threading: every call is made with the node's service lock held. Each
// `done` is called exactly once, with the service lock held, either before
// the call returns (memory) or later (Redis): accept both. While the engine
// is unreachable `done` gets Unavailable at once.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace snorky {

class Node;

class ClusterState {
public:
    enum class Result { Ok, Taken, Missing, Unavailable };
    using Done = std::function<void(Result)>;
    using ReadDone = std::function<void(Result, const std::string& value)>;  // Ok or Missing
    using ListDone = std::function<void(Result, std::vector<std::string> keys)>;
    using MapDone = std::function<void(Result, std::map<std::string, std::string> fields)>;

    virtual ~ClusterState() = default;
    // Called once by the Node that owns it, before any other call.
    virtual void attach(Node& node) = 0;
    // Stops the engine's callbacks, as Broker::close (without the service lock). Idempotent.
    virtual void close() = 0;

    // Sets key=value unless the key exists: Ok, or Taken.
    virtual void claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl,
                          Done done) = 0;
    // Extends a key holding `value`, or sets it again when it has vanished
    // (e.g. Redis restarted empty); leaves another owner's key alone.
    virtual void refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) = 0;
    // Deletes the key if it still holds `value`.
    virtual void releaseKey(const std::string& key, const std::string& value) = 0;
    virtual void readKey(const std::string& key, ReadDone done) = 0;
    // Every live key starting with `prefix`, sorted.
    virtual void listKeys(const std::string& prefix, ListDone done) = 0;

    // Small shared maps (a Redis hash): field -> value. The whole map expires
    // `ttl` after its last mapSet; per-field liveness is the caller's business
    // (e.g. an expiry time in the value). `done` (optional) runs once the
    // engine applied the write, so a caller can answer its client only when
    // every node can read the value.
    virtual void mapSet(const std::string& key, const std::string& field, const std::string& value,
                        std::chrono::milliseconds ttl, Done done = {}) = 0;
    virtual void mapDelete(const std::string& key, const std::string& field) = 0;
    virtual void mapRead(const std::string& key, MapDone done) = 0;

    // Increases every time the engine (re)connects: cluster state may have
    // been lost (Redis restarted empty) and is being set again by every node,
    // so services wait a TTL before concluding that something expired. Any
    // thread; always 0 in memory.
    virtual std::uint64_t connectionEpoch() const = 0;
};

// After the engine reconnects, cluster state may be gone (Redis restarted
// empty) and every node is setting its own again, within one TTL: until then
// a missing entry proves nothing. Services with heartbeats call observe() on
// each one and decide nothing from absences while active(). Times come from
// the caller (the Node's clock), so tests decide what time it is.
class ReconnectGrace {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    void observe(const ClusterState& state, TimePoint now, std::chrono::steady_clock::duration ttl) {
        std::uint64_t epoch = state.connectionEpoch();
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
