#include "snorky/services/cluster_query.hpp"

#include "snorky/core/log.hpp"
#include "snorky/core/node.hpp"

namespace snorky {

ClusterQuery::ClusterQuery(std::string name, std::chrono::milliseconds ttl, std::chrono::milliseconds timeout)
    : name_(std::move(name)),
      keyPrefix_("cluster-query:" + name_ + ":"),
      questionTopic_("cluster-query:" + name_),
      ttl_(ttl),
      timeout_(timeout) {}

ClusterQuery::~ClusterQuery() {
    if (!node_) return;
    node_->timers().cancel(heartbeatTimer_);
    for (auto& [id, pending] : pending_) node_->timers().cancel(pending.timer);
    node_->broker().unsubscribe(questionTopic_);
    node_->broker().unsubscribe(answerTopic_);
    node_->cluster().releaseKey(nodeKey(), node_->broker().nodeId());  // asked no more from now on
}

std::string ClusterQuery::nodeKey() const { return keyPrefix_ + node_->broker().nodeId(); }

void ClusterQuery::start(Node& node, Answer answer) {
    node_ = &node;
    answer_ = std::move(answer);
    answerTopic_ = nodeKey();
    node_->broker().subscribe(questionTopic_, this);
    node_->broker().subscribe(answerTopic_, this);
    heartbeat();
}

void ClusterQuery::heartbeat() {
    node_->cluster().refreshKey(nodeKey(), node_->broker().nodeId(), ttl_);
    heartbeatTimer_ = node_->timers().schedule(ttl_ / 3, [this] { heartbeat(); });
}

void ClusterQuery::ask(json::object question, Gathered done) {
    node_->cluster().listKeys(keyPrefix_, [this, question = std::move(question), done = std::move(done)](
                                              ClusterState::Result result, std::vector<std::string> keys) mutable {
        if (result != ClusterState::Result::Ok) return done(false, {});
        std::uint64_t id = nextId_++;
        Pending& pending = pending_[id];
        pending.awaited.insert(node_->broker().nodeId());  // even before its own key is written
        for (const std::string& key : keys) pending.awaited.insert(key.substr(keyPrefix_.size()));
        pending.done = std::move(done);
        pending.timer = node_->timers().schedule(timeout_, [this, id] { finish(id); });
        json::object message{{"id", id}, {"node", node_->broker().nodeId()}, {"question", std::move(question)}};
        // With the memory engine the answer arrives, and `pending` is gone, before this returns.
        node_->broker().publish(questionTopic_, Frame::envelope(name_, message), nullptr);
    });
}

void ClusterQuery::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin&) {
    boost::system::error_code ec;
    json::value envelope = json::parse(frame->payload(), ec);
    if (ec || !envelope.is_object()) return;
    const json::value* message = envelope.as_object().if_contains("message");
    if (!message || !message->is_object()) return;
    if (topic == questionTopic_) onQuestion(message->as_object());
    else if (topic == answerTopic_) onAnswer(message->as_object());
}

void ClusterQuery::onQuestion(const json::object& message) {
    const json::value* id = message.if_contains("id");
    const json::value* asker = message.if_contains("node");
    const json::value* question = message.if_contains("question");
    if (!id || !asker || !asker->is_string() || !question || !question->is_object()) return;
    json::object answer{{"id", *id}, {"node", node_->broker().nodeId()}, {"answer", answer_(question->as_object())}};
    node_->broker().publish(keyPrefix_ + std::string(asker->as_string()), Frame::envelope(name_, answer), nullptr);
}

void ClusterQuery::onAnswer(const json::object& message) {
    const json::value* id = message.if_contains("id");
    const json::value* from = message.if_contains("node");
    const json::value* answer = message.if_contains("answer");
    if (!id || !from || !from->is_string() || !answer) return;
    auto number = exactInteger(*id);
    if (!number) return;
    auto it = pending_.find(static_cast<std::uint64_t>(*number));
    if (it == pending_.end()) return;  // late: that gathering has ended
    Pending& pending = it->second;
    // A node that started after the listing answers too; nobody answers twice.
    if (!pending.answered.insert(std::string(from->as_string())).second) return;
    pending.answers.push_back(*answer);
    pending.awaited.erase(std::string(from->as_string()));
    if (pending.awaited.empty()) finish(it->first);
}

void ClusterQuery::finish(std::uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending pending = std::move(it->second);
    pending_.erase(it);
    node_->timers().cancel(pending.timer);
    if (!pending.awaited.empty())
        SNORKY_LOG(Info, name_ << ": " << pending.awaited.size()
                               << " node(s) did not answer a cluster query in time; answering without them");
    pending.done(true, std::move(pending.answers));
}

}  // namespace snorky
