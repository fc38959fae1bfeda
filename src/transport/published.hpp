#pragma once
// A listener's settings that a reload (SIGHUP) may replace while sessions on
// other threads read them with no lock: each version is immutable, and the
// current one is published through an atomic pointer. Versions are kept
// until the listener goes (a reader may still hold the one it loaded), so
// reading costs one acquire load per use, which the per-message paths need;
// a shared_ptr snapshot would cost a lock and a reference count bounced
// between every worker per message. The memory kept grows by one small
// struct per reload that changed this listener.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace snorky {

template <class T>
class Published {
public:
    explicit Published(T value) { publish(std::move(value)); }
    Published(const Published&) = delete;
    Published& operator=(const Published&) = delete;

    const T& get() const { return *current_.load(std::memory_order_acquire); }
    // Any thread; the next get() on any thread sees `value`.
    void publish(T value) {
        std::lock_guard guard(lock_);
        versions_.push_back(std::make_unique<const T>(std::move(value)));
        current_.store(versions_.back().get(), std::memory_order_release);
    }

private:
    std::mutex lock_;
    std::vector<std::unique_ptr<const T>> versions_;
    std::atomic<const T*> current_{nullptr};
};

}  // namespace snorky
