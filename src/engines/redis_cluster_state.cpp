#include "snorky/engines/redis_cluster_state.hpp"

#include <algorithm>
#include <string_view>

#include "engines/redis_link.hpp"

namespace snorky {

namespace {

using Completion = redis::Link::Completion;
using Result = ClusterState::Result;

// Sets the key again if it vanished, extends it if ours, leaves it otherwise.
constexpr const char* kRefreshScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end "
    "return 0";
// Deletes the key only while it holds our value.
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

bool failed(const redisReply* r) { return !r || r->type == REDIS_REPLY_ERROR; }

// `done` with what the reply (on the I/O thread) says, later under the service lock.
Completion answer(ClusterState::Done done, Result (*judge)(const redisReply*)) {
    return [done = std::move(done), judge](const redisReply* r) {
        Result result = judge(r);
        return std::function<void()>([done, result] { done(result); });
    };
}
Result written(const redisReply* r) { return failed(r) ? Result::Unavailable : Result::Ok; }
Result claimed(const redisReply* r) {
    return failed(r) ? Result::Unavailable : r->type == REDIS_REPLY_NIL ? Result::Taken : Result::Ok;
}

std::string globEscape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// listKeys: SCAN steps chained on the I/O thread, each from the previous reply.
struct Scan : std::enable_shared_from_this<Scan> {
    redis::Link* link;
    std::string pattern;
    std::size_t strip;  // engine prefix length
    std::vector<std::string> keys;
    ClusterState::ListDone done;

    Completion step() {
        return [self = shared_from_this()](const redisReply* r) { return self->onReply(r); };
    }
    // Collects the keys and chains the next step, or returns the final callback.
    std::function<void()> onReply(const redisReply* r) {
        auto self = shared_from_this();
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            return [self] { self->done(Result::Unavailable, {}); };
        for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
            const redisReply* key = r->element[1]->element[i];
            keys.emplace_back(key->str + strip, key->len - strip);
        }
        std::string next(r->element[0]->str, r->element[0]->len);
        if (next != "0") {
            link->issue({"SCAN", next, "MATCH", pattern, "COUNT", "1000"}, step());
            return nullptr;
        }
        // SCAN may return a key twice.
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        return [self] { self->done(Result::Ok, std::move(self->keys)); };
    }
};

}  // namespace

RedisClusterState::RedisClusterState(std::shared_ptr<redis::Link> link) : link_(std::move(link)) {}

RedisClusterState::~RedisClusterState() = default;

void RedisClusterState::attach(Node& node) { link_->attach(node); }

void RedisClusterState::close() { link_->close(); }

std::uint64_t RedisClusterState::connectionEpoch() const { return link_->epoch(); }

std::string RedisClusterState::key(const std::string& name) const { return link_->options().prefix + name; }

// While Redis is down, Link::send completes at once with no reply: Unavailable.

void RedisClusterState::claimKey(const std::string& name, const std::string& value, std::chrono::milliseconds ttl,
                                 Done done) {
    link_->send({"SET", key(name), value, "NX", "PX", std::to_string(ttl.count())}, answer(std::move(done), claimed));
}

void RedisClusterState::refreshKey(const std::string& name, const std::string& value, std::chrono::milliseconds ttl) {
    // Down: the next refresh after reconnecting sets it again.
    link_->send({"EVAL", kRefreshScript, "1", key(name), value, std::to_string(ttl.count())});
}

void RedisClusterState::releaseKey(const std::string& name, const std::string& value) {
    link_->send({"EVAL", kReleaseScript, "1", key(name), value});  // down: it expires by itself
}

void RedisClusterState::readKey(const std::string& name, ReadDone done) {
    link_->send({"GET", key(name)}, [done = std::move(done)](const redisReply* r) {
        if (failed(r)) return std::function<void()>([done] { done(Result::Unavailable, ""); });
        if (r->type != REDIS_REPLY_STRING) return std::function<void()>([done] { done(Result::Missing, ""); });
        std::string value(r->str, r->len);
        return std::function<void()>([done, value] { done(Result::Ok, value); });
    });
}

void RedisClusterState::listKeys(const std::string& prefix, ListDone done) {
    auto scan = std::make_shared<Scan>();
    scan->link = link_.get();
    scan->pattern = globEscape(key(prefix)) + "*";
    scan->strip = link_->options().prefix.size();
    scan->done = std::move(done);
    // The first step is queued like any command; the rest chain on the I/O thread.
    link_->send({"SCAN", "0", "MATCH", scan->pattern, "COUNT", "1000"}, scan->step());
}

void RedisClusterState::mapSet(const std::string& name, const std::string& field, const std::string& value,
                               std::chrono::milliseconds ttl, Done done) {
    std::string full = key(name);
    // Two commands on one connection: applied in this order, so the second
    // reply means both are in Redis.
    link_->send({"HSET", full, field, value});
    if (done) link_->send({"PEXPIRE", full, std::to_string(ttl.count())}, answer(std::move(done), written));
    else link_->send({"PEXPIRE", full, std::to_string(ttl.count())});
}

void RedisClusterState::mapDelete(const std::string& name, const std::string& field) {
    link_->send({"HDEL", key(name), field});
}

void RedisClusterState::mapRead(const std::string& name, MapDone done) {
    link_->send({"HGETALL", key(name)}, [done = std::move(done)](const redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY) return std::function<void()>([done] { done(Result::Unavailable, {}); });
        std::map<std::string, std::string> fields;
        for (std::size_t i = 0; i + 1 < r->elements; i += 2)
            fields.emplace(std::string(r->element[i]->str, r->element[i]->len),
                           std::string(r->element[i + 1]->str, r->element[i + 1]->len));
        return std::function<void()>([done, fields = std::move(fields)]() mutable { done(Result::Ok, std::move(fields)); });
    });
}

}  // namespace snorky
