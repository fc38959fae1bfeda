#include "snorky/services/datasync/dealers.hpp"

namespace snorky::datasync {

void BroadcastDealer::collect(const json::value&, MatchSink& sink) const {
    for (SubscriptionItem* item : items_) sink.match(*item);
}

// ---- KeyedDealer ----

namespace {
struct KeyState : ItemState {
    std::string key;
};
}  // namespace

std::unique_ptr<ItemState> KeyedDealer::prepare(const json::value& query) const {
    auto state = std::make_unique<KeyState>();
    state->key = canonicalJson(query);
    return state;
}

void KeyedDealer::add(SubscriptionItem& item) {
    index_[static_cast<KeyState&>(*item.state).key].add(item);
    ++count_;
}

void KeyedDealer::remove(SubscriptionItem& item) {
    auto it = index_.find(static_cast<KeyState&>(*item.state).key);
    it->second.remove(item);
    if (it->second.empty()) index_.erase(it);  // keys do not outlive their items
    --count_;
}

void KeyedDealer::collect(const json::value& data, MatchSink& sink) const {
    std::string key;
    if (!keyOf(data, key)) return;
    auto it = index_.find(key);
    if (it == index_.end()) return;
    for (SubscriptionItem* item : it->second) sink.match(*item);
}

bool SimpleDealer::keyOf(const json::value& data, std::string& key) const {
    const json::value* field = findPath(data, keyPath_);
    if (!field) return false;
    key = canonicalJson(*field);
    return true;
}

// ---- FilterDealer ----

namespace {
// Until add(): the compiled filter and its key. After: only the group.
struct FilterState : ItemState {
    FilterState(Filter f, std::string k) : filter(std::move(f)), key(std::move(k)) {}
    Filter filter;
    std::string key;
    FilterDealer::Group* group = nullptr;
};
}  // namespace

std::unique_ptr<ItemState> FilterDealer::prepare(const json::value& query) const {
    Filter filter = Filter::compile(query);  // throws InvalidQuery
    return std::make_unique<FilterState>(std::move(filter), canonicalJson(query));
}

void FilterDealer::add(SubscriptionItem& item) {
    auto& state = static_cast<FilterState&>(*item.state);
    auto& slot = groups_[state.key];
    if (!slot) {
        slot = std::make_unique<Group>(std::move(state.filter), state.key);
        Group& group = *slot;
        // Of the filter's equalities, index by the one whose bucket is
        // smallest now (ties: the field with more distinct values), so that a
        // low-cardinality conjunct such as ["==", "done", false] does not
        // collect every filter.
        const Filter::Equality* best = nullptr;
        std::size_t bestSize = 0, bestDistinct = 0;
        for (const Filter::Equality& eq : group.filter.equalities()) {
            std::size_t size = 0, distinct = 0;
            if (auto path = paths_.find(eq.path); path != paths_.end()) {
                distinct = path->second.size();
                if (auto bucket = path->second.find(eq.key); bucket != path->second.end()) size = bucket->second.size();
            }
            if (!best || size < bestSize || (size == bestSize && distinct > bestDistinct)) {
                best = &eq;
                bestSize = size;
                bestDistinct = distinct;
            }
        }
        group.indexedBy = best;
        if (best)
            paths_[best->path][best->key].add(group);
        else
            scan_.add(group);
    }
    // The group holds the one compiled copy and the key.
    state.filter = Filter();
    state.key = std::string();
    state.group = slot.get();
    state.group->items.add(item);
    ++count_;
}

void FilterDealer::remove(SubscriptionItem& item) {
    auto& state = static_cast<FilterState&>(*item.state);
    Group& group = *state.group;
    group.items.remove(item);
    state.group = nullptr;
    --count_;
    if (!group.items.empty()) return;
    // Empty groups, buckets and fields go, so a row never pays for departed filters.
    if (!group.indexedBy) {
        scan_.remove(group);
    } else {
        auto path = paths_.find(group.indexedBy->path);
        auto bucket = path->second.find(group.indexedBy->key);
        bucket->second.remove(group);
        if (bucket->second.empty()) path->second.erase(bucket);
        if (path->second.empty()) paths_.erase(path);
    }
    std::string key = std::move(group.key);
    groups_.erase(key);  // destroys `group`
}

namespace {
// Walks groups with a two-stage prefetch: the group's own lines a few steps
// ahead, then its filter's nodes (reachable once the group is loaded).
template <class Fn>
void visit(const SlotList<FilterDealer::Group>& groups, Fn&& fn) {
    constexpr std::size_t kAhead = 4;
    auto first = groups.begin();
    std::size_t n = groups.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i + 2 * kAhead < n) {
            __builtin_prefetch(first[i + 2 * kAhead]);
            __builtin_prefetch(reinterpret_cast<const char*>(first[i + 2 * kAhead]) + 64);
        }
        if (i + kAhead < n) first[i + kAhead]->filter.prefetch();
        fn(*first[i]);
    }
}
}  // namespace

void FilterDealer::collect(const json::value& data, MatchSink& sink) const {
    auto report = [&](const Group& group) {
        if (!group.filter.matches(data)) return;
        for (SubscriptionItem* item : group.items) sink.match(*item);
    };
    std::string key;
    for (const auto& [path, buckets] : paths_) {
        const json::value* field = findPath(data, path);
        if (!field) continue;  // an equality on a missing field is false
        key = canonicalJson(*field);
        auto bucket = buckets.find(key);
        if (bucket == buckets.end()) continue;
        visit(bucket->second, report);
    }
    visit(scan_, report);
}

// ---- PredicateDealer ----

void PredicateDealer::collect(const json::value& data, MatchSink& sink) const {
    for (SubscriptionItem* item : items_)
        if (matches(*item, data)) sink.match(*item);
}

}  // namespace snorky::datasync
