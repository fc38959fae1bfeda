#include "snorky/engines/redis_broker.hpp"

#include "engines/redis_link.hpp"
#include "snorky/engines/redis_cluster_state.hpp"

namespace snorky {

Engine redisEngine(RedisBrokerOptions options) {
    auto link = std::make_shared<redis::Link>(std::move(options));
    return Engine{std::make_unique<RedisBroker>(link), std::make_unique<RedisClusterState>(link)};
}

RedisBroker::RedisBroker(std::shared_ptr<redis::Link> link) : link_(std::move(link)) {}

RedisBroker::~RedisBroker() { close(); }

void RedisBroker::attach(Node& node) { link_->attach(node); }

void RedisBroker::close() { link_->close(); }

json::object RedisBroker::health() const {
    return {{"engine", "redis"}, {"redis", link_->up() ? "connected" : "down"}};
}

bool RedisBroker::connected() const { return link_->up(); }

const std::string& RedisBroker::nodeId() const { return link_->nodeId(); }

void RedisBroker::publish(const std::string& topic, const FramePtr& frame, const Client* sender) {
    link_->publish(topic, frame, sender, nullptr, nullptr);
}

namespace {
// A publish's reply, as the Confirmed the service gave.
redis::Link::Completion onReplyConfirm(Broker::Confirmed confirmed) {
    if (!confirmed) return nullptr;
    return [confirmed = std::move(confirmed)](const redisReply* r) {
        bool taken = r && r->type != REDIS_REPLY_ERROR;
        return std::function<void()>([confirmed, taken] { confirmed(taken); });
    };
}
}  // namespace

void RedisBroker::publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) {
    link_->publish(topic, frame, nullptr, onReplyConfirm(confirmed), [&confirmed] { confirmed(false); });
}

void RedisBroker::catchUp(std::function<void()> done) { link_->catchUp(std::move(done)); }

void RedisBroker::publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                                     const HistoryOptions& history, Confirmed confirmed) {
    if (history.size == 0) return Broker::publishWithHistory(topic, frame, sender, history, std::move(confirmed));
    link_->publishHistory(topic, frame, sender, history, onReplyConfirm(confirmed), [&confirmed] {
        if (confirmed) confirmed(false);
    });
}

void RedisBroker::readHistory(const std::string& topic, const HistoryOptions& history,
                              std::optional<std::uint64_t> after, std::size_t limit, HistoryDone done) {
    if (history.size == 0) return done(std::nullopt);
    link_->readHistory(topic, history, after, limit, std::move(done));
}

void RedisBroker::subscribe(const std::string& topic, BrokerListener* listener) { link_->subscribe(topic, listener); }

void RedisBroker::unsubscribe(const std::string& topic) { link_->unsubscribe(topic); }

}  // namespace snorky
