#pragma once
// DataSync (protocol.md section 7): live views of the application's database.
// The application authorizes a subscription through DataSyncBackend (getting
// a token) before it queries its database, hands data + token to the browser,
// and reports every committed change as a delta. The browser acquires the
// token over WebSocket and from then on receives {"type": "delta", "delta"}
// for every change its view's items match; deltas that came before the
// acquisition wait in a bounded buffer and are delivered in order right after
// the acquisition's reply.
//
// Deltas travel service -> Broker (topic per service and model) -> every
// node's DataSyncService -> its dealers -> local subscriptions, so that a
// Redis broker carries them across nodes. Routing a delta costs in proportion
// to the subscriptions it matches (dealers index their items), not to the
// subscriptions that exist.
//
// Across nodes (docs/scale-out.md): an authorization is announced to every
// node on the service's control topic, and the backend gets the token only
// once the engine has taken the announcement, so every delta published after
// that is buffered by every node. The browser may then acquire on any node;
// the acquisition is claimed once in the cluster state, and the other nodes
// drop their copies when told (or when they expire).
//
// Like every service, all calls happen under the node's service lock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/log.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/services/datasync/dealers.hpp"
#include "snorky/services/datasync/delta.hpp"
#include "snorky/services/datasync/subscription.hpp"

namespace snorky {

class DataSyncService : public RpcService, private BrokerListener {
public:
    struct Options {
        // Authorization to acquisition; an unacquired subscription is discarded then.
        std::chrono::milliseconds acquireTimeout{120'000};
        // Deltas held for a subscription not yet acquired; one more discards
        // the subscription (logged), so an abandoned token cannot grow memory.
        std::size_t maxBufferedDeltas = 1000;
        // Items (dealer + query) in one subscription: "Too many items".
        std::size_t maxItemsPerSubscription = 100;
        // Subscriptions one client may have acquired: "Too many subscriptions".
        std::size_t maxSubscriptionsPerClient = 100;
        // Authorized but not yet acquired, over all clients: "Too many pending subscriptions".
        std::size_t maxPendingSubscriptions = 100'000;
    };

    DataSyncService(std::string name, Options options);
    explicit DataSyncService(std::string name) : DataSyncService(std::move(name), Options{}) {}
    ~DataSyncService() override;

    // Registers a dealer, normally at start-up. Throws std::invalid_argument
    // when its name is taken.
    datasync::Dealer& addDealer(datasync::DealerPtr dealer);
    template <class D, class... Args>
    D& emplaceDealer(Args&&... args) {
        return static_cast<D&>(addDealer(std::make_unique<D>(std::forward<Args>(args)...)));
    }
    datasync::Dealer* findDealer(std::string_view name) const;

    // The backend's commands, callable from C++ too. They throw RpcError with
    // the protocol's texts and change nothing when they do.
    // items = [{"dealer": name, "query": query}, ...]; returns the token.
    std::string authorize(const json::array& items);
    // The same, telling `done` the token once every node knows the
    // subscription (at once with the in-memory broker; if the engine is down,
    // only this node does). Validation errors are thrown before anything changes.
    void authorize(const json::array& items, std::function<void(const std::string& token)> done);
    // Validates every delta (throwing before anything is published), then
    // publishes them in order, in call order with publishDeltas through other
    // nodes; `done` once no later call, on any node, can overtake them.
    void publishDeltas(const json::array& deltas, std::function<void()> done);
    // Publishes one delta to the subscriptions of every node; `confirmed` as
    // for Broker::publishConfirmed. A model no dealer serves reaches nobody.
    void publish(const datasync::Delta& delta, Broker::Confirmed confirmed = nullptr);

    std::size_t subscriptionCount() const { return subscriptions_.size(); }
    std::size_t pendingCount() const { return pending_; }
    // Subscriptions discarded because their buffer overflowed.
    std::uint64_t overflowCount() const { return overflows_; }
    const Options& options() const { return options_; }
    // Reload (SIGHUP): the limits of `fresh` apply from the next subscription,
    // acquisition or buffered delta; subscriptions already held over a lowered
    // limit stay. The dealer table cannot change while running (dealers index
    // the live subscriptions). Call with the service lock held.
    void reconfigure(const Options& fresh) { options_ = fresh; }

protected:
    void onAttach() override;
    void onDisconnect(const ClientPtr& client) override;

    json::object stats() const override;

private:
    struct Router;  // the MatchSink that marks subscriptions during one delta

    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    // A pending subscription from validated items; an empty token draws a new one.
    std::string createPending(const json::array& items, std::string token);
    // Tells the other nodes about an authorization / an acquisition.
    FramePtr controlFrame(const char* kind, const std::string& token, const json::array* items);
    void onControl(const json::value& message);
    void route(const datasync::Delta& delta, const FramePtr& frame);
    void deliver(datasync::Subscription& subscription, const FramePtr& frame);
    void acquire(const RequestPtr& request);
    // acquire, once the token is known here.
    void claim(const RequestPtr& request, const std::string& token);
    // One acquisition of the request's client ended; false if the client left meanwhile.
    bool endAcquiring(const Request& request);
    bool full(const Client& client) const;  // holds maxSubscriptionsPerClient
    void finishAcquire(datasync::Subscription& subscription, const RequestPtr& request);
    void cancel(Request& request);
    void expire(const std::string& token);
    void removeSubscription(datasync::Subscription& subscription);
    FramePtr deltaFrame(const datasync::Delta& delta) const;
    std::string topicFor(const std::string& model) const { return topicPrefix_ + model; }

    Options options_;
    std::string topicPrefix_;
    std::string controlTopic_;   // authorizations and acquisitions, to every node
    std::string acquiredPrefix_;  // cluster-state keys: acquisition claimed once
    std::map<std::string, datasync::DealerPtr, std::less<>> dealers_;
    std::unordered_map<std::string, std::vector<datasync::Dealer*>> dealersByModel_;
    std::unordered_map<std::string, std::unique_ptr<datasync::Subscription>> subscriptions_;  // by token
    std::unordered_map<const Client*, std::vector<datasync::Subscription*>> clientSubscriptions_;
    // Acquisitions waiting for the engine, per client; onDisconnect forgets
    // the client, so that what comes back finds it gone and binds nothing to it.
    std::unordered_map<const Client*, std::size_t> acquiring_;
    std::size_t pending_ = 0;

    // Routing scratch: the pass number and the subscriptions it touched.
    std::uint64_t epoch_ = 0;
    std::vector<datasync::Subscription*> touched_;
    std::vector<datasync::Subscription*> overflowed_;

    std::uint64_t overflows_ = 0;
    log::RateLimit overflowLog_;
};

// Backend side: authorizeSubscription {items} -> token, publishDeltas {deltas} -> null.
class DataSyncBackend : public RpcService {
public:
    DataSyncBackend(std::string name, DataSyncService& datasync);
};

}  // namespace snorky
