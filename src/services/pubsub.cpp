#include "snorky/services/pubsub.hpp"

#include <algorithm>
#include <map>

#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace {

std::int64_t unixSeconds(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.wallNow().time_since_epoch()).count();
}

// The text an identity stands for in an owner channel (`user:<this>`): a
// string or a whole number, itself or, for an object, its `field`.
std::optional<std::string> ownerName(const json::value& identity, const std::string& field) {
    const json::value* name = &identity;
    if (identity.is_object() && !field.empty()) name = identity.as_object().if_contains(field);
    if (!name) return std::nullopt;
    if (name->is_string()) return std::string(name->as_string());
    if (auto number = exactInteger(*name)) return std::to_string(*number);
    return std::nullopt;
}

// {offset, message} of a held frame (the "message" of its notification).
json::object publicationOf(const HistoryEntry& entry) {
    json::object notification = notificationOf(*entry.frame);
    json::value message;
    if (json::value* inner = notification.if_contains("message")) message = std::move(*inner);
    return json::object{{"offset", entry.offset}, {"message", std::move(message)}};
}

json::array publicationsOf(const std::vector<HistoryEntry>& entries) {
    json::array out;
    out.reserve(entries.size());
    for (const HistoryEntry& entry : entries) out.push_back(publicationOf(entry));
    return out;
}

bool startsWith(const json::value& channel, const std::string& prefix) {
    if (!channel.is_string()) return false;
    const json::string& text = channel.as_string();
    return std::string_view(text.data(), text.size()).starts_with(prefix);
}

}  // namespace

PubSubService::PubSubService(std::string name, Options options)
    : RpcService(std::move(name)),
      options_(std::move(options)),
      topicPrefix_("pubsub:" + this->name() + ":"),
      controlTopic_("pubsub-control:" + this->name()),
      clusterQuery_(this->name(), std::chrono::seconds(15), options_.clusterQueryTimeout) {
    // Rows that leave publish unset follow the service-wide shorthand.
    if (options_.namespaces.empty()) options_.namespaces.emplace_back();
    for (Namespace& ns : options_.namespaces) {
        if (!ns.publish) ns.publish = options_.clientPublish ? PublishPolicy::Public : PublishPolicy::None;
        if (!ns.historySize) ns.historySize = options_.history.size;
        if (!ns.historyTtl) ns.historyTtl = options_.history.ttl;
    }

    asyncCommand("subscribe",
                 {required("channel"), optional("token", ParamType::String), optional("recover", ParamType::Boolean),
                  optional("since", ParamType::Object)},
                 &PubSubService::subscribe);
    command("unsubscribe", {required("channel")}, &PubSubService::unsubscribe);
    command("publish", {required("channel"), required("message")}, &PubSubService::clientPublish);
}

PubSubService::~PubSubService() {
    if (!attached()) return;
    for (auto& [key, subscribers] : channels_) node().broker().unsubscribe(topicFor(key));
    node().broker().unsubscribe(controlTopic_);
}

void PubSubService::onAttach() {
    node().broker().subscribe(controlTopic_, this);
    clusterQuery_.start(node(), [this](const json::object& question) { return answerClusterQuery(question); });
}

void PubSubService::reconfigure(const Options& fresh) {
    options_.clientPublish = fresh.clientPublish;
    options_.maxChannelsPerClient = fresh.maxChannelsPerClient;
    options_.namespaces = fresh.namespaces;  // complete already (fresh was built)
    options_.tokens = fresh.tokens;
    options_.history = fresh.history;
}

const PubSubService::Namespace* PubSubService::namespaceFor(const json::value& channel) const {
    for (const Namespace& ns : options_.namespaces) {
        if (!ns.prefix) return &ns;
        if (startsWith(channel, *ns.prefix)) return &ns;
    }
    return nullptr;
}

void PubSubService::subscribe(const RequestPtr& request) {
    Request& req = *request;
    const ClientPtr& client = req.client();
    const Namespace* ns = namespaceFor(req.param("channel"));
    if (!ns) throw RpcError(errors::kUnknownNamespace);
    // Checked before anything else, so that a bad one touches no state.
    const std::optional<SincePosition> since = parseSince(req.param("since"));
    bool wantsHistory = since.has_value() || (req.param("recover").is_bool() && req.param("recover").as_bool());
    std::string key = canonicalJson(req.param("channel"));
    // Authorization first: a refused attempt touches no state.
    authorizeSubscription(*ns, req, key);
    auto& held = clientChannels_[client.get()];
    if (std::find(held.begin(), held.end(), key) != held.end()) throw RpcError(errors::kAlreadySubscribed);
    auto& subscribers = channels_[key];
    const char* refusal = nullptr;
    if (held.size() >= options_.maxChannelsPerClient)
        refusal = errors::kTooManyChannels;
    else if (ns->maxSubscribers && subscribers.size() >= ns->maxSubscribers)
        refusal = errors::kChannelFull;
    if (refusal) {
        if (held.empty()) clientChannels_.erase(client.get());
        if (subscribers.empty()) channels_.erase(key);
        throw RpcError(refusal);
    }
    if (subscribers.empty()) node().broker().subscribe(topicFor(key), this);
    subscribers.push_back(Subscriber{client});
    held.push_back(key);
    // Without history asked for (or kept) the answer is the original null.
    if (!wantsHistory || *ns->historySize == 0) return req.resolve(nullptr);
    recover(request, key, *ns);
}

// The subscriber is registered before the engine is asked (stream_receiver.hpp).
void PubSubService::recover(const RequestPtr& req, const std::string& key, const Namespace& ns) {
    Subscriber* subscriber = subscriberOf(key, req->client().get());
    std::uint64_t ticket = ++tickets_;
    subscriber->receiver.hold(ticket);
    auto since = parseSince(req->param("since"));
    std::optional<std::uint64_t> after;
    if (since) after = since->offset;
    // The engine answers before Broker::close() returns, so before this service is destroyed.
    node().broker().readHistory(topicFor(key), ns.history(), after, *ns.historySize,
                                [this, req, key, ticket, since = std::move(since)](std::optional<HistoryRead> read) {
                                    finishRecovery(req, key, ticket, since, std::move(read));
                                });
}

void PubSubService::finishRecovery(const RequestPtr& req, const std::string& key, std::uint64_t ticket,
                                   const std::optional<SincePosition>& since, std::optional<HistoryRead> read) {
    Subscriber* subscriber = subscriberOf(key, req->client().get());
    // Unsubscribed (or gone, or subscribed again) while the engine read: nothing to answer into.
    if (!subscriber || !subscriber->receiver.awaits(ticket)) return req->resolve(nullptr);
    Client& client = *req->client();
    if (!read) {
        // The engine could not say: as without history, the original answer.
        req->resolve(nullptr);
        return subscriber->receiver.abandon(client);
    }
    RecoveryOutcome outcome = recoveryOf(*read, since);
    json::object answer;
    if (outcome.recovered) {
        answer["recovered"] = *outcome.recovered;
        if (*outcome.recovered) answer["publications"] = publicationsOf(read->entries);
    }
    answer["offset"] = outcome.upTo;
    answer["epoch"] = read->position.epoch;
    req->resolve(std::move(answer));
    subscriber->receiver.release(client, outcome.upTo);
}

PubSubService::Subscriber* PubSubService::subscriberOf(const std::string& key, const Client* client) {
    auto channel = channels_.find(key);
    if (channel == channels_.end()) return nullptr;
    for (Subscriber& subscriber : channel->second)
        if (subscriber.client.get() == client) return &subscriber;
    return nullptr;
}

void PubSubService::authorizeSubscription(const Namespace& ns, Request& req, const std::string& key) {
    const Client& client = *req.client();
    // A token from the backend admits wherever clients may subscribe at all.
    if (!req.param("token").is_null()) {
        checkToken(req, key);
        if (ns.subscribe == SubscribePolicy::None) throw RpcError(errors::kNotAuthorized);
        return;
    }
    switch (ns.subscribe) {
        case SubscribePolicy::Public: return;
        case SubscribePolicy::Authenticated:
            if (!client.authenticated()) throw RpcError(errors::kNotAuthenticated);
            return;
        case SubscribePolicy::Owner:
            if (!client.authenticated()) throw RpcError(errors::kNotAuthenticated);
            if (!owns(ns, client.identity(), req.param("channel"))) throw RpcError(errors::kNotAuthorized);
            return;
        case SubscribePolicy::Token:
        case SubscribePolicy::None: throw RpcError(errors::kNotAuthorized);
    }
}

void PubSubService::checkToken(Request& req, const std::string& key) {
    SubscriptionTokens::Verdict verdict;
    if (!options_.tokens)
        verdict = {errors::kInvalidToken, "this service accepts no subscription tokens"};
    else
        verdict = options_.tokens->check(req.string("token"), name(), key, req.client()->identity(),
                                         unixSeconds(node().clock()));
    if (verdict.ok()) return;
    // Clients can trigger this at will: rate-limited, and never the token itself.
    std::uint64_t suppressed = 0;
    if (refusalLog_.allow(suppressed))
        SNORKY_LOG(Info, "pubsub " << name() << ": subscription token refused from " << req.client()->remoteAddress()
                                   << ": " << verdict.detail
                                   << (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                                                  : std::string()));
    throw RpcError(verdict.error);
}

bool PubSubService::owns(const Namespace& ns, const json::value& identity, const json::value& channel) const {
    auto owner = ownerName(identity, ns.ownerField);
    return owner && channel.is_string() && channel.as_string() == *ns.prefix + *owner;
}

void PubSubService::unsubscribe(Request& req) {
    std::string key = canonicalJson(req.param("channel"));
    if (!holds(req.client(), key)) throw RpcError(errors::kNotSubscribed);
    forget(req.client(), key);
    unsubscribeKey(req.client(), key);
}

void PubSubService::clientPublish(Request& req) {
    const json::value& channel = req.param("channel");
    const Namespace* ns = namespaceFor(channel);
    if (!ns) throw RpcError(errors::kUnknownNamespace);
    if (!canPublish(req.client(), channel)) throw RpcError(errors::kNotAuthorized);
    if (ns->maxMessageBytes && json::serialize(req.param("message")).size() > ns->maxMessageBytes)
        throw RpcError(errors::kMessageTooLarge);
    publish(channel, req.param("message"));
}

bool PubSubService::canPublish(const ClientPtr& client, const json::value& channel) {
    const Namespace* ns = namespaceFor(channel);
    if (!ns) return false;
    switch (*ns->publish) {
        case PublishPolicy::None: return false;
        case PublishPolicy::Authenticated: return client->authenticated();
        case PublishPolicy::Subscribers: return holds(client, canonicalJson(channel));
        case PublishPolicy::Public: return true;
    }
    return false;
}

bool PubSubService::holds(const ClientPtr& client, const std::string& key) const {
    auto held = clientChannels_.find(client.get());
    return held != clientChannels_.end() &&
           std::find(held->second.begin(), held->second.end(), key) != held->second.end();
}

void PubSubService::publish(const json::value& channel, const json::value& message, Broker::Confirmed confirmed) {
    json::object notification;
    notification["type"] = "message";
    notification["channel"] = channel;
    notification["message"] = message;
    // Serialized once here; every node and every subscriber shares this frame.
    const Namespace* ns = namespaceFor(channel);
    std::string topic = topicFor(canonicalJson(channel));
    if (ns && *ns->historySize > 0)
        node().broker().publishWithHistory(topic, frame(notification), nullptr, ns->history(), std::move(confirmed));
    else if (confirmed)
        node().broker().publishConfirmed(topic, frame(notification), std::move(confirmed));
    else
        node().broker().publish(topic, frame(notification), nullptr);  // the publisher hears it too
}

void PubSubService::history(const json::value& channel, std::optional<std::uint64_t> after,
                            std::optional<std::size_t> limit, std::function<void(std::optional<json::object>)> done) {
    const Namespace* ns = namespaceFor(channel);
    if (!ns) throw RpcError(errors::kUnknownNamespace);
    if (*ns->historySize == 0) throw RpcError(errors::kHistoryNotEnabled);
    std::size_t count = std::min(limit.value_or(*ns->historySize), *ns->historySize);
    node().broker().readHistory(topicFor(canonicalJson(channel)), ns->history(), after, count,
                                [done = std::move(done)](std::optional<HistoryRead> read) {
                                    if (!read) return done(std::nullopt);
                                    done(json::object{{"offset", read->position.offset},
                                                      {"epoch", read->position.epoch},
                                                      {"publications", publicationsOf(read->entries)},
                                                      {"complete", read->complete}});
                                });
}

void PubSubService::kick(const json::value& channel, const json::value& identity, const std::string& reason) {
    json::object command{{"command", "kick"}, {"channel", channel}, {"identity", identity}, {"reason", reason}};
    // Through the engine, so that every node (this one included) drops its own subscribers.
    node().broker().publish(controlTopic_, frame(command), nullptr);
}

void PubSubService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    if (topic == controlTopic_) {
        boost::system::error_code ec;
        json::value envelope = json::parse(frame->payload(), ec);
        if (!ec && envelope.is_object() && envelope.as_object().contains("message") &&
            envelope.at("message").is_object())
            onControl(envelope.at("message").as_object());
        return;
    }
    auto it = channels_.find(topic.substr(topicPrefix_.size()));
    if (it == channels_.end()) return;
    FramePtr numbered;  // built once, for the subscribers that asked for offsets
    for (Subscriber& subscriber : it->second) subscriber.receiver.deliver(*subscriber.client, frame, origin, numbered);
}

void PubSubService::onControl(const json::object& command) {
    const json::value* channel = command.if_contains("channel");
    const json::value* identity = command.if_contains("identity");
    const json::value* reason = command.if_contains("reason");
    if (!channel || !identity || !reason) return;
    std::string key = canonicalJson(*channel);
    auto it = channels_.find(key);
    if (it == channels_.end()) return;
    std::vector<ClientPtr> kicked;
    for (const Subscriber& subscriber : it->second)
        if (identity->is_null() || subscriber.client->identity() == *identity) kicked.push_back(subscriber.client);
    FramePtr notice = frame(json::object{{"type", "unsubscribed"}, {"channel", *channel}, {"reason", *reason}});
    for (const ClientPtr& client : kicked) {
        forget(client, key);
        unsubscribeKey(client, key);  // may erase the channel: `it` is not used again
        client->send(notice);
    }
}

std::size_t PubSubService::subscriberCount(const json::value& channel) const {
    auto it = channels_.find(canonicalJson(channel));
    return it == channels_.end() ? 0 : it->second.size();
}

json::array PubSubService::channelList(const std::optional<std::string>& prefix) const {
    std::map<std::string, std::size_t> sorted;  // by canonical form: the same order on every call
    for (const auto& [key, subscribers] : channels_) sorted.emplace(key, subscribers.size());
    json::array out;
    for (const auto& [key, count] : sorted) {
        json::value channel = json::parse(key);
        if (prefix && !startsWith(channel, *prefix)) continue;
        out.push_back(json::object{{"channel", std::move(channel)}, {"subscribers", count}});
    }
    return out;
}

json::array PubSubService::identitiesOf(const json::value& channel) const {
    std::map<std::string, json::value> distinct;  // one entry per identity, however many connections
    auto it = channels_.find(canonicalJson(channel));
    if (it != channels_.end())
        for (const Subscriber& subscriber : it->second)
            if (subscriber.client->authenticated())
                distinct.emplace(canonicalJson(subscriber.client->identity()), subscriber.client->identity());
    json::array out;
    for (auto& [key, identity] : distinct) out.push_back(identity);
    return out;
}

// ---- across nodes ----

namespace {

// Adds up every node's channel list: one row per channel, counts summed.
json::array mergeChannelLists(const std::vector<json::value>& answers) {
    std::map<std::string, std::pair<json::value, std::int64_t>> merged;
    for (const json::value& answer : answers) {
        if (!answer.is_array()) continue;
        for (const json::value& row : answer.as_array()) {
            const json::value* channel = row.is_object() ? row.as_object().if_contains("channel") : nullptr;
            const json::value* count = row.is_object() ? row.as_object().if_contains("subscribers") : nullptr;
            auto number = count ? exactInteger(*count) : std::nullopt;
            if (!channel || !number) continue;
            auto& entry = merged.try_emplace(canonicalJson(*channel), *channel, 0).first->second;
            entry.second += *number;
        }
    }
    json::array out;
    for (auto& [key, entry] : merged)
        out.push_back(json::object{{"channel", std::move(entry.first)}, {"subscribers", entry.second}});
    return out;
}

// Every node's identities, each once.
json::array mergeIdentities(const std::vector<json::value>& answers) {
    std::map<std::string, json::value> merged;
    for (const json::value& answer : answers)
        if (answer.is_array())
            for (const json::value& identity : answer.as_array()) merged.emplace(canonicalJson(identity), identity);
    json::array out;
    for (auto& [key, identity] : merged) out.push_back(std::move(identity));
    return out;
}

}  // namespace

json::value PubSubService::answerClusterQuery(const json::object& question) const {
    const json::value* what = question.if_contains("what");
    if (!what || !what->is_string()) return nullptr;
    if (*what == "channels") {
        const json::value* prefix = question.if_contains("prefix");
        if (prefix && prefix->is_string()) return channelList(std::string(prefix->as_string()));
        return channelList(std::nullopt);
    }
    const json::value* channel = question.if_contains("channel");
    if (*what == "presence" && channel) return identitiesOf(*channel);
    return nullptr;
}

void PubSubService::clusterChannelList(const std::optional<std::string>& prefix, Gathered done) {
    json::object question{{"what", "channels"}};
    if (prefix) question["prefix"] = *prefix;
    clusterQuery_.ask(std::move(question), [done = std::move(done)](bool ok, std::vector<json::value> answers) {
        done(ok, mergeChannelLists(answers));
    });
}

void PubSubService::clusterIdentitiesOf(const json::value& channel, Gathered done) {
    clusterQuery_.ask(json::object{{"what", "presence"}, {"channel", channel}},
                      [done = std::move(done)](bool ok, std::vector<json::value> answers) {
                          done(ok, mergeIdentities(answers));
                      });
}

// Removes `key` from what the client holds.
void PubSubService::forget(const ClientPtr& client, const std::string& key) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    auto it = std::find(held->second.begin(), held->second.end(), key);
    if (it != held->second.end()) held->second.erase(it);
    if (held->second.empty()) clientChannels_.erase(held);
}

void PubSubService::unsubscribeKey(const ClientPtr& client, const std::string& key) {
    auto channel = channels_.find(key);
    if (channel == channels_.end()) return;
    auto& subscribers = channel->second;
    auto it = std::find_if(subscribers.begin(), subscribers.end(),
                           [&client](const Subscriber& s) { return s.client == client; });
    if (it != subscribers.end()) {
        *it = std::move(subscribers.back());  // order among subscribers does not matter
        subscribers.pop_back();
    }
    if (subscribers.empty()) {
        channels_.erase(channel);
        node().broker().unsubscribe(topicFor(key));
    }
}

void PubSubService::onDisconnect(const ClientPtr& client) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    std::vector<std::string> keys = std::move(held->second);
    clientChannels_.erase(held);
    for (const std::string& key : keys) unsubscribeKey(client, key);
}

json::object PubSubService::stats() const {
    std::size_t subscriptions = 0;
    for (const auto& [key, subscribers] : channels_) subscriptions += subscribers.size();
    return {{"channels", channels_.size()}, {"subscriptions", subscriptions}};
}

}  // namespace snorky
