#include "engines/redis_link.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "engines/redis_history.hpp"
#include "snorky/core/node.hpp"

namespace snorky::redis {

namespace {

using Steady = std::chrono::steady_clock;  // real time: the I/O thread waits on sockets, not on the Node's clock
using std::chrono::milliseconds;

// Origin tag in front of every payload on the wire ("<16 hex> "), so a node
// skips its own messages: it delivered them locally already.
constexpr std::size_t kNodeIdSize = 16;
constexpr std::size_t kSubscribeBatch = 512;  // channels per SUBSCRIBE command
constexpr milliseconds kPingEvery{1000};       // liveness probe while idle
constexpr milliseconds kAnswerTimeout{5000};   // no reply this long: connection is dead

std::string randomNodeId() {
    std::random_device random;
    std::uint64_t value = (static_cast<std::uint64_t>(random()) << 32) ^ random();
    static const char* hex = "0123456789abcdef";
    std::string out(kNodeIdSize, '0');
    for (std::size_t i = 0; i < kNodeIdSize; ++i) out[i] = hex[(value >> (4 * (kNodeIdSize - 1 - i))) & 15];
    return out;
}

std::string encode(const std::vector<std::string_view>& argv) {
    std::string out;
    appendArrayHeader(out, argv.size());
    for (std::string_view a : argv) appendBulk(out, a);
    return out;
}

}  // namespace

Link::Link(RedisBrokerOptions options) : options_(std::move(options)), nodeId_(randomNodeId()) {
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) throw std::runtime_error("eventfd failed");
}

Link::~Link() {
    close();
    if (wakeFd_ >= 0) ::close(wakeFd_);
}

Metrics& Link::metrics() { return node_->metrics(); }

void Link::attach(Node& node) {
    if (node_) return;  // the broker and the cluster state share this link
    node_ = &node;
    std::string error;
    if (connectAll(error)) onConnected();
    else onConnectFailed(error);
    thread_ = std::thread([this] { run(); });
}

void Link::close() {
    {
        std::lock_guard guard(mutex_);
        if (closed_) return;
        closed_ = true;
        stopping_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
    up_ = false;
    if (node_) metrics().engineUp = 0;
}

// ---- connection set-up (I/O thread, or attach() before it starts) ----

// AUTH / SELECT / PING, waiting for every answer (bounded by connectTimeout).
bool Link::handshake(Connection& c, bool select, std::string& error) {
    // Shared with the reply handlers: a handshake given up on (timeout, broken
    // socket) leaves them waiting, and closing the connection later runs them.
    auto failure = std::make_shared<std::string>();
    auto check = [failure](const char* what) {
        return [failure, what](const redisReply* r) {
            if (!r && failure->empty()) *failure = std::string(what) + ": connection closed";
            if (r && r->type == REDIS_REPLY_ERROR && failure->empty()) *failure = std::string(what) + ": " + describe(*r);
        };
    };
    if (!options_.password.empty()) {
        if (options_.username.empty()) c.command({"AUTH", options_.password}, check("AUTH"));
        else c.command({"AUTH", options_.username, options_.password}, check("AUTH"));
    }
    std::string db = std::to_string(options_.database);
    if (select && options_.database != 0) c.command({"SELECT", db}, check("SELECT"));
    // The history script, on the command connection. Not fatal: without it
    // (an ACL without EVALSHA, say) history publishes are plain ones.
    auto loaded = std::make_shared<std::string>();
    auto loadError = std::make_shared<std::string>();
    if (select)
        c.command({"SCRIPT", "LOAD", kHistoryScript}, [loaded, loadError](const redisReply* r) {
            if (r && r->type == REDIS_REPLY_STRING) *loaded = std::string(r->str, r->len);
            else if (r) *loadError = describe(*r);
        });
    c.command({"PING"}, check("PING"));
    auto deadline = Steady::now() + options_.connectTimeout;
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
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) &&
            !c.read([&failure](const redisReply& r) { *failure = "unexpected reply " + describe(r); }, error))
            return false;
    }
    if (!failure->empty()) {
        error = *failure;
        return false;
    }
    if (select) {
        scriptSha_ = *loaded;
        scripted_ = !loaded->empty();
        if (loaded->empty())
            SNORKY_LOG(Warn, "redis engine: SCRIPT LOAD refused (" << *loadError
                                                                  << "): history is not kept, messages have no offsets");
    }
    return true;
}

bool Link::connectAll(std::string& error) {
    if (!cmd_.connect(options_.host, options_.port, options_.connectTimeout, error) || !handshake(cmd_, true, error) ||
        !sub_.connect(options_.host, options_.port, options_.connectTimeout, error) || !handshake(sub_, false, error)) {
        cmd_.close();
        sub_.close();
        return false;
    }
    return true;
}

void Link::onConnected() {
    lastAnswer_ = Steady::now();
    lastPing_ = lastAnswer_;
    subscribed_.clear();
    {
        std::lock_guard guard(mutex_);
        dirty_.clear();
        for (auto& [topic, listener] : listeners_) dirty_.insert(topic);
        up_ = true;
    }
    metrics().engineUp = 1;
    epoch_.fetch_add(1);
    if (everConnected_) {
        metrics().engineReconnects.fetch_add(1, std::memory_order_relaxed);
        auto outage = std::chrono::duration_cast<milliseconds>(Steady::now() - downSince_).count();
        SNORKY_LOG(Info, "redis engine: reconnected to " << where() << " after " << outage
                                                         << " ms; re-subscribing (messages of the outage are lost)");
    } else {
        SNORKY_LOG(Info, "redis engine: connected to " << where() << " (node " << nodeId_ << ")");
    }
    everConnected_ = true;
    downLogged_ = false;
    wake();  // the loop sends the SUBSCRIBEs
}

void Link::onConnectFailed(const std::string& error) {
    if (!downLogged_) {
        metrics().engineDisconnects.fetch_add(1, std::memory_order_relaxed);
        SNORKY_LOG(Warn, "redis engine: cannot connect to " << where() << ": " << error
                                                            << "; serving local clients only, retrying");
        downLogged_ = true;
        downSince_ = Steady::now();
    } else if (Steady::now() - downSince_ >= std::chrono::seconds(10)) {
        std::uint64_t suppressed = 0;
        if (stillDownLog_.allow(suppressed)) {
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Steady::now() - downSince_).count();
            SNORKY_LOG(Warn, "redis engine: still down after " << seconds << " s: " << error);
        }
    }
}

void Link::disconnect(const std::string& error) {
    cmd_.close();  // waiting cluster-state commands complete as Unavailable
    sub_.close();
    subscribed_.clear();
    std::vector<Command> commands;
    std::vector<Outgoing> dropped;
    std::vector<Read> reads;
    std::vector<std::function<void()>> catchUps;
    {
        std::lock_guard guard(mutex_);
        up_ = false;
        dropped.swap(outbox_);
        outboxBytes_ = 0;
        commands.swap(commandBox_);
        reads.swap(reads_);
        catchUps.swap(catchUps_);
    }
    for (Command& c : commands) finish(c.complete, nullptr);
    for (Outgoing& o : dropped)
        if (o.confirmed) finish(o.confirmed, nullptr);
    // History: what waited for a SUBSCRIBE or a PING will not get it.
    unconfirmed_.clear();
    auto gated = std::move(gated_);
    gated_.clear();
    for (auto& [topic, actions] : gated)
        for (auto& action : actions) action(false);
    for (Barrier& b : barriers_) inbox_.push_back({"", nullptr, [then = std::move(b.then)] { then(false); }});
    barriers_.clear();
    for (Read& r : reads) inbox_.push_back({"", nullptr, [done = r.done] { done(std::nullopt); }});
    for (auto& done : catchUps) inbox_.push_back({"", nullptr, std::move(done)});
    own_.clear();
    scriptLost_ = false;
    deliver();
    metrics().engineUp = 0;
    metrics().engineDropped.fetch_add(dropped.size(), std::memory_order_relaxed);
    metrics().engineDisconnects.fetch_add(1, std::memory_order_relaxed);
    SNORKY_LOG(Warn, "redis engine: connection to " << where() << " lost: " << error
                                                    << "; serving local clients only, reconnecting");
    downLogged_ = true;
    downSince_ = Steady::now();
}

// ---- the I/O thread ----

void Link::run() {
    milliseconds backoff = options_.reconnectMin;
    std::minstd_rand jitter(std::random_device{}());
    while (!stopRequested()) {
        if (!cmd_.open()) {
            std::string error;
            if (connectAll(error)) {
                backoff = options_.reconnectMin;
                onConnected();
            } else {
                onConnectFailed(error);
                // Jitter so that nodes restarted together do not retry in step.
                waitWake(backoff + milliseconds(jitter() % (backoff.count() / 4 + 1)));
                backoff = std::min(backoff * 2, options_.reconnectMax);
                continue;
            }
        }
        std::string error;
        if (!step(error)) disconnect(error);
    }
    cmd_.close();
    sub_.close();
}

bool Link::stopRequested() {
    std::lock_guard guard(mutex_);
    return stopping_;
}

void Link::wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeFd_, &one, sizeof one);
}

void Link::drainWake() {
    std::uint64_t count;
    while (::read(wakeFd_, &count, sizeof count) > 0) {}
}

void Link::waitWake(milliseconds timeout) {
    pollfd p{wakeFd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(timeout.count()));
    drainWake();
}

// One turn of the loop: send what the service threads queued, wait for
// the sockets, read and deliver. False with `error` when the connection broke.
bool Link::step(std::string& error) {
    drainWake();
    sendQueued();
    if (!keepAlive(error) || !pollSockets(error)) return false;
    deliver();
    if (scriptLost_) {
        error = "the history script is gone from Redis (SCRIPT FLUSH?)";
        return false;
    }
    return true;
}

void Link::sendQueued() {
    std::vector<Outgoing> sending;
    std::vector<Command> commands;
    std::vector<Read> reads;
    std::vector<std::function<void()>> catchUps;
    std::unordered_set<std::string> changed;
    {
        std::lock_guard guard(mutex_);
        // A Redis that reads slowly keeps its backlog in the outbox, where
        // publish() sees it and drops past maxBacklogBytes.
        if (cmd_.unwrittenBytes() < options_.maxBacklogBytes) {
            sending.swap(outbox_);
            outboxBytes_ = 0;
        }
        changed.swap(dirty_);
        commands.swap(commandBox_);
        reads.swap(reads_);
        catchUps.swap(catchUps_);
    }
    // Subscriptions first: history scripts and reads on a topic whose
    // SUBSCRIBE goes out now wait for its confirmation (whenSubscribed).
    syncSubscriptions(changed);
    for (Command& c : commands) issueResp(c.resp, std::move(c.complete));
    sendPublishes(sending);
    for (const Read& r : reads) sendRead(r);
    if (!catchUps.empty()) {
        barriers_.push_back({[catchUps = std::move(catchUps)](bool) {
            for (const auto& done : catchUps) done();
        }});
        sub_.command({"PING"});
    }
}

void Link::sendPublishes(const std::vector<Outgoing>& sending) {
    for (const Outgoing& out : sending) {
        if (out.history.size > 0) {
            sendScripted(out);
            continue;
        }
        resp_.clear();
        appendArrayHeader(resp_, 3);
        appendBulk(resp_, "PUBLISH");
        appendBulk(resp_, options_.prefix, out.topic);
        appendBulk(resp_, originTag_, out.frame->payload());
        cmd_.formatted(resp_, [this, confirmed = out.confirmed](const redisReply* r) {
            checkReply("PUBLISH", r);
            if (confirmed) finish(confirmed, r);
        });
    }
    metrics().enginePublished.fetch_add(sending.size(), std::memory_order_relaxed);
}

// A PING while idle; a connection that stopped answering is dead.
bool Link::keepAlive(std::string& error) {
    auto now = Steady::now();
    if (now - lastPing_ >= kPingEvery) {
        lastPing_ = now;
        cmd_.command({"PING"}, [this](const redisReply* r) { checkReply("PING", r); });
    }
    if (cmd_.awaiting() > 0 && now - lastAnswer_ > kAnswerTimeout) {
        error = "no answer for " + std::to_string(kAnswerTimeout.count() / 1000) + " s";
        return false;
    }
    return true;
}

bool Link::pollSockets(std::string& error) {
    if (cmd_.wantsWrite() && !cmd_.flush(error)) return false;
    if (sub_.wantsWrite() && !sub_.flush(error)) return false;
    pollfd fds[3] = {
        {wakeFd_, POLLIN, 0},
        {cmd_.fd(), static_cast<short>(POLLIN | (cmd_.wantsWrite() ? POLLOUT : 0)), 0},
        {sub_.fd(), static_cast<short>(POLLIN | (sub_.wantsWrite() ? POLLOUT : 0)), 0},
    };
    if (::poll(fds, 3, static_cast<int>(kPingEvery.count())) < 0) {
        if (errno == EINTR) return true;
        error = std::strerror(errno);
        return false;
    }
    if (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) {
        std::size_t before = cmd_.awaiting();
        if (!cmd_.read([](const redisReply&) {}, error)) return false;
        if (cmd_.awaiting() < before) lastAnswer_ = Steady::now();
    }
    if ((fds[1].revents & POLLOUT) && !cmd_.flush(error)) return false;
    if ((fds[2].revents & (POLLIN | POLLERR | POLLHUP)) && !sub_.read([this](const redisReply& r) { onPush(r); }, error))
        return false;
    return !(fds[2].revents & POLLOUT) || sub_.flush(error);
}

void Link::checkReply(const char* what, const redisReply* r) {
    if (!r) return;  // connection gone: reported once by disconnect()
    lastAnswer_ = Steady::now();
    if (r->type != REDIS_REPLY_ERROR) return;
    std::uint64_t suppressed = 0;
    if (replyErrorLog_.allow(suppressed)) SNORKY_LOG(Warn, "redis engine: " << what << " failed: " << describe(*r));
}

void Link::finish(const Completion& complete, const redisReply* r) {
    if (auto task = complete(r)) inbox_.push_back({"", nullptr, std::move(task)});
}

// ---- commands ----

void Link::issueResp(const std::string& resp, Completion complete) {
    cmd_.formatted(resp, [this, complete = std::move(complete)](const redisReply* r) {
        checkReply("command", r);
        finish(complete, r);
    });
}

void Link::issue(const std::vector<std::string_view>& argv, Completion complete) {
    issueResp(encode(argv), std::move(complete));
}

void Link::send(const std::vector<std::string_view>& argv, Completion complete) {
    bool wasEmpty = false;
    {
        std::unique_lock guard(mutex_);
        if (!up_ || stopping_) {  // checked again here: the connection may have just dropped
            guard.unlock();
            // Answered at once (the caller holds the service lock), never left waiting for a reconnect.
            if (auto task = complete(nullptr)) task();
            return;
        }
        wasEmpty = commandBox_.empty() && outbox_.empty();
        commandBox_.push_back({encode(argv), std::move(complete)});
    }
    if (wasEmpty) wake();
}

void Link::send(const std::vector<std::string_view>& argv) {
    send(argv, [](const redisReply*) { return std::function<void()>(); });
}

// ---- pub/sub ----

void Link::publish(const std::string& topic, const FramePtr& frame, const Client* sender, Completion confirmed,
                   const std::function<void()>& refused) {
    BrokerListener* local = nullptr;
    {
        std::lock_guard guard(mutex_);
        auto it = listeners_.find(topic);
        if (it != listeners_.end()) local = it->second;
    }
    // Local subscribers first and synchronously, as with MemoryBroker: they
    // keep being served while Redis is away.
    if (local) local->onBrokerMessage(topic, frame, Origin{sender, true});

    bool wasEmpty = false, refusedNow = false;
    {
        std::lock_guard guard(mutex_);
        std::size_t size = topic.size() + frame->payload().size();
        if (!up_ || stopping_ || outboxBytes_ + size > options_.maxBacklogBytes) {
            if (node_) metrics().engineDropped.fetch_add(1, std::memory_order_relaxed);
            std::uint64_t suppressed = 0;
            if (up_ && backlogLog_.allow(suppressed))
                SNORKY_LOG(Warn, "redis engine: backlog over " << options_.maxBacklogBytes
                                                               << " bytes, dropping messages for other nodes");
            refusedNow = true;
        } else {
            wasEmpty = outbox_.empty();
            outbox_.push_back({topic, frame, std::move(confirmed)});
            outboxBytes_ += size;
        }
    }
    if (refusedNow) {
        if (refused) refused();  // outside our mutex: it may call the engine again
        return;
    }
    if (wasEmpty) wake();
}

void Link::subscribe(const std::string& topic, BrokerListener* listener) {
    bool added;
    {
        std::lock_guard guard(mutex_);
        added = listeners_.insert_or_assign(topic, listener).second;
        if (added) dirty_.insert(topic);
    }
    if (added) wake();
}

void Link::unsubscribe(const std::string& topic) {
    bool removed;
    {
        std::lock_guard guard(mutex_);
        removed = listeners_.erase(topic) > 0;
        if (removed) dirty_.insert(topic);
    }
    if (removed) wake();
}

// SUBSCRIBE / UNSUBSCRIBE so that Redis matches local interest (I/O thread).
void Link::syncSubscriptions(const std::unordered_set<std::string>& changed) {
    if (changed.empty()) return;
    std::vector<std::string> add, remove;
    {
        std::lock_guard guard(mutex_);
        for (const std::string& topic : changed) {
            bool wanted = listeners_.count(topic) > 0;
            bool have = subscribed_.count(topic) > 0;
            if (wanted && !have) add.push_back(topic);
            if (!wanted && have) remove.push_back(topic);
        }
    }
    sendSubscriptions("SUBSCRIBE", add);
    sendSubscriptions("UNSUBSCRIBE", remove);
    for (auto& t : add) {
        subscribed_.insert(t);
        ++unconfirmed_[t];
    }
    for (auto& t : remove) {
        subscribed_.erase(t);
        own_.erase(t);  // echoes still on their way find no listener
    }
}

void Link::sendSubscriptions(const char* verb, const std::vector<std::string>& topics) {
    for (std::size_t i = 0; i < topics.size(); i += kSubscribeBatch) {
        std::size_t end = std::min(topics.size(), i + kSubscribeBatch);
        resp_.clear();
        appendArrayHeader(resp_, 1 + end - i);
        appendBulk(resp_, verb);
        for (std::size_t j = i; j < end; ++j) appendBulk(resp_, options_.prefix, topics[j]);
        sub_.formatted(resp_);
    }
}

// A reply on the subscriber connection: messages, or (un)subscribe confirmations.
void Link::onPush(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) return checkReply("subscriber", &r);
    bool pong = r.type == REDIS_REPLY_STATUS && std::string_view(r.str, r.len) == "PONG";  // no subscription left
    if (pong || (r.type == REDIS_REPLY_ARRAY && r.elements == 2 && r.element[0]->type == REDIS_REPLY_STRING &&
                 std::string_view(r.element[0]->str, r.element[0]->len) == "pong")) {
        // A barrier (a history read's answer, catchUp) may go now.
        if (barriers_.empty()) return;
        Barrier b = std::move(barriers_.front());
        barriers_.pop_front();
        inbox_.push_back({"", nullptr, [then = std::move(b.then)] { then(true); }});
        return;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 2 || r.element[0]->type != REDIS_REPLY_STRING ||
        r.element[1]->type != REDIS_REPLY_STRING)
        return;
    std::string_view kind(r.element[0]->str, r.element[0]->len);
    if (r.elements != 3) return;
    std::string_view channel(r.element[1]->str, r.element[1]->len);
    if (channel.substr(0, options_.prefix.size()) != options_.prefix) return;
    std::string topic(channel.substr(options_.prefix.size()));
    if (kind == "subscribe") return onSubscribed(topic);
    if (kind != "message" || r.element[2]->type != REDIS_REPLY_STRING) return;  // unsubscribe confirmations
    auto header = parseChannelHeader(std::string_view(r.element[2]->str, r.element[2]->len), kNodeIdSize);
    if (!header) {
        std::uint64_t suppressed = 0;
        if (replyErrorLog_.allow(suppressed))
            SNORKY_LOG(Warn, "redis engine: ignored a message without origin tag on " << channel);
        return;
    }
    bool ours = header->node == nodeId_;
    if (ours && header->offset == 0) return;  // a plain publish of ours: delivered locally at publish
    if (!ours) return inbox_.push_back({std::move(topic), Frame::text(header->payload), nullptr, Origin{nullptr, false, header->offset}});
    // Ours, numbered: the frame and sender it was sent with, when still known.
    Origin origin{nullptr, true, header->offset};
    FramePtr frame;
    auto own = own_.find(topic);
    if (own != own_.end()) {
        auto& queue = own->second;
        while (!queue.empty() && queue.front().seq < header->seq) queue.pop_front();  // sent before a SUBSCRIBE took
        if (!queue.empty() && queue.front().seq == header->seq) {
            origin.sender = queue.front().sender;
            frame = std::move(queue.front().frame);
            queue.pop_front();
        }
        if (queue.empty()) own_.erase(own);
    }
    if (!frame) frame = Frame::text(header->payload);
    inbox_.push_back({std::move(topic), std::move(frame), nullptr, origin});
}

// Hands what arrived to the listeners, under the service lock (once per batch).
void Link::deliver() {
    if (inbox_.empty()) return;
    std::size_t messages = 0;
    for (const Incoming& in : inbox_) messages += in.task ? 0 : 1;
    metrics().engineReceived.fetch_add(messages, std::memory_order_relaxed);
    {
        std::lock_guard service(node_->serviceLock());
        for (const Incoming& in : inbox_) deliverOne(in);
    }
    inbox_.clear();
}

void Link::deliverOne(const Incoming& in) {
    if (in.task) {
        try {
            in.task();
        } catch (const std::exception& e) {
            SNORKY_LOG(Error, "redis engine: cluster-state callback failed: " << e.what());
        }
        return;
    }
    BrokerListener* listener = nullptr;
    {
        std::lock_guard guard(mutex_);
        auto it = listeners_.find(in.topic);
        if (it != listeners_.end()) listener = it->second;
    }
    if (!listener) return;  // interest ended while the message was on its way
    try {
        listener->onBrokerMessage(in.topic, in.frame, in.origin);
    } catch (const std::exception& e) {
        SNORKY_LOG(Error, "redis engine: delivery on " << in.topic << " failed: " << e.what());
    }
}

// ---- history (redis_history.hpp) ----

void Link::publishHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                          const HistoryOptions& history, Completion confirmed, const std::function<void()>& refused) {
    if (!scripted_) return publish(topic, frame, sender, std::move(confirmed), refused);
    bool wasEmpty = false, refusedNow = false;
    BrokerListener* local = nullptr;
    {
        std::lock_guard guard(mutex_);
        std::size_t size = topic.size() + frame->payload().size();
        if (!up_ || stopping_ || outboxBytes_ + size > options_.maxBacklogBytes) {
            refusedNow = true;
            auto it = listeners_.find(topic);
            if (it != listeners_.end()) local = it->second;
        } else {
            wasEmpty = outbox_.empty();
            outbox_.push_back({topic, frame, std::move(confirmed), sender, history});
            outboxBytes_ += size;
        }
    }
    if (refusedNow) {
        // No offset without Redis: local subscribers are served (as with a
        // plain publish), the stream and the other nodes lose it.
        if (node_) metrics().engineDropped.fetch_add(1, std::memory_order_relaxed);
        if (local) local->onBrokerMessage(topic, frame, Origin{sender, true, 0});
        if (refused) refused();
        return;
    }
    if (wasEmpty) wake();
}

void Link::catchUp(std::function<void()> done) {
    {
        std::lock_guard guard(mutex_);
        if (up_ && !stopping_) {
            bool wasEmpty = catchUps_.empty();
            catchUps_.push_back(std::move(done));
            if (wasEmpty) wake();
            return;
        }
    }
    done();  // nothing can be in flight from Redis; the caller holds the service lock
}

void Link::readHistory(const std::string& topic, const HistoryOptions& history, std::optional<std::uint64_t> after,
                       std::size_t limit, Broker::HistoryDone done) {
    {
        std::lock_guard guard(mutex_);
        if (up_ && !stopping_ && scripted_) {
            bool wasEmpty = reads_.empty() && commandBox_.empty() && outbox_.empty();
            reads_.push_back({topic, history, after, limit, std::move(done)});
            if (wasEmpty) wake();
            return;
        }
    }
    done(std::nullopt);  // the caller holds the service lock
}

// Runs `action` now, or once Redis confirmed every SUBSCRIBE sent for the
// topic (in order with what already waits); with false when the connection
// is lost first.
void Link::whenSubscribed(const std::string& topic, std::function<void(bool)> action) {
    auto gated = gated_.find(topic);
    if (gated == gated_.end() && unconfirmed_.count(topic) == 0) return action(true);
    gated_[topic].push_back(std::move(action));
}

void Link::onSubscribed(const std::string& topic) {
    auto pending = unconfirmed_.find(topic);
    if (pending == unconfirmed_.end() || --pending->second > 0) return;
    unconfirmed_.erase(pending);
    auto gated = gated_.find(topic);
    if (gated == gated_.end()) return;
    auto actions = std::move(gated->second);
    gated_.erase(gated);
    for (auto& action : actions) action(true);
}

std::string Link::newEpoch() { return nodeId_.substr(0, 12) + std::to_string(++epochCount_); }

void Link::sendScripted(const Outgoing& out) {
    whenSubscribed(out.topic, [this, out](bool send) {
        if (!send) {
            metrics().engineDropped.fetch_add(1, std::memory_order_relaxed);
            if (out.confirmed) finish(out.confirmed, nullptr);
            return;
        }
        std::uint64_t seq = ++ownSeq_;
        // Listened to here: the echo will come (the SUBSCRIBE is confirmed), matched by seq.
        if (subscribed_.count(out.topic)) own_[out.topic].push_back({seq, out.sender, out.frame});
        std::string header = nodeId_ + "@" + std::to_string(seq) + "#";
        std::string ttl = std::to_string(std::chrono::duration_cast<milliseconds>(out.history.ttl).count());
        std::string size = std::to_string(out.history.size);
        std::string epoch = newEpoch();
        std::string channel = options_.prefix + out.topic;
        issue({"EVALSHA", scriptSha_, "2", historyMetaKey(options_.prefix, out.topic),
               historyStreamKey(options_.prefix, out.topic), "p", ttl, epoch, size, channel, header,
               out.frame->payload()},
              [this, confirmed = out.confirmed](const redisReply* r) {
                  if (r && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).substr(0, 8) == "NOSCRIPT")
                      scriptLost_ = true;
                  return confirmed ? confirmed(r) : std::function<void()>();
              });
        metrics().enginePublished.fetch_add(1, std::memory_order_relaxed);
    });
}

void Link::sendRead(const Read& read) {
    whenSubscribed(read.topic, [this, read](bool send) {
        if (!send) {
            inbox_.push_back({"", nullptr, [done = read.done] { done(std::nullopt); }});
            return;
        }
        std::string ttl = std::to_string(std::chrono::duration_cast<milliseconds>(read.history.ttl).count());
        std::string epoch = newEpoch();
        std::string after = read.after ? std::to_string(*read.after) : std::string();
        std::string limit = std::to_string(read.limit);
        cmd_.command({"EVALSHA", scriptSha_, "2", historyMetaKey(options_.prefix, read.topic),
                      historyStreamKey(options_.prefix, read.topic), "r", ttl, epoch, after, limit},
                     [this, read](const redisReply* r) { onRead(read, r); });
    });
}

void Link::onRead(const Read& read, const redisReply* r) {
    checkReply("history read", r);
    std::optional<HistoryRead> result;
    if (r && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).substr(0, 8) == "NOSCRIPT")
        scriptLost_ = true;
    else if (r && r->type != REDIS_REPLY_ERROR) {
        result = parseHistoryRead(*r, !read.after);
        if (!result) SNORKY_LOG(Warn, "redis engine: unexpected history read reply " << describe(*r));
    }
    // Listened to here: messages the read counted may still be on their way
    // on the subscriber connection; a PING behind them tells when they are in.
    if (result && subscribed_.count(read.topic)) {
        barriers_.push_back({[done = read.done, result = std::move(result)](bool arrived) {
            done(arrived ? result : std::nullopt);
        }});
        sub_.command({"PING"});
        return;
    }
    inbox_.push_back({"", nullptr, [done = read.done, result = std::move(result)] { done(result); }});
}

}  // namespace snorky::redis
