#include "snorky/services/chat.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "snorky/errors.hpp"
#include "snorky/node.hpp"

namespace snorky {

ChatService::ChatService(std::string name, Options options)
    : RpcService(std::move(name)),
      options_(options),
      topicPrefix_("chat:" + this->name() + ":"),
      presenceKeyPrefix_("chat:" + this->name() + ":presence:"),
      readTopicPrefix_("chat:" + this->name() + ":read:"),  // no canonical JSON starts with 'r
      presencePayloadPrefix_("{\"service\":" + json::serialize(json::string(this->name())) +
                             ",\"message\":{\"type\":\"presence\"") {
    asyncCommand("join", {required("channel")}, [this](const RequestPtr& req) {
        const ClientPtr& client = req->client();
        if (!client->authenticated()) return req->reject(errors::kNotAuthenticated);
        std::string key = canonicalJson(req->param("channel"));
        auto& held = clientChannels_[client.get()];
        bool already = std::any_of(held.begin(), held.end(), [&](const Joined& j) { return j.channelKey == key; });
        if (already || held.size() >= options_.maxChannelsPerClient) {
            if (held.empty()) clientChannels_.erase(client.get());
            return req->reject(already ? errors::kAlreadyJoined : errors::kTooManyChannels);
        }

        auto [it, created] = channels_.try_emplace(key);
        Channel& channel = it->second;
        if (created) {
            channel.value = req->param("channel");
            node().broker().subscribe(topicFor(key), this);
        }
        std::string identityKey = canonicalJson(client->identity());
        auto member = channel.members.find(identityKey);
        bool newHere = member == channel.members.end();
        if (newHere) {
            member = channel.members.emplace(identityKey, Member{client->identity(), {}}).first;
            node().broker().subscribe(readTopic(key, identityKey), this);
            touchPresence(key, identityKey);  // before the read below, which then includes it
        }
        member->second.connections.push_back(client);
        held.push_back(Joined{key, identityKey});

        // The other nodes' members decide the announcement and the reply.
        node().broker().mapRead(presenceKey(key), [this, req, key, identityKey, newHere](
                                                      Broker::Result result, std::map<std::string, std::string> fields) {
            auto channelIt = channels_.find(key);
            if (channelIt == channels_.end()) return req->reject(errors::kNotJoined);  // left meanwhile
            Channel& channel = channelIt->second;
            std::map<std::string, json::value> everyone;
            if (result == Broker::Result::Ok) everyone = remoteMembers(key, fields);
            bool elsewhere = everyone.count(identityKey) > 0;
            for (const auto& [k, m] : everyone) channel.remote.insert(k);
            auto member = channel.members.find(identityKey);
            // New to the cluster: the others hear it (this identity's own connections do not).
            if (newHere && !elsewhere && member != channel.members.end())
                publishPresence(key, channel, member->second.identity, "joined", req->client().get());
            for (const auto& [k, m] : channel.members) everyone.emplace(k, m.identity);
            json::array members;
            members.reserve(everyone.size());
            for (auto& [k, identity] : everyone) members.push_back(std::move(identity));
            req->resolve(json::object{{"members", std::move(members)}});
        });
    });
    command("leave", {required("channel")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        auto it = joined(req, canonicalJson(req.param("channel")));
        Joined membership = std::move(*it);
        auto& held = clientChannels_[client.get()];
        held.erase(it);
        if (held.empty()) clientChannels_.erase(client.get());
        leaveChannel(client, membership);
    });
    command("send", {required("channel"), required("body")}, [this](Request& req) {
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
        node().broker().publish(topicFor(it->channelKey), frame(message), req.client().get());
    });
    command("read", {required("channel")}, [this](Request& req) {
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
    });
}

ChatService::~ChatService() {
    if (!attached()) return;
    node().timers().cancel(heartbeatTimer_);
    for (const auto& [key, channel] : channels_) {
        node().broker().unsubscribe(topicFor(key));
        for (const auto& [identityKey, member] : channel.members) node().broker().unsubscribe(readTopic(key, identityKey));
    }
}

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
                       [&](const ClientPtr& connection) { return origin.isSender(connection.get()); });
}

const ClientPtr& ChatService::authenticated(Request& req) const {
    if (!req.client()->authenticated()) throw RpcError(errors::kNotAuthenticated);
    return req.client();
}

std::vector<ChatService::Joined>::iterator ChatService::joined(Request& req, const std::string& key) {
    auto held = clientChannels_.find(req.client().get());
    if (held == clientChannels_.end()) throw RpcError(errors::kNotJoined);
    auto it = std::find_if(held->second.begin(), held->second.end(),
                           [&](const Joined& j) { return j.channelKey == key; });
    if (it == held->second.end()) throw RpcError(errors::kNotJoined);
    return it;
}

void ChatService::publishPresence(const std::string& key, const Channel& channel, const json::value& identity,
                                  const char* status, const Client* sender) {
    json::object presence;
    presence["type"] = "presence";
    presence["from"] = identity;
    presence["channel"] = channel.value;
    presence["status"] = status;
    presence["timestamp"] = timestamp(wallNow());
    node().broker().publish(topicFor(key), frame(presence), sender);
}

namespace {
constexpr char kFieldSeparator = '\x1f';  // never inside canonical JSON (control characters are escaped)

std::int64_t epochMillis(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

std::string ChatService::field(const std::string& identityKey) {
    return identityKey + kFieldSeparator + node().broker().nodeId();
}

void ChatService::touchPresence(const std::string& channelKey, const std::string& identityKey) {
    std::string expires = std::to_string(epochMillis(wallNow()) + options_.presenceTtl.count());
    node().broker().mapSet(presenceKey(channelKey), field(identityKey), expires, options_.presenceTtl);
}

std::map<std::string, json::value> ChatService::remoteMembers(const std::string& channelKey,
                                                              const std::map<std::string, std::string>& fields) {
    std::map<std::string, json::value> out;
    const std::string& self = node().broker().nodeId();
    std::int64_t now = epochMillis(wallNow());
    for (const auto& [name, value] : fields) {
        auto cut = name.rfind(kFieldSeparator);
        if (cut == std::string::npos) continue;
        std::int64_t expires = 0;
        try {
            expires = std::stoll(value);
        } catch (const std::exception&) {
        }
        if (expires <= now) {
            node().broker().mapDelete(presenceKey(channelKey), name);  // a node that died: tidy up
            continue;
        }
        if (std::string_view(name).substr(cut + 1) == self) continue;
        std::string identityKey = name.substr(0, cut);
        if (out.count(identityKey)) continue;
        try {
            out.emplace(identityKey, json::parse(identityKey));
        } catch (const std::exception&) {
        }
    }
    return out;
}

void ChatService::onAttach() {
    heartbeatTimer_ = node().timers().schedule(options_.presenceTtl / 3, [this] { heartbeat(); });
}

void ChatService::heartbeat() {
    grace_.observe(node().broker(), node().clock().now(), options_.presenceTtl);
    for (auto& [key, channel] : channels_) {
        for (const auto& [identityKey, member] : channel.members) touchPresence(key, identityKey);
        // Identities whose node stopped refreshing: tell our members they left.
        node().broker().mapRead(presenceKey(key), [this, key = key](Broker::Result result,
                                                                     std::map<std::string, std::string> fields) {
            if (result != Broker::Result::Ok) return;  // engine down: decide nothing
            auto it = channels_.find(key);
            if (it == channels_.end()) return;
            Channel& channel = it->second;
            std::map<std::string, json::value> live = remoteMembers(key, fields);
            if (grace_.active(node().clock().now())) {
                for (auto& [identityKey, identity] : live) channel.remote.insert(identityKey);
                return;  // the others may not have set their presence again yet
            }
            std::set<std::string> gone;
            for (const std::string& identityKey : channel.remote)
                if (!live.count(identityKey) && !channel.members.count(identityKey)) gone.insert(identityKey);
            channel.remote.clear();
            for (auto& [identityKey, identity] : live) channel.remote.insert(identityKey);
            for (const std::string& identityKey : gone) {
                json::object presence;
                presence["type"] = "presence";
                presence["from"] = json::parse(identityKey);
                presence["channel"] = channel.value;
                presence["status"] = "left";
                presence["timestamp"] = timestamp(wallNow());
                FramePtr shared = frame(presence);  // to this node's members only: every node does its own
                for (const auto& [k, member] : channel.members)
                    for (const ClientPtr& connection : member.connections) connection->send(shared);
            }
        });
    }
    heartbeatTimer_ = node().timers().schedule(options_.presenceTtl / 3, [this] { heartbeat(); });
}

void ChatService::announceLeft(const std::string& channelKey, const json::value& channelValue,
                               const json::value& identity, const std::string& identityKey) {
    // "left" only when no other node still has the identity in the channel.
    node().broker().mapRead(presenceKey(channelKey), [this, channelKey, channelValue, identity, identityKey](
                                                          Broker::Result result, std::map<std::string, std::string> fields) {
        if (result == Broker::Result::Ok && remoteMembers(channelKey, fields).count(identityKey)) return;
        auto it = channels_.find(channelKey);
        if (it != channels_.end() && it->second.members.count(identityKey)) return;  // back here meanwhile
        json::object presence;
        presence["type"] = "presence";
        presence["from"] = identity;
        presence["channel"] = channelValue;
        presence["status"] = "left";
        presence["timestamp"] = timestamp(wallNow());
        // Published even with no member left here: other nodes' members hear it.
        node().broker().publish(topicFor(channelKey), frame(presence), nullptr);
    });
}

void ChatService::leaveChannel(const ClientPtr& client, const Joined& joined) {
    auto channelIt = channels_.find(joined.channelKey);
    if (channelIt == channels_.end()) return;
    Channel& channel = channelIt->second;
    auto memberIt = channel.members.find(joined.identityKey);
    if (memberIt == channel.members.end()) return;
    auto& connections = memberIt->second.connections;
    connections.erase(std::remove(connections.begin(), connections.end(), client), connections.end());
    if (!connections.empty()) return;  // the identity is still here on another device

    json::value identity = std::move(memberIt->second.identity);
    json::value channelValue = channel.value;
    channel.members.erase(memberIt);
    node().broker().unsubscribe(readTopic(joined.channelKey, joined.identityKey));
    node().broker().mapDelete(presenceKey(joined.channelKey), field(joined.identityKey));
    if (channel.members.empty()) {
        channels_.erase(channelIt);
        node().broker().unsubscribe(topicFor(joined.channelKey));
    }
    announceLeft(joined.channelKey, channelValue, identity, joined.identityKey);
}

void ChatService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    if (topic.compare(0, readTopicPrefix_.size(), readTopicPrefix_) == 0) {
        // A read receipt for one identity's connections in one channel.
        std::string_view rest = std::string_view(topic).substr(readTopicPrefix_.size());
        auto cut = rest.find('\x1f');
        if (cut == std::string_view::npos) return;
        auto channel = channels_.find(std::string(rest.substr(0, cut)));
        if (channel == channels_.end()) return;
        auto member = channel->second.members.find(std::string(rest.substr(cut + 1)));
        if (member == channel->second.members.end()) return;
        for (const ClientPtr& connection : member->second.connections)
            if (!origin.isSender(connection.get())) connection->send(frame);  // the reader knows
        return;
    }
    auto it = channels_.find(topic.substr(topicPrefix_.size()));
    if (it == channels_.end()) return;
    Channel& channel = it->second;
    bool presence = frame->payload().substr(0, presencePayloadPrefix_.size()) == presencePayloadPrefix_;
    if (presence) {
        // Keep track of who is on other nodes, to notice when their node dies.
        try {
            json::value message = json::parse(frame->payload()).at("message");
            std::string identityKey = canonicalJson(message.at("from"));
            if (message.at("status") == "joined") channel.remote.insert(identityKey);
            else channel.remote.erase(identityKey);
        } catch (const std::exception&) {
        }
    }
    for (const auto& [key, member] : channel.members) {
        // A presence is not told to its own identity (all of the sender's devices); a message is.
        if (presence && isSenderOf(member, origin)) continue;
        for (const ClientPtr& connection : member.connections) connection->send(frame);
    }
}

void ChatService::onDisconnect(const ClientPtr& client) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    std::vector<Joined> memberships = std::move(held->second);
    clientChannels_.erase(held);
    for (const Joined& joined : memberships) leaveChannel(client, joined);
}

}  // namespace snorky
