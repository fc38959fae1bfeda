#include "snorky/services/chat.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "snorky/errors.hpp"

namespace snorky {

ChatService::ChatService(std::string name, Options options, Clock clock)
    : RpcService(std::move(name)), options_(options), clock_(std::move(clock)), topicPrefix_("chat:" + this->name() + ":") {
    command("join", {required("channel")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        std::string key = canonicalJson(req.param("channel"));
        auto& held = clientChannels_[client.get()];
        bool already = std::any_of(held.begin(), held.end(), [&](const Joined& j) { return j.channelKey == key; });
        if (already || held.size() >= options_.maxChannelsPerClient) {
            if (held.empty()) clientChannels_.erase(client.get());
            throw RpcError(already ? errors::kAlreadyJoined : errors::kTooManyChannels);
        }

        auto [it, created] = channels_.try_emplace(key);
        Channel& channel = it->second;
        if (created) {
            channel.value = req.param("channel");
            node().broker().subscribe(topicFor(key), this);
        }
        std::string identityKey = canonicalJson(client->identity());
        auto member = channel.members.find(identityKey);
        if (member == channel.members.end()) {
            // Announced before the joiner is added: only those already there hear it.
            if (!created) publishPresence(key, channel, client->identity(), "joined");
            member = channel.members.emplace(identityKey, Member{client->identity(), {}}).first;
        }
        member->second.connections.push_back(client);
        held.push_back(Joined{std::move(key), std::move(identityKey)});

        json::array members;
        members.reserve(channel.members.size());
        for (const auto& [k, m] : channel.members) members.push_back(m.identity);
        return json::object{{"members", std::move(members)}};
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
        message["timestamp"] = timestamp(clock_());
        // Serialized once; the sender's connections receive it too.
        node().broker().publish(topicFor(it->channelKey), frame(message));
    });
    command("read", {required("channel")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        auto it = joined(req, canonicalJson(req.param("channel")));
        const Channel& channel = channels_.at(it->channelKey);
        const Member& member = channel.members.at(it->identityKey);
        if (member.connections.size() < 2) return;  // no other device to tell
        json::object receipt;
        receipt["type"] = "read";
        receipt["channel"] = channel.value;
        receipt["timestamp"] = timestamp(clock_());
        FramePtr shared = frame(receipt);
        for (const ClientPtr& connection : member.connections)
            if (connection != client) connection->send(shared);
    });
}

ChatService::~ChatService() {
    if (!attached()) return;
    for (const auto& [key, channel] : channels_) node().broker().unsubscribe(topicFor(key));
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
                                  const char* status) {
    json::object presence;
    presence["type"] = "presence";
    presence["from"] = identity;
    presence["channel"] = channel.value;
    presence["status"] = status;
    presence["timestamp"] = timestamp(clock_());
    node().broker().publish(topicFor(key), frame(presence));
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
    channel.members.erase(memberIt);
    if (channel.members.empty()) {
        channels_.erase(channelIt);
        node().broker().unsubscribe(topicFor(joined.channelKey));
        return;
    }
    publishPresence(joined.channelKey, channel, identity, "left");
}

void ChatService::onBrokerMessage(const std::string& topic, const FramePtr& frame) {
    auto it = channels_.find(topic.substr(topicPrefix_.size()));
    if (it == channels_.end()) return;
    for (const auto& [key, member] : it->second.members)
        for (const ClientPtr& connection : member.connections) connection->send(frame);
}

void ChatService::onDisconnect(const ClientPtr& client) {
    auto held = clientChannels_.find(client.get());
    if (held == clientChannels_.end()) return;
    std::vector<Joined> memberships = std::move(held->second);
    clientChannels_.erase(held);
    for (const Joined& joined : memberships) leaveChannel(client, joined);
}

}  // namespace snorky
