#include "snorky/services/datasync/token.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

using namespace snorky::datasync;

TEST(DataSyncToken, ThirtyTwoCharactersOfLowercaseLettersAndDigits) {
    for (int i = 0; i < 100; ++i) {
        std::string token = generateToken();
        ASSERT_EQ(token.size(), 32u);
        for (char c : token) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << token;
    }
}

TEST(DataSyncToken, Distinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(generateToken());
    EXPECT_EQ(seen.size(), 1000u);
}

// Every symbol equally likely. A plain `byte % 36` (no rejection) gives four
// symbols 8/256 instead of 7/256 and fails this by a wide margin (chi-square
// about 250 on this sample); a fair generator exceeds 85 (35 degrees of
// freedom) about once in a million runs.
TEST(DataSyncToken, SymbolsAreUniform) {
    std::array<double, 36> counts{};
    constexpr int kTokens = 4000;
    for (int i = 0; i < kTokens; ++i)
        for (char c : generateToken()) counts[c >= 'a' ? c - 'a' : 26 + (c - '0')] += 1;
    double expected = kTokens * 32.0 / 36.0, chiSquare = 0;
    for (double n : counts) chiSquare += (n - expected) * (n - expected) / expected;
    EXPECT_LT(chiSquare, 85.0);
}
