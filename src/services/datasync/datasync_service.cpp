#include "snorky/services/datasync/datasync_service.hpp"

#include <algorithm>
#include <stdexcept>

#include "snorky/protocol/errors.hpp"
#include "snorky/services/datasync/token.hpp"

namespace snorky {

using datasync::Dealer;
using datasync::Delta;
using datasync::Subscription;
using datasync::SubscriptionItem;

namespace {
constexpr std::uint8_t kMatchesNew = 1;  // also: the data of an insert or delete
constexpr std::uint8_t kMatchesOld = 2;
}  // namespace

// Marks each subscription once per delta, however many of its items match,
// and remembers it for delivery.
struct DataSyncService::Router final : datasync::MatchSink {
    DataSyncService& service;
    std::uint8_t bit;
    Router(DataSyncService& s, std::uint8_t b) : service(s), bit(b) {}
    void match(SubscriptionItem& item) override {
        Subscription& subscription = *item.subscription;
        if (subscription.epoch != service.epoch_) {
            subscription.epoch = service.epoch_;
            subscription.matched = 0;
            service.touched_.push_back(&subscription);
        }
        subscription.matched |= bit;
    }
};

DataSyncService::DataSyncService(std::string name, Options options)
    : RpcService(std::move(name)),
      options_(options),
      topicPrefix_("datasync:" + this->name() + ":"),
      controlTopic_("datasync-control:" + this->name()),
      acquiredPrefix_("datasync:" + this->name() + ":acquired:") {
    asyncCommand("acquireSubscription", {required("token")}, [this](const RequestPtr& req) { acquire(req); });
    command("cancelSubscription", {required("token")}, [this](Request& req) { cancel(req); });
}

DataSyncService::~DataSyncService() {
    if (!attached()) return;
    for (auto& [token, subscription] : subscriptions_)
        if (!subscription->client) node().timers().cancel(subscription->expiry);
    for (auto& [model, dealers] : dealersByModel_) node().broker().unsubscribe(topicFor(model));
    node().broker().unsubscribe(controlTopic_);
}

Dealer& DataSyncService::addDealer(datasync::DealerPtr dealer) {
    if (!dealer) throw std::invalid_argument("null dealer");
    if (dealers_.count(dealer->name())) throw std::invalid_argument("dealer '" + dealer->name() + "' already exists");
    Dealer& added = *dealer;
    auto& forModel = dealersByModel_[added.model()];
    if (forModel.empty() && attached()) node().broker().subscribe(topicFor(added.model()), this);
    forModel.push_back(&added);
    dealers_.emplace(added.name(), std::move(dealer));
    return added;
}

Dealer* DataSyncService::findDealer(std::string_view name) const {
    auto it = dealers_.find(name);
    return it == dealers_.end() ? nullptr : it->second.get();
}

void DataSyncService::onAttach() {
    for (auto& [model, dealers] : dealersByModel_) node().broker().subscribe(topicFor(model), this);
    node().broker().subscribe(controlTopic_, this);
}

// ---- backend side ----

std::string DataSyncService::authorize(const json::array& items) {
    std::string token = createPending(items, "");
    node().broker().publish(controlTopic_, controlFrame("authorized", token, &items), nullptr);
    return token;
}

void DataSyncService::authorize(const json::array& items, std::function<void(const std::string&)> done) {
    std::string token = createPending(items, "");
    node().broker().publishConfirmed(controlTopic_, controlFrame("authorized", token, &items),
                                     [this, token, done = std::move(done)](bool taken) {
                                         if (!taken)
                                             SNORKY_LOG(Warn, "datasync " << name()
                                                                          << ": engine down, the subscription can be "
                                                                             "acquired on this node only");
                                         done(token);
                                     });
}

FramePtr DataSyncService::controlFrame(const char* kind, const std::string& token, const json::array* items) {
    json::object message{{"kind", kind}, {"token", token}};
    if (items) message["items"] = *items;
    return frame(message);
}

void DataSyncService::onControl(const json::value& message) {
    const json::object& m = message.as_object();
    std::string kind(m.at("kind").as_string());
    std::string token(m.at("token").as_string());
    auto it = subscriptions_.find(token);
    if (kind == "authorized") {
        if (it != subscriptions_.end()) return;  // ours: the echo of our own announcement
        try {
            createPending(m.at("items").as_array(), token);
        } catch (const std::exception& error) {
            // Same dealers everywhere, so only a limit (pending subscriptions) gets here.
            SNORKY_LOG(Warn, "datasync " << name() << ": cannot mirror a subscription authorized on another node: "
                                         << error.what());
        }
    } else if (kind == "acquired") {
        // Acquired on another node: our copy will never be.
        if (it != subscriptions_.end() && !it->second->client) removeSubscription(*it->second);
    }
}

std::string DataSyncService::createPending(const json::array& items, std::string token) {
    if (items.size() > options_.maxItemsPerSubscription) throw RpcError(errors::kTooManyItems);
    if (pending_ >= options_.maxPendingSubscriptions) throw RpcError(errors::kTooManyPendingSubscriptions);

    // Check every item (in the original's order) before anything is created.
    struct Prepared {
        Dealer* dealer;
        const json::value* query;
        std::unique_ptr<datasync::ItemState> state;
    };
    std::vector<Prepared> prepared;
    prepared.reserve(items.size());
    for (const json::value& item : items) {
        const json::object* fields = item.if_object();
        if (!fields) throw RpcError(errors::kInvalidParams);
        auto dealerName = fields->find("dealer");
        if (dealerName == fields->end()) throw RpcError(errors::kMissingDealerField);
        if (!dealerName->value().is_string()) throw RpcError(errors::kDealerNotString);
        Dealer* dealer = findDealer(dealerName->value().get_string());
        if (!dealer) throw RpcError(errors::kNoSuchDealer);
        auto query = fields->find("query");
        if (query == fields->end()) throw RpcError(errors::kMissingQueryField);
        try {
            prepared.push_back(Prepared{dealer, &query->value(), dealer->prepare(query->value())});
        } catch (const datasync::InvalidQuery& why) {
            SNORKY_LOG(Debug, "datasync " << name() << ": invalid query for dealer " << dealer->name() << ": "
                                          << why.what());
            throw RpcError(errors::kInvalidQuery);
        }
    }

    auto subscription = std::make_unique<Subscription>();
    if (!token.empty()) subscription->token = std::move(token);
    else do subscription->token = datasync::generateToken();
        while (subscriptions_.count(subscription->token));
    // Reserved up front: dealers keep pointers to the items.
    subscription->items.reserve(prepared.size());
    for (Prepared& p : prepared)
        subscription->items.emplace_back(*subscription, *p.dealer, p.dealer->keepsQuery() ? *p.query : json::value(),
                                          std::move(p.state));
    for (SubscriptionItem& item : subscription->items) item.dealer->add(item);

    std::string created = subscription->token;
    subscription->expiry = node().timers().schedule(options_.acquireTimeout, [this, created] { expire(created); });
    subscriptions_.emplace(created, std::move(subscription));
    ++pending_;
    return created;
}

void DataSyncService::publishDeltas(const json::array& deltas, std::function<void()> done) {
    auto parsed = std::make_shared<std::vector<Delta>>();
    parsed->reserve(deltas.size());
    for (const json::value& delta : deltas) parsed->push_back(Delta::parse(delta));
    // In call order across nodes: what another node confirmed before this
    // call reaches this node's subscribers first (catchUp), and `done` waits
    // for the engine to take the last delta (in order with the others), so
    // deltas published after it, through any node, come after these everywhere.
    node().broker().catchUp([this, parsed, done = std::move(done)] {
        std::size_t last = parsed->size();
        for (std::size_t i = 0; i < parsed->size(); ++i)
            if (dealersByModel_.count((*parsed)[i].model)) last = i;
        for (std::size_t i = 0; i < parsed->size(); ++i)
            publish((*parsed)[i], i == last ? Broker::Confirmed([done](bool) { done(); }) : nullptr);
        if (last == parsed->size()) done();
    });
}

FramePtr DataSyncService::deltaFrame(const Delta& delta) const {
    json::object message;
    message["type"] = "delta";
    message["delta"] = delta.toJson();
    return frame(message);
}

void DataSyncService::publish(const Delta& delta, Broker::Confirmed confirmed) {
    if (!dealersByModel_.count(delta.model)) return;  // every node has the same dealers
    // Serialized once: subscribers of an insert or delete (and those staying
    // in the view on an update) all get this very frame.
    FramePtr frame = deltaFrame(delta);
    // This node's subscribers: routed from the delta at hand (the engine's
    // local delivery of this frame is skipped, so it is never parsed back).
    // First: a dealer that throws stops the call before it is confirmed.
    route(delta, frame);
    if (confirmed)
        node().broker().publishConfirmed(topicFor(delta.model), frame, std::move(confirmed));
    else
        node().broker().publish(topicFor(delta.model), frame, nullptr);
}

// ---- routing ----

void DataSyncService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    if (origin.local && topic != controlTopic_) return;  // a delta of ours: publish() routed it
    try {
        json::value envelope = json::parse(frame->payload());
        if (topic == controlTopic_) return onControl(envelope.at("message"));
        route(Delta::parse(envelope.at("message").at("delta")), frame);
    } catch (const std::exception& error) {
        SNORKY_LOG(Error, "datasync " << name() << ": unreadable delta on " << topic << ": " << error.what());
    }
}

void DataSyncService::route(const Delta& delta, const FramePtr& frame) {
    auto dealers = dealersByModel_.find(delta.model);
    if (dealers == dealersByModel_.end()) return;
    ++epoch_;
    touched_.clear();
    overflowed_.clear();  // in case a dealer threw during an earlier delta
    bool update = delta.type == Delta::Type::Update;
    Router matchesNew(*this, kMatchesNew), matchesOld(*this, kMatchesOld);
    for (const Dealer* dealer : dealers->second) {
        dealer->collect(update ? delta.newData : delta.data, matchesNew);
        if (update) dealer->collect(delta.oldData, matchesOld);
    }

    // An update is what each view sees of it: a row entering the view is an
    // insert, one leaving it a delete, one staying in it the update.
    FramePtr insertFrame, deleteFrame;
    for (Subscription* subscription : touched_) {
        if (!update || subscription->matched == (kMatchesNew | kMatchesOld)) {
            deliver(*subscription, frame);
        } else if (subscription->matched == kMatchesNew) {
            if (!insertFrame) insertFrame = deltaFrame(Delta::insert(delta.model, delta.newData));
            deliver(*subscription, insertFrame);
        } else {
            if (!deleteFrame) deleteFrame = deltaFrame(Delta::remove(delta.model, delta.oldData));
            deliver(*subscription, deleteFrame);
        }
    }
    touched_.clear();

    // Discarded only now: removing items while dealers were walking them is not allowed.
    for (Subscription* subscription : overflowed_) {
        ++overflows_;
        std::uint64_t suppressed = 0;
        if (overflowLog_.allow(suppressed))
            SNORKY_LOG(Warn, "datasync " << name() << ": discarded a subscription not acquired after "
                                         << options_.maxBufferedDeltas << " deltas (max_buffered_deltas)"
                                         << (suppressed ? " (" + std::to_string(suppressed) + " more not logged)" : ""));
        removeSubscription(*subscription);
    }
    overflowed_.clear();
}

void DataSyncService::deliver(Subscription& subscription, const FramePtr& frame) {
    if (subscription.client) return subscription.client->send(frame);
    if (subscription.buffer.size() >= options_.maxBufferedDeltas) {
        overflowed_.push_back(&subscription);
        return;
    }
    subscription.buffer.push_back(frame);
}

// ---- frontend side ----

void DataSyncService::acquire(const RequestPtr& request) {
    const json::value& param = request->param("token");
    if (!param.is_string()) throw RpcError(errors::kTokenNotString);
    std::string token(param.get_string());
    ++acquiring_[request->client().get()];
    if (subscriptions_.count(token)) return claim(request, token);
    // Perhaps authorized through another node a moment ago, its announcement
    // still on its way here: once caught up with the engine, this node has it.
    node().broker().catchUp([this, request, token] {
        if (!subscriptions_.count(token)) {
            endAcquiring(*request);
            return request->reject(errors::kNoSuchSubscription);
        }
        claim(request, token);
    });
}

bool DataSyncService::endAcquiring(const Request& request) {
    auto it = acquiring_.find(request.client().get());
    if (it == acquiring_.end()) return false;
    if (--it->second == 0) acquiring_.erase(it);
    return true;
}

bool DataSyncService::full(const Client& client) const {
    auto held = clientSubscriptions_.find(&client);
    return held != clientSubscriptions_.end() && held->second.size() >= options_.maxSubscriptionsPerClient;
}

void DataSyncService::claim(const RequestPtr& request, const std::string& token) {
    // A token is acquired once; after that it names the owner's subscription only.
    // When full, the subscription stays pending.
    const char* refused = subscriptions_.at(token)->client ? errors::kNoSuchSubscription
                          : full(*request->client())       ? errors::kTooManySubscriptions
                                                           : nullptr;
    if (refused) {
        endAcquiring(*request);
        return request->reject(refused);
    }

    // Once in the whole cluster: other nodes hold copies of this subscription.
    node().cluster().claimKey(acquiredPrefix_ + token, node().broker().nodeId(), options_.acquireTimeout,
                             [this, request, token](ClusterState::Result result) {
        bool connected = endAcquiring(*request);
        if (result == ClusterState::Result::Taken) return request->reject(errors::kNoSuchSubscription);
        // Unavailable: the engine is down; this node's copy is still good.
        auto it = subscriptions_.find(token);
        if (it == subscriptions_.end() || it->second->client) return request->reject(errors::kNoSuchSubscription);
        if (!connected) {
            // Gone while claiming: the token is spent. This node's copy goes,
            // and the other nodes drop theirs once the claim is in the engine.
            removeSubscription(*it->second);
            if (result == ClusterState::Result::Ok)
                node().broker().publish(controlTopic_, controlFrame("acquired", token, nullptr), nullptr);
            return request->reject(errors::kNoSuchSubscription);  // nobody reads it
        }
        if (full(*request->client())) return request->reject(errors::kTooManySubscriptions);
        finishAcquire(*it->second, request);
        node().broker().publish(controlTopic_, controlFrame("acquired", token, nullptr), nullptr);
    });
}

void DataSyncService::finishAcquire(Subscription& subscription, const RequestPtr& request) {
    const ClientPtr& client = request->client();
    clientSubscriptions_[client.get()].push_back(&subscription);
    subscription.client = client;
    node().timers().cancel(subscription.expiry);
    --pending_;

    // The reply first, then what happened since the backend's query, in order.
    request->resolve(nullptr);
    std::vector<FramePtr> buffered = std::move(subscription.buffer);
    subscription.buffer = {};
    for (const FramePtr& frame : buffered) client->send(frame);
}

void DataSyncService::cancel(Request& request) {
    const json::value& token = request.param("token");
    if (!token.is_string()) throw RpcError(errors::kTokenNotString);
    auto it = subscriptions_.find(std::string(token.get_string()));
    if (it == subscriptions_.end() || it->second->client != request.client())
        throw RpcError(errors::kNoSuchSubscription);
    removeSubscription(*it->second);
}

void DataSyncService::expire(const std::string& token) {
    auto it = subscriptions_.find(token);
    if (it == subscriptions_.end() || it->second->client) return;
    SNORKY_LOG(Debug, "datasync " << name() << ": subscription not acquired in time, discarded");
    it->second->expiry = 0;
    removeSubscription(*it->second);
}

void DataSyncService::removeSubscription(Subscription& subscription) {
    for (SubscriptionItem& item : subscription.items) item.dealer->remove(item);
    if (subscription.client) {
        auto held = clientSubscriptions_.find(subscription.client.get());
        if (held != clientSubscriptions_.end()) {
            auto& list = held->second;
            list.erase(std::remove(list.begin(), list.end(), &subscription), list.end());
            if (list.empty()) clientSubscriptions_.erase(held);
        }
    } else {
        if (subscription.expiry) node().timers().cancel(subscription.expiry);
        --pending_;
    }
    std::string token = std::move(subscription.token);
    subscriptions_.erase(token);  // frees `subscription`
}

void DataSyncService::onDisconnect(const ClientPtr& client) {
    acquiring_.erase(client.get());
    auto held = clientSubscriptions_.find(client.get());
    if (held == clientSubscriptions_.end()) return;
    std::vector<Subscription*> subscriptions = held->second;
    for (Subscription* subscription : subscriptions) removeSubscription(*subscription);
}

// ---- DataSyncBackend ----

DataSyncBackend::DataSyncBackend(std::string name, DataSyncService& datasync) : RpcService(std::move(name)) {
    // Answered once every node can buffer for the token (see DataSyncService).
    asyncCommand("authorizeSubscription", {required("items", ParamType::Array)}, [&datasync](const RequestPtr& req) {
        datasync.authorize(req->param("items").get_array(), [req](const std::string& token) { req->resolve(json::string(token)); });
    });
    asyncCommand("publishDeltas", {required("deltas", ParamType::Array)}, [&datasync](const RequestPtr& req) {
        datasync.publishDeltas(req->param("deltas").get_array(), [req] { req->resolve(); });
    });
}

json::object DataSyncService::stats() const {
    return {{"subscriptions", subscriptions_.size()}, {"dealers", dealers_.size()}};
}

}  // namespace snorky
