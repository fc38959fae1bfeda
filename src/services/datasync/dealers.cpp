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
struct FilterState : ItemState {
    explicit FilterState(Filter f) : filter(std::move(f)) {}
    Filter filter;
    const Filter::Equality* indexedBy = nullptr;  // null: in the scan list
};
}  // namespace

std::unique_ptr<ItemState> FilterDealer::prepare(const json::value& query) const {
    return std::make_unique<FilterState>(Filter::compile(query));
}

void FilterDealer::add(SubscriptionItem& item) {
    auto& state = static_cast<FilterState&>(*item.state);
    // Of the filter's equalities, index by the one whose bucket is smallest
    // now (ties: the field with more distinct values), so that a low-cardinality
    // conjunct such as ["==", "done", false] does not collect every filter.
    const Filter::Equality* best = nullptr;
    std::size_t bestSize = 0, bestDistinct = 0;
    for (const Filter::Equality& eq : state.filter.equalities()) {
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
    state.indexedBy = best;
    if (best)
        paths_[best->path][best->key].add(item);
    else
        scan_.add(item);
    ++count_;
}

void FilterDealer::remove(SubscriptionItem& item) {
    auto& state = static_cast<FilterState&>(*item.state);
    --count_;
    if (!state.indexedBy) return scan_.remove(item);
    auto path = paths_.find(state.indexedBy->path);
    auto bucket = path->second.find(state.indexedBy->key);
    bucket->second.remove(item);
    // Empty buckets and fields go, so a row never pays for departed filters.
    if (bucket->second.empty()) path->second.erase(bucket);
    if (path->second.empty()) paths_.erase(path);
}

void FilterDealer::collect(const json::value& data, MatchSink& sink) const {
    std::string key;
    for (const auto& [path, buckets] : paths_) {
        const json::value* field = findPath(data, path);
        if (!field) continue;  // an equality on a missing field is false
        key = canonicalJson(*field);
        auto bucket = buckets.find(key);
        if (bucket == buckets.end()) continue;
        for (SubscriptionItem* item : bucket->second)
            if (static_cast<const FilterState&>(*item->state).filter.matches(data)) sink.match(*item);
    }
    for (SubscriptionItem* item : scan_)
        if (static_cast<const FilterState&>(*item->state).filter.matches(data)) sink.match(*item);
}

// ---- PredicateDealer ----

void PredicateDealer::collect(const json::value& data, MatchSink& sink) const {
    for (SubscriptionItem* item : items_)
        if (matches(*item, data)) sink.match(*item);
}

}  // namespace snorky::datasync
