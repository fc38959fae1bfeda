#pragma once
// Process-wide counters, exported by the backend listener at /metrics.
#include <atomic>
#include <cstdint>
#include <string>

namespace snorky {

struct Metrics {
    std::atomic<std::uint64_t> connectionsOpened{0};
    std::atomic<std::uint64_t> connectionsClosed{0};
    std::atomic<std::uint64_t> messagesReceived{0};
    std::atomic<std::uint64_t> messagesDropped{0};
    std::atomic<std::uint64_t> framesSent{0};
    std::atomic<std::uint64_t> slowConsumers{0};
    // Abuse limits of the WebSocket listeners.
    std::atomic<std::uint64_t> rateLimited{0};            // messages refused over the rate limit
    std::atomic<std::uint64_t> rateLimitDisconnects{0};   // connections closed (1008) for staying over it
    std::atomic<std::uint64_t> perIpRefused{0};           // upgrades refused (429) over max_connections_per_ip
    std::atomic<std::uint64_t> handshakesRefused{0};      // connections closed at accept over max_handshakes
    std::atomic<std::uint64_t> backendRequests{0};
    std::atomic<std::uint64_t> backendRejected{0};
    // Scale-out engine (Redis); they stay 0 with the in-memory broker.
    std::atomic<std::uint64_t> enginePublished{0};     // messages sent to other nodes
    std::atomic<std::uint64_t> engineReceived{0};      // messages received from other nodes
    std::atomic<std::uint64_t> engineDropped{0};       // not sent: engine down or backlog full (at most once)
    std::atomic<std::uint64_t> engineDisconnects{0};   // connection to the engine lost (or never made)
    std::atomic<std::uint64_t> engineReconnects{0};    // connection re-established after a loss
    std::atomic<int> engineUp{0};                      // 1 while connected (gauge)
    // Returning freed memory to the system ([server] memory_trim_interval).
    std::atomic<std::uint64_t> memoryTrims{0};
    std::atomic<std::uint64_t> memoryTrimMicros{0};     // time spent in them
    std::atomic<std::uint64_t> memoryTrimMaxMicros{0};  // the longest one (gauge)

    // Message history (docs/history.md), memory engine.
    std::atomic<std::uint64_t> historyEvictions{0};  // streams (or their oldest messages) dropped over the cap
    std::atomic<std::uint64_t> historyBytes{0};      // held now (gauge)
    std::atomic<std::uint64_t> historyStreams{0};    // streams held now (gauge)

    std::int64_t connectionsOpen() const {
        return static_cast<std::int64_t>(connectionsOpened.load()) -
               static_cast<std::int64_t>(connectionsClosed.load());
    }
    // Prometheus text exposition format.
    std::string render() const;
};

}  // namespace snorky
