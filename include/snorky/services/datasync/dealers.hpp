#pragma once
// A Dealer decides which subscription items a row of its model concerns
// (protocol.md section 7). Each has a unique name and one model. The service
// routes an insert or delete by its data and an update by both its old and
// new data, so a dealer only answers "which items match this row".
//
// Built in: BroadcastDealer, SimpleDealer (keyed on a field), FilterDealer.
// For custom logic subclass KeyedDealer (a key computed from the row, looked
// up in an index) or PredicateDealer (any predicate, checked item by item),
// or Dealer itself for an index of your own.
//
// All calls are made with the node's service lock held.
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "snorky/protocol/json.hpp"
#include "snorky/services/datasync/filter.hpp"
#include "snorky/services/datasync/subscription.hpp"

namespace snorky::datasync {

// Receives the items a dealer found for a row.
class MatchSink {
public:
    virtual void match(SubscriptionItem& item) = 0;

protected:
    ~MatchSink() = default;
};

class Dealer {
public:
    Dealer(std::string name, std::string model) : name_(std::move(name)), model_(std::move(model)) {}
    virtual ~Dealer() = default;
    Dealer(const Dealer&) = delete;
    Dealer& operator=(const Dealer&) = delete;

    const std::string& name() const { return name_; }
    const std::string& model() const { return model_; }

    // Checks a query when the backend authorizes it and prepares what matching
    // needs (kept in the item). Throws InvalidQuery when the dealer cannot use
    // the query; the default accepts any query.
    virtual std::unique_ptr<ItemState> prepare(const json::value& query) const { return nullptr; }
    // Whether items keep their query as JSON (SubscriptionItem::query). Dealers
    // that hold all they need in the prepared state say no, saving memory.
    virtual bool keepsQuery() const { return true; }
    // An authorized item joins or leaves the dealer.
    virtual void add(SubscriptionItem& item) = 0;
    virtual void remove(SubscriptionItem& item) = 0;
    // Reports every item matching `data` to the sink, each once. The work
    // should grow with the number of matches, not of items.
    virtual void collect(const json::value& data, MatchSink& sink) const = 0;
    virtual std::size_t itemCount() const = 0;

private:
    std::string name_;
    std::string model_;
};
using DealerPtr = std::unique_ptr<Dealer>;

// An unordered list with O(1) removal: each element remembers its slot.
template <class T>
class SlotList {
public:
    void add(T& element) {
        element.slot = elements_.size();
        elements_.push_back(&element);
    }
    void remove(T& element) {
        T* last = elements_.back();
        elements_[element.slot] = last;
        last->slot = element.slot;
        elements_.pop_back();
    }
    std::size_t size() const { return elements_.size(); }
    bool empty() const { return elements_.empty(); }
    auto begin() const { return elements_.begin(); }
    auto end() const { return elements_.end(); }

private:
    std::vector<T*> elements_;
};
using ItemList = SlotList<SubscriptionItem>;

// Every item matches every row; the query is ignored.
class BroadcastDealer : public Dealer {
public:
    using Dealer::Dealer;
    bool keepsQuery() const override { return false; }
    void add(SubscriptionItem& item) override { items_.add(item); }
    void remove(SubscriptionItem& item) override { items_.remove(item); }
    void collect(const json::value& data, MatchSink& sink) const override;
    std::size_t itemCount() const override { return items_.size(); }

private:
    ItemList items_;
};

// An item matches when its query equals the key computed from the row.
// Items are indexed by canonicalJson(query), so a row costs one lookup.
class KeyedDealer : public Dealer {
public:
    using Dealer::Dealer;
    std::unique_ptr<ItemState> prepare(const json::value& query) const override;
    bool keepsQuery() const override { return false; }
    void add(SubscriptionItem& item) override;
    void remove(SubscriptionItem& item) override;
    void collect(const json::value& data, MatchSink& sink) const override;
    std::size_t itemCount() const override { return count_; }

protected:
    // canonicalJson() of the row's key, or false when the row has none.
    virtual bool keyOf(const json::value& data, std::string& key) const = 0;

private:
    std::unordered_map<std::string, ItemList> index_;
    std::size_t count_ = 0;
};

// Keyed on a field of the row, possibly nested ("owner", "team.id"). Rows
// without the field match nothing.
class SimpleDealer : public KeyedDealer {
public:
    SimpleDealer(std::string name, std::string model, std::string keyPath)
        : KeyedDealer(std::move(name), std::move(model)), keyPath_(std::move(keyPath)) {}
    const std::string& keyPath() const { return keyPath_; }

protected:
    bool keyOf(const json::value& data, std::string& key) const override;

private:
    std::string keyPath_;
};

// Queries are filter expressions (filter.hpp). Items with the same filter
// (as JSON, key order aside) share one group, evaluated once per row however
// many browsers watch that view. Groups whose filter has an equality
// condition (["==", "team", 7] alone or inside an "and") are indexed by it:
// a row looks up its own value for each indexed field and only evaluates the
// groups found there. Groups without one are evaluated for every row.
class FilterDealer : public Dealer {
public:
    // Items sharing one filter.
    struct Group {
        Group(Filter f, std::string k) : filter(std::move(f)), key(std::move(k)) {}
        Filter filter;
        std::string key;  // canonicalJson of the filter
        ItemList items;
        const Filter::Equality* indexedBy = nullptr;  // null: in the scan list
        std::size_t slot = 0;                         // in its bucket or the scan list
    };

    using Dealer::Dealer;
    std::unique_ptr<ItemState> prepare(const json::value& query) const override;
    bool keepsQuery() const override { return false; }
    void add(SubscriptionItem& item) override;
    void remove(SubscriptionItem& item) override;
    void collect(const json::value& data, MatchSink& sink) const override;
    std::size_t itemCount() const override { return count_; }

    // For tests and the benchmark.
    std::size_t groupCount() const { return groups_.size(); }
    std::size_t scannedGroupCount() const { return scan_.size(); }
    std::size_t indexedPathCount() const { return paths_.size(); }

private:
    // canonical filter -> its group
    std::unordered_map<std::string, std::unique_ptr<Group>> groups_;
    // field path -> canonical value -> groups whose filter requires that value
    std::unordered_map<std::string, std::unordered_map<std::string, SlotList<Group>>> paths_;
    SlotList<Group> scan_;
    std::size_t count_ = 0;
};

// Custom logic without an index: matches() is asked for every item, so the
// cost of a row grows with the number of items. Prefer KeyedDealer when a
// key exists.
class PredicateDealer : public Dealer {
public:
    using Dealer::Dealer;
    void add(SubscriptionItem& item) override { items_.add(item); }
    void remove(SubscriptionItem& item) override { items_.remove(item); }
    void collect(const json::value& data, MatchSink& sink) const override;
    std::size_t itemCount() const override { return items_.size(); }

protected:
    virtual bool matches(const SubscriptionItem& item, const json::value& data) const = 0;

private:
    ItemList items_;
};

}  // namespace snorky::datasync
