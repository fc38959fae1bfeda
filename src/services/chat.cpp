#include "snorky/services/chat.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "snorky/core/node.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace {
constexpr char kFieldSeparator = '\x1f';  // never inside canonical JSON (control characters are escaped)

// One field per (identity, node): "<identity>\x1f<node>" = expiry in calendar ms.
class ChatPresenceLayout final : public ClusterPresence::Layout {
public:
    std::string field(const ClusterPresence::Entry& e) const override { return e.member + kFieldSeparator + e.node; }
    std::string value(const ClusterPresence::Entry& e) const override { return std::to_string(e.expires); }
    std::optional<ClusterPresence::Entry> parse(const std::string& field, const std::string& value) const override {
        auto cut = field.rfind(kFieldSeparator);
        if (cut == std::string::npos) return std::nullopt;
        ClusterPresence::Entry entry{field.substr(0, cut), field.substr(cut + 1), 0, nullptr};
        try {
            entry.expires = std::stoll(value);
        } catch (const std::exception&) {
            // 0: expired
        }
        try {
            entry.data = json::parse(entry.member);
        } catch (const std::exception&) {
            return std::nullopt;
        }
        return entry;
    }
};

// A held chat message as a join's answer lists it: the notification as it
// was sent, with its offset.
json::object messageOf(const HistoryEntry& entry) {
    json::object message = notificationOf(*entry.frame);
    message["offset"] = entry.offset;
    return message;
}
}  // namespace

ChatService::ChatService(std::string name, Options options)
    : RpcService(std::move(name)),
      options_(options),
      topicPrefix_("chat:" + this->name() + ":"),
      readTopicPrefix_("chat:" + this->name() + ":read:"),  // no canonical JSON starts with 'r'
      presencePayloadPrefix_("{\"service\":" + json::serialize(json::string(this->name())) +
                             ",\"message\":{\"type\":\"presence\""),
      presence_("chat:" + this->name() + ":presence:", options.presenceTtl, std::make_unique<ChatPresenceLayout>()) {
    asyncCommand("join",
                 {required("channel"), optional("history", ParamType::Integer), optional("recover", ParamType::Boolean),
                  optional("since", ParamType::Object)},
                 &ChatService::join);
    command("leave", {required("channel")}, &ChatService::leave);
    command("send", {required("channel"), required("body")}, &ChatService::sendMessage);
    command("read", {required("channel")}, &ChatService::markRead);
}

ChatService::~ChatService() {
    if (!attached()) return;
    for (const auto& [key, channel] : channels_) {
        node().broker().unsubscribe(topicFor(key));
        for (const auto& [identityKey, member] : channel.members) node().broker().unsubscribe(readTopic(key, identityKey));
    }
}

void ChatService::onAttach() {
    presence_.start(node(), [this](const std::string& key, const std::string& identityKey, const json::value&) {
        onGone(key, identityKey);
    });
}

// ---- commands ----

void ChatService::join(const RequestPtr& req) {
    const ClientPtr& client = authenticated(*req);
    // History params are checked before anything else, so that bad ones touch no state.
    auto since = parseSince(req->param("since"));
    const json::value& history = req->param("history");
    if (!history.is_null()) {
        std::int64_t count = *exactInteger(history);
        if (since || count < 0 || count > kMaxJoinHistory) throw RpcError(errors::kInvalidParams);
    }
    bool wantsHistory =
        since || !history.is_null() || (req->param("recover").is_bool() && req->param("recover").as_bool());
    std::string key = canonicalJson(req->param("channel"));
    auto& held = clientChannels_[client.get()];
    bool already = std::any_of(held.begin(), held.end(), [&](const Joined& j) { return j.channelKey == key; });
    if (already || held.size() >= options_.maxChannelsPerClient) {
        if (held.empty()) clientChannels_.erase(client.get());
        throw RpcError(already ? errors::kAlreadyJoined : errors::kTooManyChannels);
    }
    Channel& channel = openChannel(key, req->param("channel"));
    std::string identityKey = canonicalJson(client->identity());
    bool newHere = addConnection(channel, key, identityKey, client);
    held.push_back(Joined{key, identityKey});
    // Without history asked for (or kept) the answer is the original one.
    std::uint64_t ticket = 0;
    if (wantsHistory && options_.history.size > 0) {
        ticket = ++tickets_;
        connectionOf(key, identityKey, client.get())->receiver.hold(ticket);  // from now on: stream_receiver.hpp
    }
    // The other nodes' members decide the announcement and the reply.
    presence_.read(key, [this, req, key, identityKey, newHere, ticket](bool, const ClusterPresence::Members& others) {
        onJoinRead(req, key, identityKey, newHere, ticket, others);
    });
}

ChatService::Channel& ChatService::openChannel(const std::string& key, const json::value& value) {
    auto [it, created] = channels_.try_emplace(key);
    if (created) {
        it->second.value = value;
        node().broker().subscribe(topicFor(key), this);
        presence_.open(key);
    }
    return it->second;
}

bool ChatService::addConnection(Channel& channel, const std::string& key, const std::string& identityKey,
                                const ClientPtr& client) {
    auto member = channel.members.find(identityKey);
    bool newHere = member == channel.members.end();
    if (newHere) {
        member = channel.members.emplace(identityKey, Member{client->identity(), {}}).first;
        node().broker().subscribe(readTopic(key, identityKey), this);
        presence_.set(key, identityKey, client->identity());  // before the join's read, which then includes it
    }
    member->second.connections.push_back(Connection{client, {}});
    return newHere;
}

void ChatService::onJoinRead(const RequestPtr& req, const std::string& key, const std::string& identityKey,
                             bool newHere, std::uint64_t ticket, const ClusterPresence::Members& others) {
    auto channelIt = channels_.find(key);
    if (channelIt == channels_.end()) return req->reject(errors::kNotJoined);  // left meanwhile
    Channel& channel = channelIt->second;
    auto member = channel.members.find(identityKey);
    // New to the cluster: the others hear it (this identity's own connections do not).
    if (newHere && !others.count(identityKey) && member != channel.members.end())
        publishPresence(key, channel.value, member->second.identity, "joined", req->client().get());
    ClusterPresence::Members everyone = others;
    for (const auto& [k, m] : channel.members) everyone.emplace(k, m.identity);
    json::array members;
    members.reserve(everyone.size());
    for (auto& [k, identity] : everyone) members.push_back(std::move(identity));
    json::object answer{{"members", std::move(members)}};
    if (ticket == 0) return req->resolve(std::move(answer));
    auto since = parseSince(req->param("since"));
    std::optional<std::uint64_t> after;
    std::size_t limit = 0;  // recover alone: the position only
    if (since) {
        after = since->offset;
        limit = options_.history.size;
    } else if (!req->param("history").is_null()) {
        limit = std::min(static_cast<std::size_t>(*exactInteger(req->param("history"))), options_.history.size);
    }
    // The engine answers before Broker::close() returns, so before this service is destroyed.
    node().broker().readHistory(
        topicFor(key), options_.history, after, limit,
        [this, req, key, identityKey, ticket, answer = std::move(answer)](std::optional<HistoryRead> read) mutable {
            finishJoin(req, key, identityKey, ticket, std::move(answer), std::move(read));
        });
}

void ChatService::finishJoin(const RequestPtr& req, const std::string& key, const std::string& identityKey,
                             std::uint64_t ticket, json::object answer, std::optional<HistoryRead> read) {
    Connection* connection = connectionOf(key, identityKey, req->client().get());
    if (!connection) return req->reject(errors::kNotJoined);  // left (or gone) meanwhile
    // Left and joined again meanwhile: that join answers with the history.
    if (!connection->receiver.awaits(ticket)) return req->resolve(std::move(answer));
    Client& client = *req->client();
    if (!read) {
        // The engine could not say: as without history, the original answer.
        req->resolve(std::move(answer));
        return connection->receiver.abandon(client);
    }
    auto since = parseSince(req->param("since"));
    RecoveryOutcome outcome = recoveryOf(*read, since);
    if (outcome.recovered) answer["recovered"] = *outcome.recovered;
    if (outcome.replay && (since || !req->param("history").is_null())) {
        json::array messages;
        messages.reserve(read->entries.size());
        for (const HistoryEntry& entry : read->entries) messages.push_back(messageOf(entry));
        answer["messages"] = std::move(messages);
    }
    answer["offset"] = outcome.upTo;
    answer["epoch"] = read->position.epoch;
    req->resolve(std::move(answer));
    connection->receiver.release(client, outcome.upTo);
}

ChatService::Connection* ChatService::connectionOf(const std::string& key, const std::string& identityKey,
                                                   const Client* client) {
    auto channel = channels_.find(key);
    if (channel == channels_.end()) return nullptr;
    auto member = channel->second.members.find(identityKey);
    if (member == channel->second.members.end()) return nullptr;
    for (Connection& connection : member->second.connections)
        if (connection.client.get() == client) return &connection;
    return nullptr;
}

void ChatService::leave(Request& req) {
    const ClientPtr& client = authenticated(req);
    auto it = joined(req, canonicalJson(req.param("channel")));
    Joined membership = std::move(*it);
    auto& held = clientChannels_[client.get()];
    held.erase(it);
    if (held.empty()) clientChannels_.erase(client.get());
    leaveChannel(client, membership);
}

void ChatService::sendMessage(Request& req) {
    authenticated(req);
    auto it = joined(req, canonicalJson(req.param("channel")));
    if (json::serialize(req.param("body")).size() > options_.maxBodyBytes) throw RpcError(errors::kMessageTooLarge);
    const Channel& channel = channels_.at(it->channelKey);
    json::object message;
    message["type"] = "message";
    message["from"] = channel.members.at(it->identityKey).identity;
    message["channel"] = channel.value;
    message["body"] = req.param("body");
    message["timestamp"] = timestamp(wallNow());
    // Serialized once; the sender's connections receive it too.
    if (options_.history.size > 0)
        node().broker().publishWithHistory(topicFor(it->channelKey), frame(message), req.client().get(),
                                           options_.history, nullptr);
    else
        node().broker().publish(topicFor(it->channelKey), frame(message), req.client().get());
}

void ChatService::markRead(Request& req) {
    const ClientPtr& client = authenticated(req);
    auto it = joined(req, canonicalJson(req.param("channel")));
    const Channel& channel = channels_.at(it->channelKey);
    json::object receipt;
    receipt["type"] = "read";
    receipt["channel"] = channel.value;
    receipt["timestamp"] = timestamp(wallNow());
    // To the identity's other connections on every node: this node's at
    // once (the reader excluded), the others' through their read topic.
    node().broker().publish(readTopic(it->channelKey, it->identityKey), frame(receipt), client.get());
}

// ---- helpers ----

std::string ChatService::timestamp(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    auto millis = duration_cast<milliseconds>(when.time_since_epoch()).count();
    auto seconds = millis / 1000, fraction = millis % 1000;
    if (fraction < 0) fraction += 1000, seconds -= 1;  // floor before 1970
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buf[96];  // room for any int the compiler can imagine, not just 4-digit years
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(fraction));
    return buf;
}

std::size_t ChatService::memberCount(const json::value& channel) const {
    auto it = channels_.find(canonicalJson(channel));
    return it == channels_.end() ? 0 : it->second.members.size();
}

bool ChatService::isSenderOf(const Member& member, const Origin& origin) {
    return std::any_of(member.connections.begin(), member.connections.end(),
                       [&](const Connection& connection) { return origin.isSender(connection.client.get()); });
}

std::vector<ChatService::Joined>::iterator ChatService::joined(Request& req, const std::string& key) {
    auto held = clientChannels_.find(req.client().get());
    if (held == clientChannels_.end()) throw RpcError(errors::kNotJoined);
    auto it = std::find_if(held->second.begin(), held->second.end(),
                           [&](const Joined& j) { return j.channelKey == key; });
    if (it == held->second.end()) throw RpcError(errors::kNotJoined);
    return it;
}

json::object ChatService::presenceMessage(const json::value& channel, const json::value& identity,
                                          const char* status) {
    json::object presence;
    presence["type"] = "presence";
    presence["from"] = identity;
    presence["channel"] = channel;
    presence["status"] = status;
    presence["timestamp"] = timestamp(wallNow());
    return presence;
}

void ChatService::publishPresence(const std::string& key, const json::value& channel, const json::value& identity,
                                  const char* status, const Client* sender) {
    node().broker().publish(topicFor(key), frame(presenceMessage(channel, identity, status)), sender);
}

// ---- presence across nodes ----

void ChatService::onGone(const std::string& key, const std::string& identityKey) {
    auto it = channels_.find(key);
    if (it == channels_.end()) return;
    Channel& channel = it->second;
    FramePtr shared = frame(presenceMessage(channel.value, json::parse(identityKey), "left"));
    FramePtr unused;  // a presence has no offset
    for (auto& [k, member] : channel.members)
        for (Connection& connection : member.connections)
            connection.receiver.deliver(*connection.client, shared, Origin{}, unused);
}

void ChatService::announceLeft(const std::string& channelKey, const json::value& channelValue,
                               const json::value& identity, const std::string& identityKey) {
    // "left" only when no other node still has the identity in the channel.
    presence_.read(channelKey, [this, channelKey, channelValue, identity, identityKey](
                                   bool, const ClusterPresence::Members& others) {
        if (others.count(identityKey)) return;
        auto it = channels_.find(channelKey);
        if (it != channels_.end() && it->second.members.count(identityKey)) return;  // back here meanwhile
        // Published even with no member left here: other nodes' members hear it.
        publishPresence(channelKey, channelValue, identity, "left", nullptr);
    });
}

void ChatService::leaveChannel(const ClientPtr& client, const Joined& joined) {
    auto channelIt = channels_.find(joined.channelKey);
    if (channelIt == channels_.end()) return;
    Channel& channel = channelIt->second;
    auto memberIt = channel.members.find(joined.identityKey);
    if (memberIt == channel.members.end()) return;
    auto& connections = memberIt->second.connections;
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [&client](const Connection& c) { return c.client == client; }),
                      connections.end());
    if (!connections.empty()) return;  // the identity is still here on another device

    json::value identity = std::move(memberIt->second.identity);
    json::value channelValue = channel.value;
    channel.members.erase(memberIt);
    node().broker().unsubscribe(readTopic(joined.channelKey, joined.identityKey));
    presence_.remove(joined.channelKey, joined.identityKey);
    if (channel.members.empty()) {
        channels_.erase(channelIt);
        presence_.close(joined.channelKey);
        node().broker().unsubscribe(topicFor(joined.channelKey));
    }
    announceLeft(joined.channelKey, channelValue, identity, joined.identityKey);
}

// ---- deliveries ----

void ChatService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    if (topic.compare(0, readTopicPrefix_.size(), readTopicPrefix_) == 0) return deliverReceipt(topic, frame, origin);
    std::string key = topic.substr(topicPrefix_.size());
    auto it = channels_.find(key);
    if (it == channels_.end()) return;
    Channel& channel = it->second;
    bool presence = frame->payload().substr(0, presencePayloadPrefix_.size()) == presencePayloadPrefix_;
    if (presence) {
        // Keep track of who is on other nodes, to notice when their node dies.
        try {
            json::value message = json::parse(frame->payload()).at("message");
            std::string identityKey = canonicalJson(message.at("from"));
            if (message.at("status") == "joined") presence_.heard(key, identityKey, message.at("from"));
            else presence_.heardLeft(key, identityKey);
        } catch (const std::exception&) {
        }
    }
    FramePtr numbered;  // built once, for the connections that asked for offsets
    for (auto& [k, member] : channel.members) {
        // A presence is not told to its own identity (all of the sender's devices); a message is.
        if (presence && isSenderOf(member, origin)) continue;
        for (Connection& connection : member.connections)
            connection.receiver.deliver(*connection.client, frame, origin, numbered);
    }
}

void ChatService::deliverReceipt(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    std::string_view rest = std::string_view(topic).substr(readTopicPrefix_.size());
    auto cut = rest.find(kFieldSeparator);
    if (cut == std::string_view::npos) return;
    auto channel = channels_.find(std::string(rest.substr(0, cut)));
    if (channel == channels_.end()) return;
    auto member = channel->second.members.find(std::string(rest.substr(cut + 1)));
    if (member == channel->second.members.end()) return;
    for (const Connection& connection : member->second.connections)
        if (!origin.isSender(connection.client.get())) connection.client->send(frame);  // the reader knows
}

void ChatService::onDisconnect(const ClientPtr& client) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    std::vector<Joined> memberships = std::move(held->second);
    clientChannels_.erase(held);
    for (const Joined& joined : memberships) leaveChannel(client, joined);
}

json::object ChatService::stats() const {
    std::size_t members = 0, connections = 0;
    for (const auto& [key, channel] : channels_) {
        members += channel.members.size();
        for (const auto& [identity, member] : channel.members) connections += member.connections.size();
    }
    return {{"channels", channels_.size()}, {"members", members}, {"member_connections", connections}};
}

}  // namespace snorky
