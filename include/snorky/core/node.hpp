#pragma once
// A Node is what the services of one process share: the service lock, the
// engine to other nodes (pub/sub and cluster state), timers, the clock and metrics. Every service call (messages,
// connects, disconnects, timers, broker deliveries) happens with serviceLock()
// held, so services are written as single-threaded code.
#include <memory>
#include <mutex>

#include "snorky/core/client.hpp"
#include "snorky/core/clock.hpp"
#include "snorky/core/engine.hpp"
#include "snorky/core/log.hpp"
#include "snorky/core/metrics.hpp"
#include "snorky/core/timers.hpp"

namespace snorky {

class Node {
public:
    // An engine without a part gets the memory one.
    explicit Node(Engine engine, Timers& timers, const Clock& clock = Clock::real());
    ~Node() {
        broker_->close();
        cluster_->close();
    }

    std::mutex& serviceLock() { return lock_; }
    Broker& broker() { return *broker_; }
    ClusterState& cluster() { return *cluster_; }
    Timers& timers() { return *timers_; }
    // What time it is for services and the memory engine (tests pass a hand-driven one).
    const Clock& clock() const { return *clock_; }
    Metrics& metrics() { return metrics_; }

    // Records a message refused without an answer: counted, logged with the
    // remote address (rate-limited: clients can trigger it at will) and told to
    // the client, so the HTTP backend can answer with a 4xx.
    void drop(const ClientPtr& client, DropReason reason);

private:
    std::mutex lock_;
    std::unique_ptr<Broker> broker_;
    std::unique_ptr<ClusterState> cluster_;
    Timers* timers_;
    const Clock* clock_;
    Metrics metrics_;
    std::mutex dropLogLock_;
    log::RateLimit dropLog_;
};

}  // namespace snorky
