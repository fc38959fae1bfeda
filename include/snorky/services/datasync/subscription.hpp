#pragma once
// A Subscription is what the backend authorized for one browser view: a
// token, a list of items (a dealer and a query each) and, once acquired over
// WebSocket, the client that receives the deltas. Until then, deltas wait in
// a bounded buffer. DataSyncService owns subscriptions; dealers only point at
// their items.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snorky/core/client.hpp"
#include "snorky/core/timers.hpp"
#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky::datasync {

class Dealer;
struct Subscription;

// What a dealer keeps per item (a compiled query, an index key). Dealers
// subclass it; the item owns it.
struct ItemState {
    virtual ~ItemState() = default;
};

struct SubscriptionItem {
    SubscriptionItem(Subscription& subscription, Dealer& dealer, json::value query, std::unique_ptr<ItemState> state)
        : subscription(&subscription), dealer(&dealer), query(std::move(query)), state(std::move(state)) {}

    Subscription* subscription;
    Dealer* dealer;
    json::value query;                 // null unless the dealer keepsQuery()
    std::unique_ptr<ItemState> state;  // from Dealer::prepare(query)
    std::size_t slot = 0;              // the item's position in its dealer's ItemList
};

struct Subscription {
    std::string token;
    ClientPtr client;                     // null until acquired
    std::vector<SubscriptionItem> items;  // never resized once dealers point at them
    std::vector<FramePtr> buffer;         // deltas that arrived before acquisition
    Timers::Handle expiry = 0;            // acquisition deadline, while not acquired

    // Scratch for routing one delta: which pass last saw this subscription and
    // whether its items matched the old and/or new data.
    std::uint64_t epoch = 0;
    std::uint8_t matched = 0;
};

}  // namespace snorky::datasync
