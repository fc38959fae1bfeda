#pragma once
// What time it is, as the services and the memory engine see it. The Node
// hands out one Clock (the real one unless told otherwise), so tests move
// time by hand together with the timers instead of sleeping.
#include <chrono>

namespace snorky {

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time, for deadlines inside this process (key expiry in the
    // memory engine, grace periods).
    virtual std::chrono::steady_clock::time_point now() const = 0;
    // Calendar time, for what other nodes or clients read (expiry stamps in
    // shared maps, message timestamps).
    virtual std::chrono::system_clock::time_point wallNow() const = 0;

    // The real clocks of the machine.
    static const Clock& real();
};

class RealClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point wallNow() const override { return std::chrono::system_clock::now(); }
};

inline const Clock& Clock::real() {
    static const RealClock clock;
    return clock;
}

}  // namespace snorky
