#include "transport/rate_limiter.hpp"

#include <gtest/gtest.h>

using snorky::RateLimit;
using snorky::RateLimiter;
using Verdict = RateLimiter::Verdict;

namespace {
// How many of `count` messages sent at second `now` get through.
int allowed(RateLimiter& limiter, const RateLimit& limit, std::uint32_t now, int count) {
    int n = 0;
    for (int i = 0; i < count; ++i)
        if (limiter.admit(limit, now) == Verdict::Allow) ++n;
    return n;
}
}  // namespace

TEST(RateLimiter, ABurstIsAllowedThenTheRate) {
    RateLimit limit{.rate = 50, .burst = 100, .disconnectAfter = 0};
    RateLimiter limiter;
    limiter.start(limit, 7);
    EXPECT_EQ(allowed(limiter, limit, 7, 150), 100);  // the burst, within one second
    EXPECT_EQ(allowed(limiter, limit, 8, 150), 50);   // one second's refill
    EXPECT_EQ(allowed(limiter, limit, 10, 150), 100); // two seconds, capped at the burst
}

TEST(RateLimiter, RefillNeverExceedsTheBurst) {
    RateLimit limit{.rate = 10, .burst = 20, .disconnectAfter = 0};
    RateLimiter limiter;
    limiter.start(limit, 0);
    EXPECT_EQ(allowed(limiter, limit, 100000, 1000), 20);  // a long silence: still only the burst
}

TEST(RateLimiter, ASteadyClientUnderTheRateIsNeverRefused) {
    RateLimit limit{.rate = 50, .burst = 100, .disconnectAfter = 1};
    RateLimiter limiter;
    limiter.start(limit, 0);
    for (std::uint32_t second = 0; second < 1000; ++second) ASSERT_EQ(allowed(limiter, limit, second, 50), 50);
}

TEST(RateLimiter, ZeroRateIsNoLimit) {
    RateLimit limit{};
    RateLimiter limiter;
    limiter.start(limit, 0);
    EXPECT_EQ(allowed(limiter, limit, 0, 100000), 100000);
}

TEST(RateLimiter, SustainedRefusalsWithinTheWindowDisconnect) {
    RateLimit limit{.rate = 1, .burst = 1, .disconnectAfter = 3};
    RateLimiter limiter;
    limiter.start(limit, 0);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Allow);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Refuse);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Refuse);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Disconnect);
}

TEST(RateLimiter, RefusalsInAnEarlierWindowAreForgotten) {
    RateLimit limit{.rate = 1, .burst = 1, .disconnectAfter = 3};
    RateLimiter limiter;
    limiter.start(limit, 0);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Allow);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Refuse);
    EXPECT_EQ(limiter.admit(limit, 0), Verdict::Refuse);
    const std::uint32_t later = RateLimit::kWindowSeconds + 1;
    EXPECT_EQ(limiter.admit(limit, later), Verdict::Allow);
    EXPECT_EQ(limiter.admit(limit, later), Verdict::Refuse);  // a new window: the count starts again
    EXPECT_EQ(limiter.admit(limit, later), Verdict::Refuse);
    EXPECT_EQ(limiter.admit(limit, later), Verdict::Disconnect);
}

TEST(RateLimiter, NoDisconnectWhenItIsOff) {
    RateLimit limit{.rate = 1, .burst = 1, .disconnectAfter = 0};
    RateLimiter limiter;
    limiter.start(limit, 0);
    limiter.admit(limit, 0);
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.admit(limit, 0), Verdict::Refuse);
}
