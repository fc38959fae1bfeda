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
    std::atomic<std::uint64_t> backendRequests{0};
    std::atomic<std::uint64_t> backendRejected{0};

    std::int64_t connectionsOpen() const {
        return static_cast<std::int64_t>(connectionsOpened.load()) -
               static_cast<std::int64_t>(connectionsClosed.load());
    }
    // Prometheus text exposition format.
    std::string render() const;
};

}  // namespace snorky
