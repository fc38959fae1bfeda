#pragma once
// A BrokerListener that records deliveries; thread-safe, since the Redis
// engine delivers from its own thread.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "snorky/core/broker.hpp"

namespace snorky::it {

class RecordingListener : public BrokerListener {
public:
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override {
        std::lock_guard guard(mutex_);
        origins_.push_back(origin);
        received_.push_back({topic, std::string(frame->payload())});
        frames_.push_back(frame);
        changed_.notify_all();
    }
    // Waits until at least `count` deliveries arrived.
    bool waitFor(std::size_t count, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
    }
    std::vector<std::pair<std::string, std::string>> received() {
        std::lock_guard guard(mutex_);
        return received_;
    }
    std::vector<std::string> payloads() {
        std::lock_guard guard(mutex_);
        std::vector<std::string> out;
        for (auto& r : received_) out.push_back(r.second);
        return out;
    }
    std::vector<Origin> origins() {
        std::lock_guard guard(mutex_);
        return origins_;
    }
    std::vector<FramePtr> frames() {
        std::lock_guard guard(mutex_);
        return frames_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<std::string, std::string>> received_;
    std::vector<FramePtr> frames_;
    std::vector<Origin> origins_;
};

}  // namespace snorky::it
