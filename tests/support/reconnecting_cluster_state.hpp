#pragma once
// The memory engine's cluster state with a connection epoch the test moves,
// as the Redis engine's moves when it reconnects: services see "the engine
// came back, the cluster state may be gone" without a Redis. Everything else
// is MemoryClusterState's.
#include <cstdint>

#include "snorky/core/memory_cluster_state.hpp"

namespace snorky::testing {

class ReconnectingClusterState : public MemoryClusterState {
public:
    // Connected once, as a Redis engine that reached its Redis at start-up.
    std::uint64_t epoch = 1;
    void reconnect() { ++epoch; }
    std::uint64_t connectionEpoch() const override { return epoch; }
};

}  // namespace snorky::testing
