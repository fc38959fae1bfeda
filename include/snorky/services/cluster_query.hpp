#pragma once
// ClusterQuery: asks every live node of a service the same question and
// gathers their answers, for backend commands that look at state spread over
// the nodes (PubSub's `channels` and `presence`).
//
// Each node keeps a key "cluster-query:<name>:<node id>" alive in the cluster
// state (refreshed every ttl / 3), so the asking node knows whom to wait for.
// A question goes to every node on one topic; each answers on the asking
// node's own topic. The gathering ends when every listed node answered or
// after `timeout`: a node killed without a goodbye stays listed until its key
// expires, and holds nobody anyway, so what arrived is the answer then.
//
// With the memory engine all of it happens within ask(): the node asks and
// answers itself.
//
// Threading: every call and callback with the node's service lock held.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/timers.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

class Node;

class ClusterQuery : private BrokerListener {
public:
    // This node's answer to a question.
    using Answer = std::function<json::value(const json::object& question)>;
    // Every node's answer (this node's included); ok is false when the
    // cluster state could not say which nodes live.
    using Gathered = std::function<void(bool ok, std::vector<json::value> answers)>;

    ClusterQuery(std::string name, std::chrono::milliseconds ttl, std::chrono::milliseconds timeout);
    ~ClusterQuery() override;
    ClusterQuery(const ClusterQuery&) = delete;
    ClusterQuery& operator=(const ClusterQuery&) = delete;

    // From the service's onAttach: subscribes, registers this node, answers from now on.
    void start(Node& node, Answer answer);
    void ask(json::object question, Gathered done);

private:
    struct Pending {
        std::set<std::string> awaited;   // listed node ids that have not answered yet
        std::set<std::string> answered;  // node ids that have
        std::vector<json::value> answers;
        Gathered done;
        Timers::Handle timer = 0;
    };
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    void onQuestion(const json::object& message);
    void onAnswer(const json::object& message);
    void finish(std::uint64_t id);
    void heartbeat();
    std::string nodeKey() const;

    std::string name_;
    std::string keyPrefix_;       // "cluster-query:<name>:" then a node id
    std::string questionTopic_;   // heard by every node
    std::string answerTopic_;     // this node's, set by start()
    std::chrono::milliseconds ttl_;
    std::chrono::milliseconds timeout_;
    Node* node_ = nullptr;
    Answer answer_;
    Timers::Handle heartbeatTimer_ = 0;
    std::uint64_t nextId_ = 1;
    std::map<std::uint64_t, Pending> pending_;
};

}  // namespace snorky
