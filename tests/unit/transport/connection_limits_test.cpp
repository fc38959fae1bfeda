#include "transport/connection_limits.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using snorky::ConnectionLimits;

TEST(ConnectionLimits, AddressesAreCappedAndSlotsGiveTheirPlaceBack) {
    auto limits = std::make_shared<ConnectionLimits>(0, 2);
    auto a = limits->admit("1.2.3.4");
    auto b = limits->admit("1.2.3.4");
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(limits->admit("1.2.3.4"));
    EXPECT_TRUE(limits->admit("5.6.7.8"));  // another address has its own count (released at once)
    EXPECT_EQ(limits->connections("5.6.7.8"), 0u);
    a->release();
    a->release();  // twice is once
    EXPECT_EQ(limits->connections("1.2.3.4"), 1u);
    auto c = limits->admit("1.2.3.4");
    ASSERT_TRUE(c);
    { ConnectionLimits::Slot moved = std::move(*c); }  // destroyed: released
    { ConnectionLimits::Slot gone = std::move(*b); }
    EXPECT_EQ(limits->connections("1.2.3.4"), 0u);
}

TEST(ConnectionLimits, HandshakesAreCapped) {
    auto limits = std::make_shared<ConnectionLimits>(2, 0);
    auto a = limits->beginHandshake();
    auto b = limits->beginHandshake();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(limits->beginHandshake());
    b->release();
    EXPECT_TRUE(limits->beginHandshake());
    EXPECT_EQ(limits->handshakes(), 1u);
}

TEST(ConnectionLimits, ZeroIsNoCap) {
    auto limits = std::make_shared<ConnectionLimits>(0, 0);
    std::vector<ConnectionLimits::Slot> slots;
    for (int i = 0; i < 1000; ++i) {
        auto h = limits->beginHandshake();
        auto a = limits->admit("1.2.3.4");
        ASSERT_TRUE(h && a);
        slots.push_back(std::move(*h));
        slots.push_back(std::move(*a));
    }
}

TEST(ConnectionLimits, SlotsKeepTheLimitsAliveAndCountAcrossThreads) {
    auto limits = std::make_shared<ConnectionLimits>(0, 1000000);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([limits] {
            for (int i = 0; i < 10000; ++i) {
                auto slot = limits->admit("1.2.3.4");
                ASSERT_TRUE(slot);
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(limits->connections("1.2.3.4"), 0u);
    auto slot = limits->admit("1.2.3.4");
    std::weak_ptr<ConnectionLimits> weak = limits;
    limits.reset();
    EXPECT_FALSE(weak.expired());  // the listener is gone, the session's slot is not
    slot.reset();
    EXPECT_TRUE(weak.expired());
}

// A reload changes the caps: open slots stay, the next admission follows the new cap.
TEST(ConnectionLimits, NewCapsApplyToTheNextAdmissionAndKeepOpenSlots) {
    auto limits = std::make_shared<ConnectionLimits>(0, 3);
    std::vector<ConnectionLimits::Slot> open;
    for (int i = 0; i < 3; ++i) open.push_back(std::move(*limits->admit("1.2.3.4")));
    limits->setCaps(1, 1);
    EXPECT_FALSE(limits->admit("1.2.3.4"));
    EXPECT_EQ(limits->connections("1.2.3.4"), 3u);  // nothing taken away
    open.pop_back();
    open.pop_back();
    EXPECT_FALSE(limits->admit("1.2.3.4"));  // one left: at the cap of one
    open.pop_back();
    EXPECT_TRUE(limits->admit("1.2.3.4"));
    auto handshake = limits->beginHandshake();
    ASSERT_TRUE(handshake);
    EXPECT_FALSE(limits->beginHandshake());
    limits->setCaps(0, 0);
    EXPECT_TRUE(limits->beginHandshake());
}

// Without a cap, addresses are still counted: a cap set later counts what is open.
TEST(ConnectionLimits, ACapSetLaterCountsWhatWasOpenedWithout) {
    auto limits = std::make_shared<ConnectionLimits>(0, 0);
    auto a = limits->admit("1.2.3.4");
    auto b = limits->admit("1.2.3.4");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(limits->connections("1.2.3.4"), 2u);
    limits->setCaps(0, 2);
    EXPECT_FALSE(limits->admit("1.2.3.4"));
    a->release();
    EXPECT_TRUE(limits->admit("1.2.3.4"));
}
