#pragma once
// Timers let services act later (subscription expiry, heartbeats) without
// seeing the event loop. Callbacks run with the node's service lock held.
#include <chrono>
#include <cstdint>
#include <functional>

namespace snorky {

class Timers {
public:
    using Handle = std::uint64_t;
    virtual ~Timers() = default;
    // Runs fn once after delay. Call with the service lock held.
    virtual Handle schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
    // Cancels a timer that has not fired yet; a no-op for fired or unknown handles.
    virtual void cancel(Handle handle) = 0;
};

}  // namespace snorky
