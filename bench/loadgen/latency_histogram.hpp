#pragma once
// Log-linear latency histogram (about 1.6% resolution, 1 ns .. ~18 min) with a
// fixed layout, so worker processes can ship it to the parent as raw bytes and
// the parent merges by adding buckets.
#include <array>
#include <cstdint>

namespace snorky::bench {

class LatencyHistogram {
public:
    static constexpr int kSubBits = 6;                  // 64 sub-buckets per power of two
    static constexpr int kLinear = 2 << kSubBits;       // values below 128 ns are exact
    static constexpr int kMaxExponent = 40;             // 2^41 ns ~ 36 min
    static constexpr int kBuckets = kLinear + (kMaxExponent - kSubBits) * (1 << kSubBits);

    void record(std::uint64_t ns);
    void merge(const LatencyHistogram& other);
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
    // The smallest recorded bucket value v such that at least q (0..1) of the
    // samples are <= v (bucket upper bound, capped by the exact maximum).
    std::uint64_t percentile(double q) const;

private:
    static int indexOf(std::uint64_t ns);
    static std::uint64_t upperBound(int index);

    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace snorky::bench
