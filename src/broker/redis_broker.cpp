#include "snorky/redis_broker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/redis_connection.hpp"
#include "snorky/log.hpp"
#include "snorky/node.hpp"

namespace snorky {

namespace {

using Steady = std::chrono::steady_clock;  // real time: the I/O thread waits on sockets, not on the Node's clock
using std::chrono::milliseconds;

// Origin tag in front of every payload on the wire ("<16 hex> "), so a node
// skips its own messages: it delivered them locally already.
constexpr std::size_t kNodeIdSize = 16;
constexpr std::size_t kSubscribeBatch = 512;                 // channels per SUBSCRIBE command
constexpr milliseconds kPingEvery{1000};                      // liveness probe while idle
constexpr milliseconds kAnswerTimeout{5000};                  // no reply this long: connection is dead

std::string randomNodeId() {
    std::random_device random;
    std::uint64_t value = (static_cast<std::uint64_t>(random()) << 32) ^ random();
    static const char* hex = "0123456789abcdef";
    std::string out(kNodeIdSize, '0');
    for (std::size_t i = 0; i < kNodeIdSize; ++i) out[i] = hex[(value >> (4 * (kNodeIdSize - 1 - i))) & 15];
    return out;
}

int parseInt(std::string_view text, const char* what, int min, int max) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        throw std::invalid_argument(std::string("invalid ") + what + " '" + std::string(text) + "'");
    return value;
}

}  // namespace

RedisBrokerOptions RedisBrokerOptions::fromUrl(std::string_view url) {
    const std::string example = " (expected redis://[:password@]host[:port][/db][?prefix=name:])";
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::invalid_argument("'" + std::string(url) + "' is not a URL" + example);
    const boost::urls::url_view& u = *parsed;
    if (u.scheme() != "redis")
        throw std::invalid_argument("unsupported scheme '" + std::string(u.scheme()) + "'" + example);
    RedisBrokerOptions o;
    if (u.host().empty()) throw std::invalid_argument("no host in '" + std::string(url) + "'" + example);
    o.host = u.host_address();
    if (u.has_port()) {
        try {
            o.port = parseInt(u.port(), "port", 1, 65535);
        } catch (const std::invalid_argument&) {
            throw std::invalid_argument("invalid port in '" + std::string(url) + "'" + example);
        }
    }
    if (u.has_userinfo()) {
        o.username = u.user();
        o.password = u.password();
    }
    std::string path = u.path();
    if (!path.empty() && path != "/") o.database = parseInt(std::string_view(path).substr(1), "database number", 0, 1 << 20);
    for (auto param : u.params()) {
        if (param.key == "prefix") {
            o.prefix = param.value;
        } else {
            throw std::invalid_argument("unknown URL parameter '" + std::string(param.key) + "'" + example);
        }
    }
    if (u.has_fragment()) throw std::invalid_argument("unexpected '#' in '" + std::string(url) + "'" + example);
    return o;
}

struct ScanState;

struct RedisBroker::Impl {
    struct Outgoing;
    struct Incoming {
        std::string topic;
        FramePtr frame;
        std::function<void()> task;  // set: a completion to run under the lock instead
    };
    // A cluster-state command queued by a service thread. `complete` runs on
    // the I/O thread with the reply (null: connection lost) and returns what
    // must run under the service lock (or nothing).
    using Completion = std::function<std::function<void()>(const redisReply* reply)>;
    struct Command {
        std::string resp;
        Completion complete;
    };
    struct Outgoing {
        std::string topic;
        FramePtr frame;
        Completion confirmed;  // publishConfirmed only
    };

    explicit Impl(RedisBrokerOptions o) : options(std::move(o)), nodeId(randomNodeId()) {
        wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakeFd < 0) throw std::runtime_error("eventfd failed");
    }
    ~Impl() {
        if (wakeFd >= 0) ::close(wakeFd);
    }

    std::string where() const { return options.host + ":" + std::to_string(options.port); }
    Metrics& metrics() { return node->metrics(); }

    void wake() {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wakeFd, &one, sizeof one);
    }
    void drainWake() {
        std::uint64_t count;
        while (::read(wakeFd, &count, sizeof count) > 0) {}
    }

    // --- connection set-up (I/O thread, or attach() before it starts) ---

    // AUTH / SELECT / PING, waiting for every answer (bounded by connectTimeout).
    bool handshake(redis::Connection& c, bool select, std::string& error) {
        // Shared with the reply handlers: a handshake given up on (timeout, broken
        // socket) leaves them waiting, and closing the connection later runs them.
        auto failure = std::make_shared<std::string>();
        auto check = [failure](const char* what) {
            return [failure, what](const redisReply* r) {
                if (!r && failure->empty()) *failure = std::string(what) + ": connection closed";
                if (r && r->type == REDIS_REPLY_ERROR && failure->empty()) *failure = std::string(what) + ": " + redis::describe(*r);
            };
        };
        if (!options.password.empty()) {
            if (options.username.empty()) c.command({"AUTH", options.password}, check("AUTH"));
            else c.command({"AUTH", options.username, options.password}, check("AUTH"));
        }
        std::string db = std::to_string(options.database);
        if (select && options.database != 0) c.command({"SELECT", db}, check("SELECT"));
        c.command({"PING"}, check("PING"));
        auto deadline = Steady::now() + options.connectTimeout;
        while (c.awaiting() > 0) {
            if (c.wantsWrite() && !c.flush(error)) return false;
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now()).count();
            if (left <= 0) {
                error = "no answer to the handshake";
                return false;
            }
            pollfd p{c.fd(), static_cast<short>(POLLIN | (c.wantsWrite() ? POLLOUT : 0)), 0};
            if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
                error = std::strerror(errno);
                return false;
            }
            if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
                if (!c.read([&failure](const redisReply& r) { *failure = "unexpected reply " + redis::describe(r); }, error))
                    return false;
            }
        }
        if (!failure->empty()) {
            error = *failure;
            return false;
        }
        return true;
    }

    bool connectAll(std::string& error) {
        if (!cmd.connect(options.host, options.port, options.connectTimeout, error) || !handshake(cmd, true, error) ||
            !sub.connect(options.host, options.port, options.connectTimeout, error) || !handshake(sub, false, error)) {
            cmd.close();
            sub.close();
            return false;
        }
        return true;
    }

    void onConnected() {
        lastAnswer = Steady::now();
        lastPing = lastAnswer;
        subscribed.clear();
        {
            std::lock_guard guard(mutex);
            dirty.clear();
            for (auto& [topic, listener] : listeners) dirty.insert(topic);
            up = true;
        }
        metrics().engineUp = 1;
        epoch.fetch_add(1);
        if (everConnected) {
            metrics().engineReconnects.fetch_add(1, std::memory_order_relaxed);
            auto outage = std::chrono::duration_cast<milliseconds>(Steady::now() - downSince).count();
            SNORKY_LOG(Info, "redis engine: reconnected to " << where() << " after " << outage
                                                             << " ms; re-subscribing (messages of the outage are lost)");
        } else {
            SNORKY_LOG(Info, "redis engine: connected to " << where() << " (node " << nodeId << ")");
        }
        everConnected = true;
        downLogged = false;
        wake();  // the loop sends the SUBSCRIBEs
    }

    void onConnectFailed(const std::string& error) {
        if (!downLogged) {
            metrics().engineDisconnects.fetch_add(1, std::memory_order_relaxed);
            SNORKY_LOG(Warn, "redis engine: cannot connect to " << where() << ": " << error
                                                                << "; serving local clients only, retrying");
            downLogged = true;
            downSince = Steady::now();
        } else if (Steady::now() - downSince >= std::chrono::seconds(10)) {
            std::uint64_t suppressed = 0;
            if (stillDownLog.allow(suppressed)) {
                auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Steady::now() - downSince).count();
                SNORKY_LOG(Warn, "redis engine: still down after " << seconds << " s: " << error);
            }
        }
    }

    void disconnect(const std::string& error) {
        cmd.close();  // waiting cluster-state commands complete as Unavailable
        sub.close();
        subscribed.clear();
        std::size_t lost;
        std::vector<Command> commands;
        std::vector<Outgoing> dropped;
        {
            std::lock_guard guard(mutex);
            up = false;
            lost = outbox.size();
            dropped.swap(outbox);
            outboxBytes = 0;
            commands.swap(commandBox);
        }
        for (Command& c : commands)
            if (auto task = c.complete(nullptr)) inbox.push_back({"", nullptr, std::move(task)});
        for (Outgoing& o : dropped)
            if (o.confirmed)
                if (auto task = o.confirmed(nullptr)) inbox.push_back({"", nullptr, std::move(task)});
        deliver();
        metrics().engineUp = 0;
        metrics().engineDropped.fetch_add(lost, std::memory_order_relaxed);
        metrics().engineDisconnects.fetch_add(1, std::memory_order_relaxed);
        SNORKY_LOG(Warn, "redis engine: connection to " << where() << " lost: " << error
                                                        << "; serving local clients only, reconnecting");
        downLogged = true;
        downSince = Steady::now();
    }

    // --- the I/O thread ---

    void run() {
        milliseconds backoff = options.reconnectMin;
        std::minstd_rand jitter(std::random_device{}());
        while (!stopRequested()) {
            if (!cmd.open()) {
                std::string error;
                if (connectAll(error)) {
                    backoff = options.reconnectMin;
                    onConnected();
                } else {
                    onConnectFailed(error);
                    // Jitter so that nodes restarted together do not retry in step.
                    waitWake(backoff + milliseconds(jitter() % (backoff.count() / 4 + 1)));
                    backoff = std::min(backoff * 2, options.reconnectMax);
                    continue;
                }
            }
            std::string error;
            if (!step(error)) disconnect(error);
        }
        cmd.close();
        sub.close();
    }

    bool stopRequested() {
        std::lock_guard guard(mutex);
        return stopping;
    }

    void waitWake(milliseconds timeout) {
        pollfd p{wakeFd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(timeout.count()));
        drainWake();
    }

    // One turn of the loop: send what the service threads queued, wait for
    // the sockets, read and deliver. False with `error` when the connection broke.
    bool step(std::string& error) {
        drainWake();
        std::vector<Outgoing> sending;
        std::vector<Command> commands;
        std::unordered_set<std::string> changed;
        {
            std::lock_guard guard(mutex);
            // A Redis that reads slowly keeps its backlog in the outbox, where
            // publish() sees it and drops past maxBacklogBytes.
            if (cmd.unwrittenBytes() < options.maxBacklogBytes) {
                sending.swap(outbox);
                outboxBytes = 0;
            }
            changed.swap(dirty);
            commands.swap(commandBox);
        }
        for (Command& c : commands) issue(c.resp, std::move(c.complete));
        for (const Outgoing& out : sending) {
            std::string channel = options.prefix + out.topic;
            resp.clear();
            redis::appendArrayHeader(resp, 3);
            redis::appendBulk(resp, "PUBLISH");
            redis::appendBulk(resp, channel);
            redis::appendBulk(resp, originTag, out.frame->payload());
            if (out.confirmed) {
                cmd.formatted(resp, [this, complete = out.confirmed](const redisReply* r) {
                    checkReply("PUBLISH", r);
                    if (auto task = complete(r)) inbox.push_back({"", nullptr, std::move(task)});
                });
            } else {
                cmd.formatted(resp, [this](const redisReply* r) { checkReply("PUBLISH", r); });
            }
        }
        metrics().enginePublished.fetch_add(sending.size(), std::memory_order_relaxed);
        sending.clear();
        syncSubscriptions(changed);

        auto now = Steady::now();
        if (now - lastPing >= kPingEvery) {
            lastPing = now;
            cmd.command({"PING"}, [this](const redisReply* r) { checkReply("PING", r); });
        }
        if (cmd.awaiting() > 0 && now - lastAnswer > kAnswerTimeout) {
            error = "no answer for " + std::to_string(kAnswerTimeout.count() / 1000) + " s";
            return false;
        }
        if (cmd.wantsWrite() && !cmd.flush(error)) return false;
        if (sub.wantsWrite() && !sub.flush(error)) return false;

        pollfd fds[3] = {
            {wakeFd, POLLIN, 0},
            {cmd.fd(), static_cast<short>(POLLIN | (cmd.wantsWrite() ? POLLOUT : 0)), 0},
            {sub.fd(), static_cast<short>(POLLIN | (sub.wantsWrite() ? POLLOUT : 0)), 0},
        };
        if (::poll(fds, 3, static_cast<int>(kPingEvery.count())) < 0) {
            if (errno == EINTR) return true;
            error = std::strerror(errno);
            return false;
        }
        if (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) {
            std::size_t before = cmd.awaiting();
            if (!cmd.read([](const redisReply&) {}, error)) return false;
            if (cmd.awaiting() < before) lastAnswer = Steady::now();
        }
        if ((fds[1].revents & POLLOUT) && !cmd.flush(error)) return false;
        if (fds[2].revents & (POLLIN | POLLERR | POLLHUP)) {
            if (!sub.read([this](const redisReply& r) { onPush(r); }, error)) return false;
        }
        if ((fds[2].revents & POLLOUT) && !sub.flush(error)) return false;
        deliver();
        return true;
    }

    void checkReply(const char* what, const redisReply* r) {
        if (!r) return;  // connection gone: reported once by disconnect()
        lastAnswer = Steady::now();
        if (r->type != REDIS_REPLY_ERROR) return;
        std::uint64_t suppressed = 0;
        if (replyErrorLog.allow(suppressed)) SNORKY_LOG(Warn, "redis engine: " << what << " failed: " << redis::describe(*r));
    }

    // Service thread (lock held): local delivery, then queue for Redis.
    // `refused` is told at once when the message cannot be queued.
    void publishWith(const std::string& topic, const FramePtr& frame, const Client* sender, Completion confirmed,
                     const Broker::Done* refused);

    // I/O thread: sends a command now; its completion's task joins the inbox.
    void issue(const std::string& commandResp, Completion complete) {
        cmd.formatted(commandResp, [this, complete = std::move(complete)](const redisReply* r) {
            checkReply("command", r);
            if (auto task = complete(r)) inbox.push_back({"", nullptr, std::move(task)});
        });
    }
    static std::string encode(const std::vector<std::string_view>& argv) {
        std::string out;
        redis::appendArrayHeader(out, argv.size());
        for (std::string_view a : argv) redis::appendBulk(out, a);
        return out;
    }
    // Service thread (lock held): queues a command for the I/O thread.
    void send(const std::vector<std::string_view>& argv, Completion complete) {
        bool wasEmpty = false, down = false;
        {
            std::lock_guard guard(mutex);
            down = !up || stopping;  // checked again here: the connection may have just dropped
            if (!down) {
                wasEmpty = commandBox.empty() && outbox.empty();
                commandBox.push_back({encode(argv), std::move(complete)});
            }
        }
        if (down) {
            // Answered at once (the caller holds the service lock), never left waiting for a reconnect.
            if (auto task = complete(nullptr)) task();
            return;
        }
        if (wasEmpty) wake();
    }
    // I/O thread: one SCAN step of listKeys; the next step is chained from its reply.
    void scan(std::shared_ptr<ScanState> state, const std::string& cursor);
    // One SCAN reply: collects the keys, chains the next step, or returns the final callback.
    std::function<void()> scanReply(const std::shared_ptr<ScanState>& state, const redisReply* r);

    // SUBSCRIBE / UNSUBSCRIBE so that Redis matches local interest.
    void syncSubscriptions(const std::unordered_set<std::string>& changed) {
        if (changed.empty()) return;
        std::vector<std::string> add, remove;
        {
            std::lock_guard guard(mutex);
            for (const std::string& topic : changed) {
                bool wanted = listeners.count(topic) > 0;
                bool have = subscribed.count(topic) > 0;
                if (wanted && !have) add.push_back(topic);
                if (!wanted && have) remove.push_back(topic);
            }
        }
        auto send = [this](const char* verb, const std::vector<std::string>& topics) {
            for (std::size_t i = 0; i < topics.size(); i += kSubscribeBatch) {
                std::size_t end = std::min(topics.size(), i + kSubscribeBatch);
                resp.clear();
                redis::appendArrayHeader(resp, 1 + end - i);
                redis::appendBulk(resp, verb);
                for (std::size_t j = i; j < end; ++j) redis::appendBulk(resp, options.prefix, topics[j]);
                sub.formatted(resp);
            }
        };
        send("SUBSCRIBE", add);
        send("UNSUBSCRIBE", remove);
        for (auto& t : add) subscribed.insert(t);
        for (auto& t : remove) subscribed.erase(t);
    }

    // A reply on the subscriber connection: messages, or (un)subscribe confirmations.
    void onPush(const redisReply& r) {
        if (r.type == REDIS_REPLY_ERROR) {
            checkReply("subscriber", &r);
            return;
        }
        if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || r.element[0]->type != REDIS_REPLY_STRING) return;
        std::string_view kind(r.element[0]->str, r.element[0]->len);
        if (kind != "message") return;  // subscribe / unsubscribe confirmations
        std::string_view channel(r.element[1]->str, r.element[1]->len);
        std::string_view payload(r.element[2]->str, r.element[2]->len);
        if (channel.substr(0, options.prefix.size()) != options.prefix) return;
        if (payload.size() < kNodeIdSize + 1 || payload[kNodeIdSize] != ' ') {
            std::uint64_t suppressed = 0;
            if (replyErrorLog.allow(suppressed))
                SNORKY_LOG(Warn, "redis engine: ignored a message without origin tag on " << channel);
            return;
        }
        if (payload.substr(0, kNodeIdSize) == nodeId) return;  // ours: delivered locally at publish
        inbox.push_back({std::string(channel.substr(options.prefix.size())), Frame::text(payload.substr(kNodeIdSize + 1)), nullptr});
    }

    // Hands what arrived to the listeners, under the service lock (once per batch).
    void deliver() {
        if (inbox.empty()) return;
        std::size_t messages = 0;
        for (const Incoming& in : inbox) messages += in.task ? 0 : 1;
        metrics().engineReceived.fetch_add(messages, std::memory_order_relaxed);
        {
            std::lock_guard service(node->serviceLock());
            for (const Incoming& in : inbox) {
                if (in.task) {
                    try {
                        in.task();
                    } catch (const std::exception& e) {
                        SNORKY_LOG(Error, "redis engine: cluster-state callback failed: " << e.what());
                    }
                    continue;
                }
                BrokerListener* listener = nullptr;
                {
                    std::lock_guard guard(mutex);
                    auto it = listeners.find(in.topic);
                    if (it != listeners.end()) listener = it->second;
                }
                if (!listener) continue;  // interest ended while the message was on its way
                try {
                    listener->onBrokerMessage(in.topic, in.frame, Origin{});  // another node's: no sender
                } catch (const std::exception& e) {
                    SNORKY_LOG(Error, "redis engine: delivery on " << in.topic << " failed: " << e.what());
                }
            }
        }
        inbox.clear();
    }

    RedisBrokerOptions options;
    const std::string nodeId;
    const std::string originTag = nodeId + " ";
    Node* node = nullptr;
    int wakeFd = -1;
    std::thread thread;

    // Shared between service threads and the I/O thread.
    mutable std::mutex mutex;
    std::unordered_map<std::string, BrokerListener*> listeners;  // local interest
    std::unordered_set<std::string> dirty;                       // topics whose interest changed
    std::vector<Outgoing> outbox;
    std::size_t outboxBytes = 0;
    std::vector<Command> commandBox;
    bool stopping = false;
    bool closed = false;
    std::atomic<bool> up{false};
    std::atomic<std::uint64_t> epoch{0};
    log::RateLimit backlogLog{1, std::chrono::seconds(10)};

    // I/O thread only.
    redis::Connection cmd, sub;
    std::unordered_set<std::string> subscribed;  // what Redis has for this node
    std::vector<Incoming> inbox;
    std::string resp;
    bool everConnected = false;
    bool downLogged = false;
    Steady::time_point downSince{}, lastPing{}, lastAnswer{};
    log::RateLimit stillDownLog{1, std::chrono::seconds(30)};
    log::RateLimit replyErrorLog{5, std::chrono::seconds(10)};
};

RedisBroker::RedisBroker(RedisBrokerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

RedisBroker::~RedisBroker() { close(); }

void RedisBroker::attach(Node& node) {
    impl_->node = &node;
    // First attempt right here, so a node whose Redis is up is connected when
    // it starts serving; then the I/O thread keeps it so.
    std::string error;
    if (impl_->connectAll(error)) impl_->onConnected();
    else impl_->onConnectFailed(error);
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void RedisBroker::close() {
    {
        std::lock_guard guard(impl_->mutex);
        if (impl_->closed) return;
        impl_->closed = true;
        impl_->stopping = true;
    }
    impl_->wake();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->up = false;
    if (impl_->node) impl_->metrics().engineUp = 0;
}

json::object RedisBroker::health() const {
    return {{"engine", "redis"}, {"redis", impl_->up ? "connected" : "down"}};
}

bool RedisBroker::connected() const { return impl_->up; }

std::uint64_t RedisBroker::connectionEpoch() const { return impl_->epoch.load(); }

// ---- cluster state ----

namespace {
// Sets the key again if it vanished, extends it if ours, leaves it otherwise.
constexpr const char* kRefreshScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end "
    "return 0";
// Deletes the key only while it holds our value.
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

std::string globEscape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}
}  // namespace

struct ScanState {
    std::string pattern;
    std::size_t strip;  // engine prefix length
    std::vector<std::string> keys;
    Broker::ListDone done;
};

void RedisBroker::Impl::scan(std::shared_ptr<ScanState> state, const std::string& cursor) {
    issue(encode({"SCAN", cursor, "MATCH", state->pattern, "COUNT", "1000"}),
          [this, state](const redisReply* r) { return scanReply(state, r); });
}

std::function<void()> RedisBroker::Impl::scanReply(const std::shared_ptr<ScanState>& state, const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return [state] { state->done(Broker::Result::Unavailable, {}); };
    for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
        const redisReply* key = r->element[1]->element[i];
        state->keys.emplace_back(key->str + state->strip, key->len - state->strip);
    }
    std::string next(r->element[0]->str, r->element[0]->len);
    if (next != "0") {
        scan(state, next);
        return nullptr;
    }
    // SCAN may return a key twice.
    std::sort(state->keys.begin(), state->keys.end());
    state->keys.erase(std::unique(state->keys.begin(), state->keys.end()), state->keys.end());
    return [state] { state->done(Broker::Result::Ok, std::move(state->keys)); };
}

void RedisBroker::claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) {
    if (!impl_->up) return done(Result::Unavailable);
    std::string full = impl_->options.prefix + key, ms = std::to_string(ttl.count());
    impl_->send({"SET", full, value, "NX", "PX", ms}, [done = std::move(done)](const redisReply* r) {
        Result result = !r || r->type == REDIS_REPLY_ERROR ? Result::Unavailable
                        : r->type == REDIS_REPLY_NIL       ? Result::Taken
                                                           : Result::Ok;
        return std::function<void()>([done, result] { done(result); });
    });
}

void RedisBroker::refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {
    if (!impl_->up) return;  // the next refresh after reconnecting sets it again
    std::string full = impl_->options.prefix + key, ms = std::to_string(ttl.count());
    impl_->send({"EVAL", kRefreshScript, "1", full, value, ms}, [](const redisReply*) { return std::function<void()>(); });
}

void RedisBroker::releaseKey(const std::string& key, const std::string& value) {
    if (!impl_->up) return;  // expires by itself
    std::string full = impl_->options.prefix + key;
    impl_->send({"EVAL", kReleaseScript, "1", full, value}, [](const redisReply*) { return std::function<void()>(); });
}

void RedisBroker::readKey(const std::string& key, ReadDone done) {
    if (!impl_->up) return done(Result::Unavailable, "");
    std::string full = impl_->options.prefix + key;
    impl_->send({"GET", full}, [done = std::move(done)](const redisReply* r) {
        if (!r || r->type == REDIS_REPLY_ERROR) return std::function<void()>([done] { done(Result::Unavailable, ""); });
        if (r->type != REDIS_REPLY_STRING) return std::function<void()>([done] { done(Result::Missing, ""); });
        std::string value(r->str, r->len);
        return std::function<void()>([done, value] { done(Result::Ok, value); });
    });
}

void RedisBroker::mapSet(const std::string& key, const std::string& field, const std::string& value,
                         std::chrono::milliseconds ttl, Done done) {
    if (!impl_->up) {
        if (done) done(Result::Unavailable);
        return;
    }
    std::string full = impl_->options.prefix + key, ms = std::to_string(ttl.count());
    // Two commands on one connection: applied in this order, so the second
    // reply means both are in Redis.
    impl_->send({"HSET", full, field, value}, [](const redisReply*) { return std::function<void()>(); });
    impl_->send({"PEXPIRE", full, ms}, [done = std::move(done)](const redisReply* r) {
        if (!done) return std::function<void()>();
        Result result = !r || r->type == REDIS_REPLY_ERROR ? Result::Unavailable : Result::Ok;
        return std::function<void()>([done, result] { done(result); });
    });
}

void RedisBroker::mapDelete(const std::string& key, const std::string& field) {
    if (!impl_->up) return;
    std::string full = impl_->options.prefix + key;
    impl_->send({"HDEL", full, field}, [](const redisReply*) { return std::function<void()>(); });
}

void RedisBroker::mapRead(const std::string& key, MapDone done) {
    if (!impl_->up) return done(Result::Unavailable, {});
    std::string full = impl_->options.prefix + key;
    impl_->send({"HGETALL", full}, [done = std::move(done)](const redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY) return std::function<void()>([done] { done(Result::Unavailable, {}); });
        std::map<std::string, std::string> fields;
        for (std::size_t i = 0; i + 1 < r->elements; i += 2)
            fields.emplace(std::string(r->element[i]->str, r->element[i]->len),
                           std::string(r->element[i + 1]->str, r->element[i + 1]->len));
        return std::function<void()>([done, fields = std::move(fields)]() mutable { done(Result::Ok, std::move(fields)); });
    });
}

void RedisBroker::listKeys(const std::string& prefix, ListDone done) {
    if (!impl_->up) return done(Result::Unavailable, {});
    auto state = std::make_shared<ScanState>();
    state->pattern = globEscape(impl_->options.prefix + prefix) + "*";
    state->strip = impl_->options.prefix.size();
    state->done = std::move(done);
    // The first step is queued like any command; the rest chain on the I/O thread.
    impl_->send({"SCAN", "0", "MATCH", state->pattern, "COUNT", "1000"},
                [impl = impl_.get(), state](const redisReply* r) { return impl->scanReply(state, r); });
}

const std::string& RedisBroker::nodeId() const { return impl_->nodeId; }

void RedisBroker::publish(const std::string& topic, const FramePtr& frame, const Client* sender) {
    impl_->publishWith(topic, frame, sender, nullptr, nullptr);
}

void RedisBroker::publishConfirmed(const std::string& topic, const FramePtr& frame, Done done) {
    impl_->publishWith(topic, frame, nullptr, [done](const redisReply* r) {
        Result result = r && r->type != REDIS_REPLY_ERROR ? Result::Ok : Result::Unavailable;
        return std::function<void()>([done, result] { done(result); });
    }, &done);
}

void RedisBroker::Impl::publishWith(const std::string& topic, const FramePtr& frame, const Client* sender,
                                    Completion confirmed, const Broker::Done* refused) {
    Impl& d = *this;
    BrokerListener* local = nullptr;
    {
        std::lock_guard guard(d.mutex);
        auto it = d.listeners.find(topic);
        if (it != d.listeners.end()) local = it->second;
    }
    // Local subscribers first and synchronously, as with MemoryBroker: they
    // keep being served while Redis is away.
    if (local) local->onBrokerMessage(topic, frame, Origin{sender, true});

    bool wasEmpty = false, refusedNow = false;
    {
        std::lock_guard guard(d.mutex);
        std::size_t size = topic.size() + frame->payload().size();
        if (!d.up || d.stopping || d.outboxBytes + size > d.options.maxBacklogBytes) {
            if (d.node) d.metrics().engineDropped.fetch_add(1, std::memory_order_relaxed);
            std::uint64_t suppressed = 0;
            if (d.up && d.backlogLog.allow(suppressed))
                SNORKY_LOG(Warn, "redis engine: backlog over " << d.options.maxBacklogBytes
                                                               << " bytes, dropping messages for other nodes");
            refusedNow = true;
        } else {
            wasEmpty = d.outbox.empty();
            d.outbox.push_back({topic, frame, std::move(confirmed)});
            d.outboxBytes += size;
        }
    }
    if (refusedNow) {
        if (refused) (*refused)(Broker::Result::Unavailable);  // outside our mutex: it may call the broker again
        return;
    }
    if (wasEmpty) d.wake();
}

void RedisBroker::subscribe(const std::string& topic, BrokerListener* listener) {
    bool added;
    {
        std::lock_guard guard(impl_->mutex);
        auto [it, inserted] = impl_->listeners.insert_or_assign(topic, listener);
        added = inserted;
        if (added) impl_->dirty.insert(topic);
    }
    if (added) impl_->wake();
}

void RedisBroker::unsubscribe(const std::string& topic) {
    bool removed;
    {
        std::lock_guard guard(impl_->mutex);
        removed = impl_->listeners.erase(topic) > 0;
        if (removed) impl_->dirty.insert(topic);
    }
    if (removed) impl_->wake();
}

}  // namespace snorky
