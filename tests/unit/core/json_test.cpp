#include "snorky/json.hpp"

#include <gtest/gtest.h>

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
