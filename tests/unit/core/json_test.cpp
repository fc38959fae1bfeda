#include "snorky/protocol/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace snorky;

TEST(CanonicalJson, IgnoresObjectKeyOrderAtEveryLevel) {
    EXPECT_EQ(canonicalJson(json::parse(R"({"b":1,"a":{"y":2,"x":[{"q":1,"p":2}]}})")),
              canonicalJson(json::parse(R"({"a":{"x":[{"p":2,"q":1}],"y":2},"b":1})")));
}

TEST(CanonicalJson, KeepsDistinctValuesDistinct) {
    EXPECT_NE(canonicalJson(json::parse(R"("1")")), canonicalJson(json::parse("1")));
    EXPECT_NE(canonicalJson(json::parse("[1,2]")), canonicalJson(json::parse("[2,1]")));
    EXPECT_EQ(canonicalJson(json::parse("7.0")), canonicalJson(json::parse("7")));
}

TEST(FindPath, DescendsIntoNestedObjects) {
    auto doc = json::parse(R"({"team":{"id":7,"name":"x"},"owner":"ann"})");
    ASSERT_NE(findPath(doc, "team.id"), nullptr);
    EXPECT_EQ(*findPath(doc, "team.id"), 7);
    EXPECT_EQ(*findPath(doc, "owner"), "ann");
    EXPECT_EQ(findPath(doc, "team.missing"), nullptr);
    EXPECT_EQ(findPath(doc, "owner.x"), nullptr);
    EXPECT_EQ(findPath(json::parse("[1]"), "a"), nullptr);
}

TEST(ExactInteger, TakesIntegersInEveryRepresentationThatFitInt64) {
    EXPECT_EQ(exactInteger(json::parse("7")), 7);
    EXPECT_EQ(exactInteger(json::parse("7.0")), 7);
    EXPECT_EQ(exactInteger(json::parse("-3e2")), -300);
    EXPECT_EQ(exactInteger(json::parse("1e16")), 10'000'000'000'000'000);
    EXPECT_EQ(exactInteger(json::parse("-9223372036854775808")), INT64_MIN);
    EXPECT_EQ(exactInteger(json::parse("-9223372036854775808.0")), INT64_MIN);  // -2^63 is a double exactly
    EXPECT_EQ(exactInteger(json::parse("9223372036854775807")), INT64_MAX);
    EXPECT_EQ(exactInteger(json::value(std::uint64_t{5})), 5);
}

TEST(ExactInteger, RefusesWhatDoesNotFitInsteadOfConverting) {
    // Each of these, cast to int64, is undefined behaviour (UBSan: float-cast-overflow).
    for (const char* text : {"1e300", "-1e300", "9223372036854775808.0", "9.3e18", "-9.3e18", "1e19"})
        EXPECT_EQ(exactInteger(json::parse(text)), std::nullopt) << text;
    EXPECT_EQ(exactInteger(json::parse("9223372036854775808")), std::nullopt);  // uint64 above int64
    EXPECT_EQ(exactInteger(json::parse("18446744073709551615")), std::nullopt);
    EXPECT_EQ(exactInteger(json::value(std::numeric_limits<double>::infinity())), std::nullopt);
    EXPECT_EQ(exactInteger(json::value(std::numeric_limits<double>::quiet_NaN())), std::nullopt);
    EXPECT_EQ(exactInteger(json::parse("1.5")), std::nullopt);
    EXPECT_EQ(exactInteger(json::parse("\"7\"")), std::nullopt);
    EXPECT_EQ(exactInteger(json::parse("true")), std::nullopt);
}

TEST(CanonicalJson, HugeAndIntegralDoublesAreKeyedSafely) {
    EXPECT_EQ(canonicalJson(json::parse("1e300")), "1E300");
    EXPECT_NE(canonicalJson(json::parse("1e300")), canonicalJson(json::parse("-1e300")));
    EXPECT_NE(canonicalJson(json::parse("1e300")), canonicalJson(json::parse("1e301")));
    // An integral double is the same channel as the same integer, whatever its size.
    EXPECT_EQ(canonicalJson(json::parse("1e16")), canonicalJson(json::parse("10000000000000000")));
    EXPECT_EQ(canonicalJson(json::parse("[1e18]")), "[1000000000000000000]");
    EXPECT_EQ(canonicalJson(json::parse("{\"a\":9223372036854775808.0}")), "{\"a\":9.223372036854776E18}");
}

TEST(AllNumbersFinite, FindsInfinityAtAnyDepth) {
    EXPECT_TRUE(allNumbersFinite(json::parse(R"({"a":[1,2.5,-1e308,{"b":"1e400"}]})")));
    // Boost.JSON reads numbers beyond double range as infinity.
    json::value parsed = json::parse("1e400");
    ASSERT_TRUE(parsed.is_double());
    EXPECT_TRUE(std::isinf(parsed.get_double()));
    EXPECT_FALSE(allNumbersFinite(parsed));
    EXPECT_FALSE(allNumbersFinite(json::parse(R"({"a":[1,{"b":-1e400}]})")));
    EXPECT_FALSE(allNumbersFinite(json::parse("[1" + std::string(400, '0') + "]")));
    EXPECT_FALSE(allNumbersFinite(json::value(std::numeric_limits<double>::quiet_NaN())));
}

TEST(AppendJson, NeverWritesANonFiniteNumber) {
    std::string out;
    appendJson(json::parse(R"({"a":[1,2.5,"Infinity"]})"), out);
    EXPECT_EQ(out, R"({"a":[1,2.5E0,"Infinity"]})");
    json::object withInfinity{{"x", std::numeric_limits<double>::infinity()},
                              {"y", json::array{-std::numeric_limits<double>::infinity(), 1}},
                              {"z", std::numeric_limits<double>::quiet_NaN()}};
    out.clear();
    appendJson(withInfinity, out);
    EXPECT_EQ(out, R"({"x":null,"y":[null,1],"z":null})");
    EXPECT_EQ(json::parse(out), json::parse(R"({"x":null,"y":[null,1],"z":null})"));
}
