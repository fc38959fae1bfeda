#pragma once
// Chat (protocol.md section 6): channels of authenticated identities with
// presence, messages and read receipts across one user's devices.
//
// Presence is per identity, not per connection: Alice on a laptop and a phone
// is one member; the others see "joined" when her first connection arrives
// and "left" when her last one goes. Every command needs an identity
// ("Not authenticated"); the identity a connection had when it joined is the
// one the channel keeps.
//
// Messages and presence go through the node's Broker (topic per channel), one
// shared frame per event; read receipts through a topic per (channel,
// identity), so the reader's devices on every node get them.
//
// Across nodes (docs/scale-out.md) presence is per identity in the cluster:
// each node keeps (through ClusterPresence), in the cluster state's shared
// map "chat:<service>:presence:<channel>", one field per (identity, node)
// holding an expiry time it refreshes every presenceTtl / 3. "joined" is announced when no other node has the identity,
// "left" when its last connection in the cluster goes, and join lists every
// node's members. A node killed without a goodbye stops refreshing: each
// other node notices the expired fields on its next sweep and tells its own
// members "left". Two nodes joining the same identity at the same instant
// may both announce it (no cluster-wide lock).
//
// History (docs/history.md, opt-in per join): with `history_size` the
// channel's messages, and only they (never presence or read receipts), are
// published with history; a join asking for it gets the last messages or
// those after its `since`, and its connection sees each message's offset.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/services/cluster_presence.hpp"
#include "snorky/services/stream_receiver.hpp"

namespace snorky {

class ChatService : public RpcService, private BrokerListener {
public:
    struct Options {
        std::size_t maxChannelsPerClient = 100;  // channels one connection may join
        std::size_t maxBodyBytes = 65536;        // serialized body of one message
        // How long a node's presence outlives it (kill -9); refreshed every presenceTtl / 3.
        std::chrono::milliseconds presenceTtl{30000};
        HistoryOptions history;  // messages kept per channel; size 0: no history
    };
    // The most messages a join may ask for (`history`); more is "Invalid
    // params", up to it the channel's history_size caps it.
    static constexpr std::int64_t kMaxJoinHistory = 100000;
    // Timestamps and presence expiry follow the node's clock (Node::clock()).
    ChatService(std::string name, Options options);
    explicit ChatService(std::string name) : ChatService(std::move(name), Options{}) {}
    ~ChatService() override;

    // ISO 8601 in UTC with an explicit offset and milliseconds:
    // "2026-11-28T04:47:00.123+00:00" (the form Python's isoformat() gives).
    static std::string timestamp(std::chrono::system_clock::time_point when);

    const Options& options() const { return options_; }
    std::size_t channelCount() const { return channels_.size(); }
    // Distinct identities in the channel (0 when it does not exist).
    std::size_t memberCount(const json::value& channel) const;

protected:
    void onDisconnect(const ClientPtr& client) override;

    json::object stats() const override;

private:
    struct Connection {
        ClientPtr client;
        StreamReceiver receiver;  // how this connection gets the channel's messages (offsets or not)
    };
    struct Member {
        json::value identity;
        std::vector<Connection> connections;  // this identity's connections in the channel
    };
    struct Channel {
        json::value value;                      // the channel as clients named it
        std::map<std::string, Member> members;  // canonical identity -> member (local connections)
    };
    struct Joined {
        std::string channelKey;
        std::string identityKey;
    };

    // Commands.
    void join(const RequestPtr& req);
    void leave(Request& req);
    void sendMessage(Request& req);
    void markRead(Request& req);

    void onAttach() override;
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    // A read receipt for one identity's connections in one channel (not the reader's).
    void deliverReceipt(const std::string& topic, const FramePtr& frame, const Origin& origin);
    // The channel's entry, created (and subscribed) on its first join.
    Channel& openChannel(const std::string& key, const json::value& value);
    // Adds the connection to its identity's member; true when the identity is new here.
    bool addConnection(Channel& channel, const std::string& key, const std::string& identityKey,
                       const ClientPtr& client);
    // The other nodes' members are known: announce, answer (or read the history first).
    // `ticket`: the history read to make (0: the join asked for none).
    void onJoinRead(const RequestPtr& req, const std::string& key, const std::string& identityKey, bool newHere,
                    std::uint64_t ticket, const ClusterPresence::Members& others);
    // The join's connection, or null when it left (or is gone) meanwhile.
    Connection* connectionOf(const std::string& key, const std::string& identityKey, const Client* client);
    // The history read of a join is back: answer with it, release what was held.
    void finishJoin(const RequestPtr& req, const std::string& key, const std::string& identityKey, std::uint64_t ticket,
                    json::object answer, std::optional<HistoryRead> read);
    // A member of another node found gone: told to this node's members only (every node tells its own).
    void onGone(const std::string& key, const std::string& identityKey);
    std::string readTopic(const std::string& channelKey, const std::string& identityKey) const {
        return readTopicPrefix_ + channelKey + '\x1f' + identityKey;
    }
    void announceLeft(const std::string& channelKey, const json::value& channelValue, const json::value& identity,
                      const std::string& identityKey);
    std::string topicFor(const std::string& key) const { return topicPrefix_ + key; }
    // The client's membership of the channel named in the request, or "Not joined".
    std::vector<Joined>::iterator joined(Request& req, const std::string& key);
    json::object presenceMessage(const json::value& channel, const json::value& identity, const char* status);
    // `sender`: the connection whose identity is not told (a "joined"), or nullptr.
    void publishPresence(const std::string& key, const json::value& channel, const json::value& identity,
                         const char* status, const Client* sender);
    // Whether the member is the identity of the origin's sender (one of its connections).
    static bool isSenderOf(const Member& member, const Origin& origin);
    void leaveChannel(const ClientPtr& client, const Joined& joined);

    std::chrono::system_clock::time_point wallNow() { return node().clock().wallNow(); }

    Options options_;
    std::string topicPrefix_;
    std::string readTopicPrefix_;        // + channel + '\x1f' + identity: read receipts
    std::string presencePayloadPrefix_;  // how a presence frame of this service starts
    // Identities per (channel, node) in the cluster, "chat:<service>:presence:<channel>".
    ClusterPresence presence_;
    std::unordered_map<std::string, Channel> channels_;                      // canonical channel -> channel
    std::unordered_map<const Client*, std::vector<Joined>> clientChannels_;  // for leave, disconnect, the cap
    std::uint64_t tickets_ = 0;                                              // names history reads of joins
};

}  // namespace snorky
