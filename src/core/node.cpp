#include "snorky/node.hpp"

namespace snorky {

void Node::drop(const ClientPtr& client, DropReason reason) {
    metrics_.messagesDropped.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t suppressed = 0;
    bool allowed;
    {
        std::lock_guard guard(dropLogLock_);
        allowed = dropLog_.allow(suppressed);
    }
    if (allowed) {
        SNORKY_LOG(Warn, "dropped message from " << client->remoteAddress() << ": " << describe(reason)
                                                 << (suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : ""));
    }
    client->onDropped(reason);
}

}  // namespace snorky
