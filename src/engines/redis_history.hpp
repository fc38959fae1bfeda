#pragma once
// History in Redis (docs/history.md): the Lua script that appends a message
// to its topic's stream and publishes it in one step (or reads the stream),
// the keys it uses, its replies, and the header a message carries on a
// Redis channel. Used by the link's I/O thread (redis_link.cpp).
//
// Per topic, under the engine's prefix:
//   history-meta:<topic>  hash {epoch, top}: the stream's epoch and last offset
//   history:<topic>       a Redis stream, entry ids "<offset>-0", field "m": the frame
// Both expire `ttl` after the last publish. A missing meta hash (first use,
// expired, FLUSHALL, Redis restarted without persistence) means a new stream:
// the script then takes the epoch the node proposed, so an old (offset,
// epoch) never matches what comes after.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "snorky/core/broker.hpp"

namespace snorky::redis {

extern const char* const kHistoryScript;

std::string historyStreamKey(const std::string& prefix, const std::string& topic);
std::string historyMetaKey(const std::string& prefix, const std::string& topic);

// The script's answer to a read ({epoch, top, complete, entries}, entries
// newest first when `newestFirst`); nullopt when it is not that shape.
std::optional<HistoryRead> parseHistoryRead(const redisReply& reply, bool newestFirst);

// What precedes the payload of a message on a Redis channel:
//   "<node id> "                    a plain publish
//   "<node id>@<seq>#<offset> "     a publish with history (seq: the
//                                   publishing node's count, to find its own)
struct ChannelHeader {
    std::string_view node;
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;  // 0: a plain publish
    std::string_view payload;
};
std::optional<ChannelHeader> parseChannelHeader(std::string_view message, std::size_t nodeIdSize);

}  // namespace snorky::redis
