#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace snorky::bench {

int LatencyHistogram::indexOf(std::uint64_t ns) {
    if (ns < static_cast<std::uint64_t>(kLinear)) return static_cast<int>(ns);
    int exponent = 63 - std::countl_zero(ns);  // >= kSubBits + 1
    if (exponent > kMaxExponent) return kBuckets - 1;
    int shift = exponent - kSubBits;
    auto sub = static_cast<int>(ns >> shift) - (1 << kSubBits);  // 0 .. 63
    return kLinear + (exponent - kSubBits - 1) * (1 << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::upperBound(int index) {
    if (index < kLinear) return static_cast<std::uint64_t>(index);
    int rel = index - kLinear;
    int exponent = rel / (1 << kSubBits) + kSubBits + 1;
    int sub = rel % (1 << kSubBits);
    int shift = exponent - kSubBits;
    return ((static_cast<std::uint64_t>(sub + (1 << kSubBits) + 1)) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t ns) {
    ++buckets_[static_cast<std::size_t>(indexOf(ns))];
    ++count_;
    sum_ += ns;
    max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::percentile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += buckets_[static_cast<std::size_t>(i)];
        // The last bucket also holds everything beyond it: only the maximum bounds it.
        if (seen >= rank) return i == kBuckets - 1 ? max_ : std::min(upperBound(i), max_);
    }
    return max_;
}

}  // namespace snorky::bench
