#pragma once
// Timers on an Asio io_context. Callbacks take the node's service lock, as
// the Timers contract promises.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "snorky/core/timers.hpp"

namespace snorky {

class AsioTimers final : public Timers {
public:
    explicit AsioTimers(boost::asio::io_context& ioc) : ioc_(ioc) {}
    // Must be set before the first timer fires.
    void setLock(std::mutex& serviceLock) { lock_ = &serviceLock; }

    Handle schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
    void cancel(Handle handle) override;
    // Cancels every pending timer (shutdown).
    void cancelAll();

private:
    boost::asio::io_context& ioc_;
    std::mutex* lock_ = nullptr;
    Handle last_ = 0;
    std::unordered_map<Handle, std::shared_ptr<boost::asio::steady_timer>> pending_;
};

}  // namespace snorky
