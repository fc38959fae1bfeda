#include "snorky/core/node.hpp"

#include "snorky/core/memory_broker.hpp"
#include "snorky/core/memory_cluster_state.hpp"

namespace snorky {

Engine Engine::memory() { return Engine{std::make_unique<MemoryBroker>(), std::make_unique<MemoryClusterState>()}; }

Node::Node(Engine engine, Timers& timers, const Clock& clock)
    : broker_(engine.broker ? std::move(engine.broker) : std::make_unique<MemoryBroker>()),
      cluster_(engine.cluster ? std::move(engine.cluster) : std::make_unique<MemoryClusterState>()),
      timers_(&timers),
      clock_(&clock) {
    broker_->attach(*this);
    cluster_->attach(*this);
}

void Node::drop(const ClientPtr& client, DropReason reason) {
    metrics_.messagesDropped.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t suppressed = 0;
    bool allowed;
    {
        std::lock_guard guard(dropLogLock_);
        allowed = dropLog_.allow(suppressed);
    }
    if (allowed) {
        SNORKY_LOG(Warn, "dropped message from " << client->remoteAddress() << ": " << describe(reason)
                                                 << (suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : ""));
    }
    client->onDropped(reason);
}

}  // namespace snorky
