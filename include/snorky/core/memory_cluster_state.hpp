#pragma once
// MemoryClusterState: the cluster state of a single process. Every `done`
// runs before the call returns. Expiry follows the attached Node's clock
// (the real one until attached), so tests move time by hand.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "snorky/core/clock.hpp"
#include "snorky/core/cluster_state.hpp"

namespace snorky {

class MemoryClusterState : public ClusterState {
public:
    void attach(Node& node) override;
    void close() override {}
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
    std::uint64_t connectionEpoch() const override { return 0; }  // never reconnects

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Entry {
        std::string value;
        TimePoint expires;
    };
    struct Map {
        std::map<std::string, std::string> fields;
        TimePoint expires;
    };
    // The entry of a live key, or end() (an expired one is erased on the way).
    std::map<std::string, Entry>::iterator live(const std::string& key);

    std::map<std::string, Entry> keys_;  // sorted, for listKeys
    std::unordered_map<std::string, Map> maps_;
    std::uint64_t claims_ = 0;
    const Clock* clock_ = &Clock::real();
};

}  // namespace snorky
