// The Redis engine's history pieces that need no Redis: the header of a
// message on a Redis channel, and the script's read reply (parsed from RESP
// bytes by hiredis, as the link reads them).
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "engines/redis_history.hpp"

using namespace snorky;
using namespace snorky::redis;

namespace {

constexpr std::size_t kId = 16;
const std::string kNode = "0123456789abcdef";

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

Reply parse(const std::string& resp) {
    redisReader* reader = redisReaderCreate();
    redisReaderFeed(reader, resp.data(), resp.size());
    void* out = nullptr;
    EXPECT_EQ(redisReaderGetReply(reader, &out), REDIS_OK);
    redisReaderFree(reader);
    EXPECT_NE(out, nullptr) << resp;
    return Reply(static_cast<redisReply*>(out));
}

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }
std::string entry(std::uint64_t offset, const std::string& payload) {
    return "*2\r\n" + bulk(std::to_string(offset) + "-0") + "*2\r\n" + bulk("m") + bulk(payload);
}

}  // namespace

TEST(RedisChannelHeader, PlainAndNumbered) {
    // The header views the message: keep it alive.
    const std::string plainMessage = kNode + " {\"a\":1}";
    auto plain = parseChannelHeader(plainMessage, kId);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->node, kNode);
    EXPECT_EQ(plain->offset, 0u);
    EXPECT_EQ(plain->payload, "{\"a\":1}");

    const std::string numberedMessage = kNode + "@17#42 {\"b\": 2}";
    auto numbered = parseChannelHeader(numberedMessage, kId);
    ASSERT_TRUE(numbered);
    EXPECT_EQ(numbered->seq, 17u);
    EXPECT_EQ(numbered->offset, 42u);
    EXPECT_EQ(numbered->payload, "{\"b\": 2}");  // spaces in the payload are the payload's

    const std::string empty = kNode + "@1#1 ";
    EXPECT_EQ(parseChannelHeader(empty, kId)->payload, "");
}

TEST(RedisChannelHeader, MalformedIsRefused) {
    for (const std::string& bad : {std::string(""), kNode, kNode.substr(0, 10) + " x", kNode + "x", kNode + "@1#2",
                                   kNode + "@#2 x", kNode + "@1# x", kNode + "@1#0 x", kNode + "#2@1 x",
                                   kNode + "@1#+2 x", kNode + "@01#2 x", kNode + "@1#18446744073709551616 x",
                                   kNode + "@-1#2 x", kNode + "@1 #2 x"})
        EXPECT_FALSE(parseChannelHeader(bad, kId)) << bad;
}

TEST(RedisHistoryRead, ParsesTheScriptsAnswer) {
    auto reply = parse("*4\r\n" + bulk("ep1") + ":7\r\n:1\r\n*2\r\n" + entry(6, "six") + entry(7, "seven"));
    auto read = parseHistoryRead(*reply, false);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->position.epoch, "ep1");
    EXPECT_EQ(read->position.offset, 7u);
    EXPECT_TRUE(read->complete);
    ASSERT_EQ(read->entries.size(), 2u);
    EXPECT_EQ(read->entries[0].offset, 6u);
    EXPECT_EQ(read->entries[0].frame->payload(), "six");
    // XREVRANGE answers newest first: put back in offset order.
    auto newest = parseHistoryRead(*reply, true);
    EXPECT_EQ(newest->entries[0].offset, 7u);
    EXPECT_EQ(newest->entries[1].offset, 6u);

    auto incomplete = parseHistoryRead(*parse("*4\r\n" + bulk("e") + ":0\r\n:0\r\n*0\r\n"), false);
    ASSERT_TRUE(incomplete);
    EXPECT_FALSE(incomplete->complete);
    EXPECT_TRUE(incomplete->entries.empty());
}

TEST(RedisHistoryRead, AnotherShapeIsRefused) {
    const std::vector<std::string> bads = {":1\r\n", "-ERR no\r\n", "*3\r\n" + bulk("e") + ":1\r\n:1\r\n",
                                   "*4\r\n:1\r\n:1\r\n:1\r\n*0\r\n",                  // epoch not a string
                                   "*4\r\n" + bulk("e") + ":-1\r\n:1\r\n*0\r\n",      // negative top
                                   "*4\r\n" + bulk("e") + ":1\r\n:1\r\n:5\r\n",        // entries not an array
                                   "*4\r\n" + bulk("e") + ":1\r\n:1\r\n*1\r\n" + bulk("x"),
                                   "*4\r\n" + bulk("e") + ":1\r\n:1\r\n*1\r\n*2\r\n" + bulk("x-0") + "*2\r\n" +
                                       bulk("m") + bulk("p")};  // an id without offset
    for (const std::string& bad : bads)
        EXPECT_FALSE(parseHistoryRead(*parse(bad), false)) << bad;
}

TEST(RedisHistoryKeys, UnderThePrefixAndDistinct) {
    EXPECT_EQ(historyStreamKey("snorky:", "pubsub:p:\"a\""), "snorky:history:pubsub:p:\"a\"");
    EXPECT_EQ(historyMetaKey("snorky:", "pubsub:p:\"a\""), "snorky:history-meta:pubsub:p:\"a\"");
    // No topic's stream key is another topic's meta key.
    EXPECT_NE(historyStreamKey("s:", "-meta:x"), historyMetaKey("s:", "x"));
}
