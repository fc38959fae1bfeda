#include "transport/connection_limits.hpp"

namespace snorky {

ConnectionLimits::Slot& ConnectionLimits::Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        release();
        owner_ = std::move(other.owner_);
        address_ = std::move(other.address_);
        other.owner_.reset();
    }
    return *this;
}

void ConnectionLimits::Slot::release() {
    if (!owner_) return;
    if (address_.empty()) {
        owner_->handshakes_.fetch_sub(1, std::memory_order_relaxed);
    } else {
        std::lock_guard guard(owner_->lock_);
        auto it = owner_->perAddress_.find(address_);
        if (it != owner_->perAddress_.end() && --it->second == 0) owner_->perAddress_.erase(it);
    }
    owner_.reset();
}

std::optional<ConnectionLimits::Slot> ConnectionLimits::beginHandshake() {
    Slot slot;
    const std::size_t cap = maxHandshakes_.load(std::memory_order_relaxed);
    // Only the acceptor's thread adds, so checking then adding cannot overshoot.
    if (cap != 0 && handshakes_.load(std::memory_order_relaxed) >= cap) return std::nullopt;
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    slot.owner_ = shared_from_this();
    return slot;
}

std::optional<ConnectionLimits::Slot> ConnectionLimits::admit(const std::string& address) {
    Slot slot;
    if (address.empty()) return slot;
    {
        std::lock_guard guard(lock_);
        const std::size_t cap = maxPerAddress_.load(std::memory_order_relaxed);
        std::size_t& count = perAddress_[address];
        if (cap != 0 && count >= cap) return std::nullopt;  // count > 0 here: the entry already existed
        ++count;
    }
    slot.owner_ = shared_from_this();
    slot.address_ = address;
    return slot;
}

std::size_t ConnectionLimits::connections(const std::string& address) const {
    std::lock_guard guard(lock_);
    auto it = perAddress_.find(address);
    return it == perAddress_.end() ? 0 : it->second;
}

}  // namespace snorky
