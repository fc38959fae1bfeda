#include "transport/asio_timers.hpp"

namespace snorky {

Timers::Handle AsioTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
    Handle handle = ++last_;
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, delay);
    pending_.emplace(handle, timer);
    timer->async_wait([this, handle, fn = std::move(fn)](const boost::system::error_code& ec) {
        if (ec) return;
        std::lock_guard guard(*lock_);
        // Cancelled after expiry but before the lock was ours: skip.
        if (pending_.erase(handle) == 0) return;
        fn();
    });
    return handle;
}

void AsioTimers::cancel(Handle handle) {
    auto it = pending_.find(handle);
    if (it == pending_.end()) return;
    it->second->cancel();
    pending_.erase(it);
}

void AsioTimers::cancelAll() {
    for (auto& [handle, timer] : pending_) timer->cancel();
    pending_.clear();
}

}  // namespace snorky
