#pragma once
// ClusterPresence: who is in a room on every node, for services whose
// members must be seen cluster-wide (Chat's identities in a channel,
// Cursors' cursors in a document).
//
// Each node writes its own members of a room into the engine's shared map
// "<mapPrefix><room>", one field per member with an expiry time (calendar
// ms) that it refreshes every ttl / 3. Reading a room returns the other
// nodes' live members. A node killed without a goodbye stops refreshing:
// each other node's sweep (every ttl / 3) finds its members expired and
// reports them gone through `onGone`, once, to be told to the local clients.
// After the engine reconnects (Redis restarted empty) nothing is concluded
// from a missing field for one ttl (ReconnectGrace): every node is setting
// its members again.
//
// The service keeps its own local state (connections, cursors); this keeps
// the shared entries, the members known on other nodes and the heartbeat.
// Each service lays out its map entries in its own way (Layout), unchanged
// from what nodes of earlier versions write.
//
// Threading: every call, and every callback, with the node's service lock
// held (a service's own thread discipline).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "snorky/core/broker.hpp"
#include "snorky/core/cluster_state.hpp"
#include "snorky/core/timers.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

class Node;

class ClusterPresence {
public:
    // member key -> what the service shares about it (an identity, a cursor).
    using Members = std::map<std::string, json::value>;
    // One field of the shared map, as read or written.
    struct Entry {
        std::string member;
        std::string node;          // the node id that wrote it
        std::int64_t expires = 0;  // calendar ms since 1970
        json::value data;
    };
    // A service's layout of its entries in the shared map.
    class Layout {
    public:
        virtual ~Layout() = default;
        virtual std::string field(const Entry& entry) const = 0;
        virtual std::string value(const Entry& entry) const = 0;
        // The entry of a field, or nothing for a field nobody can read (tidied up).
        virtual std::optional<Entry> parse(const std::string& field, const std::string& value) const = 0;
    };
    // A member of another node found gone by a sweep; `data` as last known.
    using OnGone = std::function<void(const std::string& room, const std::string& member, const json::value& data)>;
    // After each heartbeat's refresh of a local member (e.g. to refresh keys of its own).
    using OnRefreshed = std::function<void(const std::string& room, const std::string& member)>;
    // Other nodes' live members; ok is false when the engine could not answer.
    using OnRead = std::function<void(bool ok, const Members& others)>;

    ClusterPresence(std::string mapPrefix, std::chrono::milliseconds ttl, std::unique_ptr<Layout> layout);
    ~ClusterPresence();
    ClusterPresence(const ClusterPresence&) = delete;
    ClusterPresence& operator=(const ClusterPresence&) = delete;

    // From the service's onAttach: starts the heartbeat.
    void start(Node& node, OnGone onGone, OnRefreshed onRefreshed = {});
    std::chrono::milliseconds ttl() const { return ttl_; }

    // A room this node takes part in (swept while open); closing forgets it.
    void open(const std::string& room) { rooms_.try_emplace(room); }
    void close(const std::string& room) { rooms_.erase(room); }
    bool isOpen(const std::string& room) const { return rooms_.count(room) > 0; }

    // A local member, written with a fresh expiry (again: new data); `done`
    // runs once the engine has it (any Result), so a reply can wait for it.
    void set(const std::string& room, const std::string& member, json::value data, ClusterState::Done done = {});
    // A local member gone: its field is deleted.
    void remove(const std::string& room, const std::string& member);
    bool isLocal(const std::string& room, const std::string& member) const;

    // Other nodes' live members of a room, read now; they join the members
    // known elsewhere (for the sweep). Expired and unreadable fields are deleted.
    void read(const std::string& room, OnRead done);
    // What a message from another node said: a member arrived (or changed), or left.
    void heard(const std::string& room, const std::string& member, json::value data);
    void heardLeft(const std::string& room, const std::string& member);
    // The members known on other nodes (empty for a room not open).
    const Members& elsewhere(const std::string& room) const;

private:
    struct Room {
        Members local;      // this node's members, as shared
        Members elsewhere;  // other nodes' members seen so far
    };
    // Into the shared map with a fresh expiry.
    void write(const std::string& room, const std::string& member, const json::value& data, ClusterState::Done done);
    void heartbeat();
    void sweep(const std::string& room, ClusterState::Result result, const std::map<std::string, std::string>& fields);
    // Other nodes' live members of the fields; deletes the dead and the unreadable.
    Members live(const std::string& room, const std::map<std::string, std::string>& fields);
    std::string mapKey(const std::string& room) const { return mapPrefix_ + room; }
    std::int64_t wallMillis() const;

    std::string mapPrefix_;
    std::chrono::milliseconds ttl_;
    std::unique_ptr<Layout> layout_;
    Node* node_ = nullptr;
    OnGone onGone_;
    OnRefreshed onRefreshed_;
    Timers::Handle heartbeatTimer_ = 0;
    ReconnectGrace grace_;
    std::unordered_map<std::string, Room> rooms_;
};

}  // namespace snorky
