#include "snorky/protocol/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace snorky;

namespace {
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}
}  // namespace

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
    EXPECT_TRUE(isValidUtf8(""));
    EXPECT_TRUE(isValidUtf8("plain ASCII, long enough for the eight-byte path"));
    EXPECT_TRUE(isValidUtf8("caf\xc3\xa9"));                     // U+00E9
    EXPECT_TRUE(isValidUtf8("\xe2\x82\xac"));                    // U+20AC
    EXPECT_TRUE(isValidUtf8("\xf0\x9f\x98\x80 smile"));          // U+1F600
    EXPECT_TRUE(isValidUtf8(bytes({0x7f})));
    EXPECT_TRUE(isValidUtf8(bytes({0xc2, 0x80})));               // U+0080, smallest 2-byte
    EXPECT_TRUE(isValidUtf8(bytes({0xdf, 0xbf})));               // U+07FF
    EXPECT_TRUE(isValidUtf8(bytes({0xe0, 0xa0, 0x80})));         // U+0800, smallest 3-byte
    EXPECT_TRUE(isValidUtf8(bytes({0xed, 0x9f, 0xbf})));         // U+D7FF, just below the surrogates
    EXPECT_TRUE(isValidUtf8(bytes({0xee, 0x80, 0x80})));         // U+E000, just above them
    EXPECT_TRUE(isValidUtf8(bytes({0xef, 0xbf, 0xbf})));         // U+FFFF
    EXPECT_TRUE(isValidUtf8(bytes({0xf0, 0x90, 0x80, 0x80})));   // U+10000, smallest 4-byte
    EXPECT_TRUE(isValidUtf8(bytes({0xf4, 0x8f, 0xbf, 0xbf})));   // U+10FFFF, the last code point
    EXPECT_TRUE(isValidUtf8(std::string("a\0b", 3)));            // NUL is a character
}

TEST(Utf8, RefusesOverlongForms) {
    EXPECT_FALSE(isValidUtf8(bytes({0xc0, 0x80})));              // U+0000 in two bytes
    EXPECT_FALSE(isValidUtf8(bytes({0xc1, 0xbf})));              // U+007F in two bytes
    EXPECT_FALSE(isValidUtf8(bytes({0xe0, 0x80, 0xaf})));        // '/' in three bytes
    EXPECT_FALSE(isValidUtf8(bytes({0xe0, 0x9f, 0xbf})));        // U+07FF in three bytes
    EXPECT_FALSE(isValidUtf8(bytes({0xf0, 0x80, 0x80, 0xaf})));  // '/' in four bytes
    EXPECT_FALSE(isValidUtf8(bytes({0xf0, 0x8f, 0xbf, 0xbf})));  // U+FFFF in four bytes
}

TEST(Utf8, RefusesSurrogates) {
    EXPECT_FALSE(isValidUtf8(bytes({0xed, 0xa0, 0x80})));        // U+D800
    EXPECT_FALSE(isValidUtf8(bytes({0xed, 0xaf, 0xbf})));        // U+DBFF
    EXPECT_FALSE(isValidUtf8(bytes({0xed, 0xb0, 0x80})));        // U+DC00
    EXPECT_FALSE(isValidUtf8(bytes({0xed, 0xbf, 0xbf})));        // U+DFFF
    EXPECT_FALSE(isValidUtf8(bytes({0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80})));  // a CESU-8 pair
}

TEST(Utf8, RefusesCodePointsAboveU10FFFF) {
    EXPECT_FALSE(isValidUtf8(bytes({0xf4, 0x90, 0x80, 0x80})));  // U+110000
    EXPECT_FALSE(isValidUtf8(bytes({0xf5, 0x80, 0x80, 0x80})));
    EXPECT_FALSE(isValidUtf8(bytes({0xf7, 0xbf, 0xbf, 0xbf})));
    EXPECT_FALSE(isValidUtf8(bytes({0xf8, 0x88, 0x80, 0x80, 0x80})));  // old 5-byte form
    EXPECT_FALSE(isValidUtf8(bytes({0xfc, 0x84, 0x80, 0x80, 0x80, 0x80})));
    EXPECT_FALSE(isValidUtf8(bytes({0xfe})));
    EXPECT_FALSE(isValidUtf8(bytes({0xff})));
}

TEST(Utf8, RefusesTruncatedAndStrayBytes) {
    EXPECT_FALSE(isValidUtf8(bytes({0xc3})));                    // lead byte at the end
    EXPECT_FALSE(isValidUtf8(bytes({0xe2, 0x82})));
    EXPECT_FALSE(isValidUtf8(bytes({0xf0, 0x9f, 0x98})));
    EXPECT_FALSE(isValidUtf8("abc" + bytes({0xe2, 0x82}) + "d"));  // cut short mid-text
    EXPECT_FALSE(isValidUtf8(bytes({0x80})));                    // continuation with no lead
    EXPECT_FALSE(isValidUtf8(bytes({0xbf})));
    EXPECT_FALSE(isValidUtf8(bytes({0xc3, 0xa9, 0xa9})));        // one continuation too many
    EXPECT_FALSE(isValidUtf8(bytes({0xc3, 0x41})));              // lead followed by ASCII
    // A bad byte after a run of ASCII long enough for the fast path, and at each offset.
    for (std::size_t at = 0; at < 20; ++at) {
        std::string text(20, 'a');
        text[at] = static_cast<char>(0xff);
        EXPECT_FALSE(isValidUtf8(text)) << at;
    }
}
