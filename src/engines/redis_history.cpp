#include "engines/redis_history.hpp"

#include <algorithm>
#include <charconv>

namespace snorky::redis {

// KEYS: meta, stream. ARGV: mode ('p' publish, 'r' read), ttl in ms, the
// epoch to give a new stream, then
//   p: size, channel, header (up to the offset), payload -> the offset
//   r: after ('' for none), limit -> {epoch, top, complete, entries}
// Offsets are written with %d: Lua 5.1 prints big numbers as 1e+15 otherwise.
// An `after` beyond the stream is never turned into a stream id (it may not
// fit a double): it is incomplete and nothing follows it.
const char* const kHistoryScript = R"lua(
local meta, stream = KEYS[1], KEYS[2]
local held = redis.call('HMGET', meta, 'epoch', 'top')
local epoch, top = held[1], tonumber(held[2])
if not epoch or not top then
  epoch, top = ARGV[3], 0
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  redis.call('PEXPIRE', meta, ARGV[2])
end
if ARGV[1] == 'p' then
  top = redis.call('HINCRBY', meta, 'top', 1)
  local offset = string.format('%d', top)
  redis.call('XADD', stream, 'MAXLEN', ARGV[4], offset .. '-0', 'm', ARGV[7])
  redis.call('PEXPIRE', meta, ARGV[2])
  redis.call('PEXPIRE', stream, ARGV[2])
  redis.call('PUBLISH', ARGV[5], ARGV[6] .. offset .. ' ' .. ARGV[7])
  return top
end
local limit = tonumber(ARGV[5])
local complete, entries = 1, {}
if ARGV[4] ~= '' then
  local after = tonumber(ARGV[4])
  local oldest = top + 1
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first > 0 then oldest = tonumber(string.match(first[1][1], '^%d+')) end
  if after > top or oldest > after + 1 then complete = 0 end
  if after < top and limit > 0 then
    entries = redis.call('XRANGE', stream, '(' .. ARGV[4] .. '-0', '+', 'COUNT', limit)
  end
elseif limit > 0 then
  entries = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', limit)
end
return {epoch, top, complete, entries}
)lua";

std::string historyStreamKey(const std::string& prefix, const std::string& topic) {
    return prefix + "history:" + topic;
}

std::string historyMetaKey(const std::string& prefix, const std::string& topic) {
    return prefix + "history-meta:" + topic;
}

namespace {

std::string_view text(const redisReply& r) { return {r.str, r.len}; }

std::optional<std::uint64_t> number(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end == digits.data()) return std::nullopt;
    return value;
}

// One stream entry: ["<offset>-0", ["m", payload]].
std::optional<HistoryEntry> entryOf(const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[0]->type != REDIS_REPLY_STRING) return std::nullopt;
    const redisReply& fields = *r.element[1];
    if (fields.type != REDIS_REPLY_ARRAY || fields.elements != 2 || fields.element[1]->type != REDIS_REPLY_STRING)
        return std::nullopt;
    std::string_view id = text(*r.element[0]);
    auto offset = number(id.substr(0, id.find('-')));
    if (!offset) return std::nullopt;
    return HistoryEntry{*offset, Frame::text(text(*fields.element[1]))};
}

}  // namespace

std::optional<HistoryRead> parseHistoryRead(const redisReply& r, bool newestFirst) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 4) return std::nullopt;
    const redisReply& epoch = *r.element[0];
    const redisReply& top = *r.element[1];
    const redisReply& complete = *r.element[2];
    const redisReply& entries = *r.element[3];
    if (epoch.type != REDIS_REPLY_STRING || top.type != REDIS_REPLY_INTEGER || top.integer < 0 ||
        complete.type != REDIS_REPLY_INTEGER || entries.type != REDIS_REPLY_ARRAY)
        return std::nullopt;
    HistoryRead read;
    read.position = StreamPosition{static_cast<std::uint64_t>(top.integer), std::string(text(epoch))};
    read.complete = complete.integer != 0;
    read.entries.reserve(entries.elements);
    for (std::size_t i = 0; i < entries.elements; ++i) {
        auto entry = entryOf(*entries.element[i]);
        if (!entry) return std::nullopt;
        read.entries.push_back(std::move(*entry));
    }
    if (newestFirst) std::reverse(read.entries.begin(), read.entries.end());
    return read;
}

std::optional<ChannelHeader> parseChannelHeader(std::string_view message, std::size_t nodeIdSize) {
    if (message.size() < nodeIdSize + 1) return std::nullopt;
    ChannelHeader header;
    header.node = message.substr(0, nodeIdSize);
    std::string_view rest = message.substr(nodeIdSize);
    if (rest.front() == ' ') {
        header.payload = rest.substr(1);
        return header;
    }
    // "@<seq>#<offset> "
    std::size_t hash = rest.find('#');
    std::size_t space = rest.find(' ');
    if (rest.front() != '@' || hash == std::string_view::npos || space == std::string_view::npos || space < hash)
        return std::nullopt;
    auto seq = number(rest.substr(1, hash - 1));
    auto offset = number(rest.substr(hash + 1, space - hash - 1));
    if (!seq || !offset || *offset == 0 || std::to_string(*offset).size() != space - hash - 1 ||
        std::to_string(*seq).size() != hash - 1)
        return std::nullopt;
    header.seq = *seq;
    header.offset = *offset;
    header.payload = rest.substr(space + 1);
    return header;
}

}  // namespace snorky::redis
