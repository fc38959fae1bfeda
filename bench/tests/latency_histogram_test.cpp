#include "latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using snorky::bench::LatencyHistogram;

namespace {

// Exact q-quantile (nearest rank) of a sorted sample.
std::uint64_t exact(const std::vector<std::uint64_t>& sorted, double q) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

TEST(LatencyHistogram, PercentilesWithinTheBucketResolution) {
    std::mt19937_64 random(7);
    // Log-uniform from 1 us to 1 s, like latencies under varying load.
    std::uniform_real_distribution<double> exponent(3.0, 9.0);
    std::vector<std::uint64_t> samples;
    LatencyHistogram h;
    for (int i = 0; i < 200000; ++i) {
        auto ns = static_cast<std::uint64_t>(std::pow(10.0, exponent(random)));
        samples.push_back(ns);
        h.record(ns);
    }
    std::sort(samples.begin(), samples.end());
    EXPECT_EQ(h.count(), samples.size());
    EXPECT_EQ(h.max(), samples.back());
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        double want = static_cast<double>(exact(samples, q));
        double got = static_cast<double>(h.percentile(q));
        // A bucket spans 1/64 of its power of two; the answer is its upper bound.
        EXPECT_GE(got, want) << "q=" << q;
        EXPECT_LE(got, want * (1.0 + 1.0 / 64) + 1) << "q=" << q;
    }
    EXPECT_EQ(h.percentile(1.0), samples.back());
}

TEST(LatencyHistogram, SmallValuesAreExactAndHugeOnesClamp) {
    LatencyHistogram h;
    for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
    EXPECT_EQ(h.percentile(0.5), 49u);
    EXPECT_EQ(h.percentile(0.01), 0u);
    EXPECT_DOUBLE_EQ(h.mean(), 49.5);
    h.record(1ull << 60);  // beyond the last bucket: counted, max stays exact
    EXPECT_EQ(h.count(), 101u);
    EXPECT_EQ(h.max(), 1ull << 60);
    EXPECT_EQ(h.percentile(1.0), 1ull << 60);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
    LatencyHistogram a, b, all;
    for (std::uint64_t v = 1000; v < 50000; v += 7) {
        (v % 3 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

TEST(LatencyHistogram, EmptyReportsZero) {
    LatencyHistogram h;
    EXPECT_EQ(h.percentile(0.99), 0u);
    EXPECT_EQ(h.mean(), 0.0);
}
