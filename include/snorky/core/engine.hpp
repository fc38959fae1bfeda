#pragma once
// An Engine is what connects the nodes of a cluster: pub/sub (Broker) and the
// shared cluster state (ClusterState), two interfaces implemented side by
// side by each engine (as centrifuge's Broker and PresenceManager), which may
// share a connection (Redis). A Node owns one.
#include <memory>

#include "snorky/core/broker.hpp"
#include "snorky/core/cluster_state.hpp"

namespace snorky {

struct Engine {
    std::unique_ptr<Broker> broker;
    std::unique_ptr<ClusterState> cluster;

    // The embedded single-process engine (the default).
    static Engine memory();
};

}  // namespace snorky
