#include "server/toml_guard.hpp"

#include <gtest/gtest.h>

#include "server/config.hpp"

using namespace snorky::server;

namespace {
std::size_t unsafeLine(std::string_view text) {
    auto error = findUnsafeToml(text);
    return error ? error->line : 0;
}
}  // namespace

// The input libFuzzer found: U+FEFE in a bare key sent toml++ 3.3 into
// __builtin_unreachable().
TEST(TomlGuard, RefusesTheFuzzFindingBeforeTomlPlusPlusSeesIt) {
    const std::string finding = "e\xEF\xBB\xBEope.\n 1\n";
    EXPECT_EQ(unsafeLine(finding), 1u);
    try {
        parseConfig(finding, "fuzz.toml");
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("fuzz.toml:1: a non-ASCII character outside a string", 0), 0u)
            << e.what();
    }
}

TEST(TomlGuard, RefusesNonAsciiWhereTomlNeverAllowsIt) {
    EXPECT_EQ(unsafeLine("caf\xC3\xA9 = 1\n"), 1u);                     // bare key
    EXPECT_EQ(unsafeLine("[server]\nx = 1\xC2\xA0\n"), 2u);            // no-break space after a value
    EXPECT_EQ(unsafeLine("a = \"x\"\n\n[t\xE3\x80\x80]\n"), 3u);         // ideographic space in a header
    EXPECT_EQ(unsafeLine("a = 1\n\xEF\xBB\xBF"), 2u);                    // a BOM that does not lead
}

TEST(TomlGuard, AllowsNonAsciiInStringsAndComments) {
    EXPECT_FALSE(findUnsafeToml("\xEF\xBB\xBF# caf\xC3\xA9\na = \"caf\xC3\xA9\" # \xE2\x82\xAC\n"));
    EXPECT_FALSE(findUnsafeToml("\"caf\xC3\xA9\" = 'd\xC3\xA9j\xC3\xA0'\n"));
    EXPECT_FALSE(findUnsafeToml("a = \"\"\"\nl\xC3\xA9\n\\\"\xC3\xA9\"\"\"\"\nb = '''\n\xC3\xA9'''''\n"));
    EXPECT_FALSE(findUnsafeToml("a = \"\\\"\xC3\xA9\" # \"\nb = 'x\\'"));  // escaped quote, backslash in a literal
}

// The two places inside a multi-line basic string where toml++ asks the same
// faulty whitespace question.
TEST(TomlGuard, RefusesNonAsciiRightAfterABackslashInAMultiLineString) {
    EXPECT_EQ(unsafeLine("a = \"\"\"x\\\xC3\xA9\"\"\"\n"), 1u);
    EXPECT_EQ(unsafeLine("a = \"\"\"x \\\n\n   \xC3\xA9\"\"\"\n"), 3u);
    EXPECT_FALSE(findUnsafeToml("a = \"\"\"x \\\n   y\xC3\xA9\"\"\"\n"));
}

// toml++ reads a bare value (a number, a date, or garbage) up to a blank,
// ',', ']', '}' or '#', quotes included: a quote there opens no string. The
// second input is libFuzzer's second finding.
TEST(TomlGuard, AQuoteInsideABareValueOpensNoString) {
    EXPECT_EQ(unsafeLine("a = 1978-\"\xC3\xAB\"\n"), 1u);
    EXPECT_EQ(unsafeLine("[server]\nthreads = 1978-\"redis://h/0?x\xC3\xAB" "07:32m[[l\nr]e]e\"\n"), 2u);
    EXPECT_EQ(unsafeLine("a = 1=[\"\xC3\xA9\"]\n"), 1u);
    EXPECT_EQ(unsafeLine("a = [1, 2{\"\xC3\xA9\"}]\n"), 1u);
    EXPECT_EQ(unsafeLine("a = 1979-05-27 0\"\xC3\xA9\"\n"), 1u);
    // Where a value may begin, a quote opens one, in every compact spelling.
    EXPECT_FALSE(findUnsafeToml("a=\"\xC3\xA9\"\nb=[\"\xC3\xA9\",'\xC3\xA9']\nc={d=\"\xC3\xA9\",\"\xC3\xA9\"=1}\n"));
    EXPECT_FALSE(findUnsafeToml("[a.\"\xC3\xA9\"]\n[[\"\xC3\xA9\".b]]\nx.\"\xC3\xA9\" = [\n  1,\n  \"\xC3\xA9\",\n]\n"));
}

// Strings are tracked exactly: a quote inside a literal or escaped in a basic
// string does not end it, and text after a closed string is checked again.
TEST(TomlGuard, ChecksTextAfterEveryKindOfString) {
    EXPECT_EQ(unsafeLine("a = 'x\"' \xC3\xA9\n"), 1u);
    EXPECT_EQ(unsafeLine("a = \"x\\\"\" \xC3\xA9\n"), 1u);
    EXPECT_EQ(unsafeLine("a = '''x\n'''\n\xC3\xA9\n"), 3u);
    EXPECT_EQ(unsafeLine("a = \"\"\"x\n\"\"\"\"\"\n\xC3\xA9\n"), 3u);
    EXPECT_EQ(unsafeLine("a = \"unterminated\n\xC3\xA9\n"), 2u);
}

TEST(TomlGuard, ConfigsWithNonAsciiStringsStillLoad) {
    Config config = parseConfig(
        "# Caf\xC3\xA9 \xE2\x80\x94 notes\n[[listener]]\ntype = \"websocket\"\nregistry = \"fr\xC3\xA9\"\n", "t.toml");
    ASSERT_EQ(config.listeners.size(), 1u);
    EXPECT_EQ(config.listeners[0].registry, "fr\xC3\xA9");
}
