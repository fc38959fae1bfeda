#pragma once
// PubSub (protocol.md section 4): clients subscribe to channels (any JSON
// value) and receive every message published on them. Publishing goes through
// the node's Broker, so subscribers on every node receive it; each node fans
// out one shared frame to its local subscribers.
//
// Who may subscribe and publish is decided per channel by an ordered table of
// namespaces (docs/channel-authorization.md). Without a table every channel
// is public, which is the original behaviour.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/log.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/services/cluster_query.hpp"
#include "snorky/services/stream_receiver.hpp"
#include "snorky/services/subscription_tokens.hpp"

namespace snorky {

class PubSubService : public RpcService, private BrokerListener {
public:
    enum class SubscribePolicy { Public, Authenticated, Owner, Token, None };
    enum class PublishPolicy { None, Authenticated, Subscribers, Public };

    // One row of the namespace table; the first row whose prefix matches a
    // channel decides for it.
    struct Namespace {
        std::optional<std::string> prefix;  // unset: every channel, strings or not; set: strings starting with it
        SubscribePolicy subscribe = SubscribePolicy::Public;
        std::optional<PublishPolicy> publish;  // unset: Options::clientPublish (public or none)
        std::string ownerField;                // Owner with object identities: the field naming the owner
        std::size_t maxSubscribers = 0;        // per channel on this node; 0: no limit
        std::size_t maxMessageBytes = 0;       // a client's message, as JSON; 0: no limit
        // Message history (docs/history.md); unset: Options::history's.
        std::optional<std::size_t> historySize;
        std::optional<std::chrono::seconds> historyTtl;
        HistoryOptions history() const { return {historySize.value_or(0), historyTtl.value_or(std::chrono::seconds(300))}; }
    };

    struct Options {
        bool clientPublish = true;               // false: only the backend publishes
        std::size_t maxChannelsPerClient = 1000;  // subscriptions one client may hold
        std::vector<Namespace> namespaces;        // empty: one public namespace for every channel
        SubscriptionTokensPtr tokens;             // null: no subscription token is accepted
        // How long channels/presence wait for every node's answer (a node
        // killed a moment ago is still listed for up to 15 s).
        std::chrono::milliseconds clusterQueryTimeout{2000};
        HistoryOptions history;                   // size 0: no history (namespaces may say otherwise)
    };
    // The longest epoch a client may send back in `since`.
    static constexpr std::size_t kMaxEpochBytes = snorky::kMaxEpochBytes;

    explicit PubSubService(std::string name, Options options);
    explicit PubSubService(std::string name) : PubSubService(std::move(name), Options{}) {}
    ~PubSubService() override;

    // Publishes to every subscriber of the channel on every node. Call with
    // the service lock held. `confirmed` as for Broker::publishConfirmed.
    void publish(const json::value& channel, const json::value& message, Broker::Confirmed confirmed = nullptr);
    // The stream of `channel` (its last `limit` messages, or those after
    // `after`), for the backend's history command: {offset, epoch,
    // publications: [{offset, message}], complete}; `done` gets null when the
    // engine could not answer. Throws RpcError when the channel keeps no history.
    void history(const json::value& channel, std::optional<std::uint64_t> after, std::optional<std::size_t> limit,
                 std::function<void(std::optional<json::object>)> done);
    // Removes the subscribers of `channel` on every node, all of them or only
    // those whose identity is `identity` (when not null); each is sent
    // {"type": "unsubscribed", "channel", "reason"}.
    void kick(const json::value& channel, const json::value& identity, const std::string& reason);

    // Reload (SIGHUP): takes the namespace table, client_publish,
    // max_channels_per_client, the history settings and the token secret of
    // `fresh` (the options of a service built from the new config). The next
    // subscribe, publish and history request follow them; subscriptions
    // already held stay and keep receiving, even on a channel the new table
    // would refuse (the backend's unsubscribe ends those). Call with the
    // service lock held.
    void reconfigure(const Options& fresh);

    // The namespace deciding for `channel`, or null when none matches.
    const Namespace* namespaceFor(const json::value& channel) const;
    const SubscriptionTokensPtr& tokens() const { return options_.tokens; }
    // As built: the namespace table complete (never empty, publish always set).
    const Options& options() const { return options_; }

    std::size_t channelCount() const { return channels_.size(); }
    std::size_t subscriberCount(const json::value& channel) const;
    // This node's channels (whose string form starts with `prefix`, when
    // given) with their subscriber counts, and the identities subscribed to one.
    json::array channelList(const std::optional<std::string>& prefix) const;
    json::array identitiesOf(const json::value& channel) const;
    // The same over every node: counts added up, identities merged; sorted
    // by canonical JSON. ok is false when the engine is unavailable.
    using Gathered = std::function<void(bool ok, json::array result)>;
    void clusterChannelList(const std::optional<std::string>& prefix, Gathered done);
    void clusterIdentitiesOf(const json::value& channel, Gathered done);

protected:
    // Publish policy for clients; the backend is always allowed. Default: the
    // channel's namespace. Override for rules the table cannot say.
    virtual bool canPublish(const ClientPtr& client, const json::value& channel);

    void onDisconnect(const ClientPtr& client) override;
    void onAttach() override;

    json::object stats() const override;

private:
    // How a subscriber receives messages: as the original protocol, with
    // their offset (it asked for history), or held while its history read is
    // under way.
    struct Subscriber {
        ClientPtr client;
        StreamReceiver receiver;
    };
    using Subscribers = std::vector<Subscriber>;

    void subscribe(const RequestPtr& req);
    void recover(const RequestPtr& req, const std::string& key, const Namespace& ns);
    void finishRecovery(const RequestPtr& req, const std::string& key, std::uint64_t ticket,
                        const std::optional<SincePosition>& since, std::optional<HistoryRead> read);
    Subscriber* subscriberOf(const std::string& key, const Client* client);
    void unsubscribe(Request& req);
    void clientPublish(Request& req);
    void authorizeSubscription(const Namespace& ns, Request& req, const std::string& key);
    void checkToken(Request& req, const std::string& key);
    bool owns(const Namespace& ns, const json::value& identity, const json::value& channel) const;
    bool holds(const ClientPtr& client, const std::string& key) const;

    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    void onControl(const json::object& command);
    std::string topicFor(const std::string& key) const { return topicPrefix_ + key; }
    void unsubscribeKey(const ClientPtr& client, const std::string& key);
    void forget(const ClientPtr& client, const std::string& key);
    json::value answerClusterQuery(const json::object& question) const;

    Options options_;
    std::string topicPrefix_;
    std::string controlTopic_;  // kicks, heard by every node
    log::RateLimit refusalLog_;
    // canonical channel -> local subscribers (fan-out walks this vector)
    std::unordered_map<std::string, Subscribers> channels_;
    std::uint64_t tickets_ = 0;
    // client -> canonical channels it holds (for disconnect and the cap)
    std::unordered_map<const Client*, std::vector<std::string>> clientChannels_;
    ClusterQuery clusterQuery_;  // channels and presence across nodes
};

// Backend side of PubSub: publish (always allowed whatever the frontend
// policy), subscription tokens, and the server API (kick a subscriber, list
// channels, who is subscribed).
class PubSubBackend : public RpcService {
public:
    struct Options {
        std::chrono::seconds defaultLifetime{3600};  // authorizeSubscription without lifetime
        std::chrono::seconds maxLifetime{86400};     // the longest lifetime it grants
    };
    PubSubBackend(std::string name, PubSubService& pubsub, Options options);
    PubSubBackend(std::string name, PubSubService& pubsub) : PubSubBackend(std::move(name), pubsub, Options{}) {}

private:
    void publish(const RequestPtr& req);
    void history(const RequestPtr& req);
    json::value authorizeSubscription(Request& req);
    void unsubscribe(Request& req);
    void channels(const RequestPtr& req);
    void presence(const RequestPtr& req);
    std::chrono::seconds lifetimeOf(Request& req) const;

    PubSubService& pubsub_;
    Options options_;
};

}  // namespace snorky
