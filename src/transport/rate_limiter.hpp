#pragma once
// Inbound message rate limit of one connection: a token bucket refilled from
// the worker's coarse clock (whole seconds, already kept for the ping sweep),
// so admitting a message reads no clock. Over any T seconds a connection gets
// at most burst + rate * T messages through. Refusals are counted per window;
// a connection that keeps being refused is told to go (close 1008).
// Pure: no I/O, unit-tested.
#include <algorithm>
#include <cstdint>

namespace snorky {

struct RateLimit {
    std::uint32_t rate = 0;             // messages per second; 0: no limit
    std::uint32_t burst = 0;            // bucket size
    std::uint32_t disconnectAfter = 0;  // refusals within one window that end the connection; 0: never
    static constexpr std::uint32_t kWindowSeconds = 10;
};

class RateLimiter {
public:
    enum class Verdict : std::uint8_t { Allow, Refuse, Disconnect };

    // `now`: seconds on a monotonic clock.
    void start(const RateLimit& limit, std::uint32_t now) {
        tokens_ = limit.burst;
        last_ = now;
        windowStart_ = now;
        refused_ = 0;
    }

    Verdict admit(const RateLimit& limit, std::uint32_t now) {
        if (limit.rate == 0) return Verdict::Allow;
        if (now != last_) {
            std::uint64_t refill = static_cast<std::uint64_t>(limit.rate) * (now - last_);
            tokens_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(limit.burst, tokens_ + refill));
            last_ = now;
        }
        if (tokens_ > 0) {
            --tokens_;
            return Verdict::Allow;
        }
        if (now - windowStart_ >= RateLimit::kWindowSeconds) {
            windowStart_ = now;
            refused_ = 0;
        }
        ++refused_;
        if (limit.disconnectAfter && refused_ >= limit.disconnectAfter) return Verdict::Disconnect;
        return Verdict::Refuse;
    }

private:
    std::uint32_t tokens_ = 0;
    std::uint32_t last_ = 0;
    std::uint32_t windowStart_ = 0;
    std::uint32_t refused_ = 0;
};

}  // namespace snorky
