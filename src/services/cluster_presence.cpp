#include "snorky/services/cluster_presence.hpp"

#include <vector>

#include "snorky/core/node.hpp"

namespace snorky {

ClusterPresence::ClusterPresence(std::string mapPrefix, std::chrono::milliseconds ttl, std::unique_ptr<Layout> layout)
    : mapPrefix_(std::move(mapPrefix)), ttl_(ttl), layout_(std::move(layout)) {}

ClusterPresence::~ClusterPresence() {
    if (node_) node_->timers().cancel(heartbeatTimer_);
}

void ClusterPresence::start(Node& node, OnGone onGone, OnRefreshed onRefreshed) {
    node_ = &node;
    onGone_ = std::move(onGone);
    onRefreshed_ = std::move(onRefreshed);
    heartbeatTimer_ = node_->timers().schedule(ttl_ / 3, [this] { heartbeat(); });
}

std::int64_t ClusterPresence::wallMillis() const {
    // Calendar time: the expiry stamps are read by other nodes.
    return std::chrono::duration_cast<std::chrono::milliseconds>(node_->clock().wallNow().time_since_epoch()).count();
}

// ---- this node's members ----

void ClusterPresence::set(const std::string& room, const std::string& member, json::value data, ClusterState::Done done) {
    write(room, member, data, std::move(done));
    auto it = rooms_.find(room);
    if (it != rooms_.end()) it->second.local[member] = std::move(data);
}

void ClusterPresence::write(const std::string& room, const std::string& member, const json::value& data,
                            ClusterState::Done done) {
    Entry entry{member, node_->broker().nodeId(), wallMillis() + ttl_.count(), data};
    node_->cluster().mapSet(mapKey(room), layout_->field(entry), layout_->value(entry), ttl_, std::move(done));
}

void ClusterPresence::remove(const std::string& room, const std::string& member) {
    node_->cluster().mapDelete(mapKey(room), layout_->field(Entry{member, node_->broker().nodeId(), 0, nullptr}));
    auto it = rooms_.find(room);
    if (it != rooms_.end()) it->second.local.erase(member);
}

bool ClusterPresence::isLocal(const std::string& room, const std::string& member) const {
    auto it = rooms_.find(room);
    return it != rooms_.end() && it->second.local.count(member) > 0;
}

// ---- other nodes' members ----

void ClusterPresence::read(const std::string& room, OnRead done) {
    node_->cluster().mapRead(mapKey(room), [this, room, done = std::move(done)](
                                              ClusterState::Result result, std::map<std::string, std::string> fields) {
        Members others;
        if (result == ClusterState::Result::Ok) others = live(room, fields);
        auto it = rooms_.find(room);
        if (it != rooms_.end())
            for (const auto& [member, data] : others) it->second.elsewhere[member] = data;
        done(result == ClusterState::Result::Ok, others);
    });
}

void ClusterPresence::heard(const std::string& room, const std::string& member, json::value data) {
    auto it = rooms_.find(room);
    if (it != rooms_.end()) it->second.elsewhere[member] = std::move(data);
}

void ClusterPresence::heardLeft(const std::string& room, const std::string& member) {
    auto it = rooms_.find(room);
    if (it != rooms_.end()) it->second.elsewhere.erase(member);
}

const ClusterPresence::Members& ClusterPresence::elsewhere(const std::string& room) const {
    static const Members none;
    auto it = rooms_.find(room);
    return it == rooms_.end() ? none : it->second.elsewhere;
}

ClusterPresence::Members ClusterPresence::live(const std::string& room, const std::map<std::string, std::string>& fields) {
    Members out;
    const std::string& self = node_->broker().nodeId();
    std::int64_t now = wallMillis();
    for (const auto& [field, value] : fields) {
        std::optional<Entry> entry = layout_->parse(field, value);
        bool ours = entry && entry->node == self;
        // Tidy up after the dead, the unreadable, and ours that should be gone.
        if (!entry || entry->expires <= now || (ours && !isLocal(room, entry->member))) {
            node_->cluster().mapDelete(mapKey(room), field);
            continue;
        }
        if (!ours) out.emplace(std::move(entry->member), std::move(entry->data));  // the first node's wins
    }
    return out;
}

// ---- heartbeat ----

void ClusterPresence::heartbeat() {
    grace_.observe(node_->cluster(), node_->clock().now(), ttl_);
    std::vector<std::string> rooms;  // a sweep may close rooms (the memory engine answers at once)
    rooms.reserve(rooms_.size());
    for (const auto& [room, state] : rooms_) rooms.push_back(room);
    for (const std::string& room : rooms) {
        auto it = rooms_.find(room);
        if (it == rooms_.end()) continue;
        for (const auto& [member, data] : it->second.local) {
            write(room, member, data, {});
            if (onRefreshed_) onRefreshed_(room, member);
        }
        node_->cluster().mapRead(mapKey(room), [this, room](ClusterState::Result result,
                                                           std::map<std::string, std::string> fields) {
            sweep(room, result, fields);
        });
    }
    heartbeatTimer_ = node_->timers().schedule(ttl_ / 3, [this] { heartbeat(); });
}

void ClusterPresence::sweep(const std::string& room, ClusterState::Result result,
                            const std::map<std::string, std::string>& fields) {
    if (result != ClusterState::Result::Ok) return;  // engine down: decide nothing
    if (!rooms_.count(room)) return;
    Members alive = live(room, fields);
    Room& state = rooms_.at(room);
    if (grace_.active(node_->clock().now())) {
        for (auto& [member, data] : alive) state.elsewhere[member] = std::move(data);
        return;  // the others may not have set their members again yet
    }
    Members gone;
    for (auto& [member, data] : state.elsewhere)
        if (!alive.count(member) && !state.local.count(member)) gone.emplace(member, std::move(data));
    state.elsewhere = std::move(alive);
    // onGone may change rooms_ (e.g. a client told of it disconnects): by key, not by reference.
    for (const auto& [member, data] : gone) onGone_(room, member, data);
}

}  // namespace snorky
