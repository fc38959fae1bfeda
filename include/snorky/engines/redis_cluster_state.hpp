#pragma once
// RedisClusterState: the cluster state in Redis keys (prefix + key, with PX
// expiry) and hashes (with PEXPIRE), on the Redis engine's link (see
// redis_broker.hpp; redisEngine() makes it). Compare-and-set operations are
// Lua scripts, listKeys is a SCAN.
//
// Threading: called with the service lock held, never blocking on Redis;
// every `done` runs later on the link's I/O thread with the service lock
// held, or at once (Unavailable) while Redis is unreachable.
#include <memory>

#include "snorky/core/cluster_state.hpp"

namespace snorky {

namespace redis {
class Link;
}

class RedisClusterState final : public ClusterState {
public:
    explicit RedisClusterState(std::shared_ptr<redis::Link> link);
    ~RedisClusterState() override;

    void attach(Node& node) override;
    void close() override;

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

private:
    std::string key(const std::string& name) const;
    std::shared_ptr<redis::Link> link_;
};

}  // namespace snorky
