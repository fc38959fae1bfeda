#pragma once
// A Worker is one I/O thread with its own io_context. Each WebSocket session
// lives on exactly one worker; only that thread touches the session's socket
// and queue. Other threads hand frames over through the worker's delivery
// queue, so a fan-out costs one post per worker, not one per subscriber.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "snorky/core/metrics.hpp"
#include "snorky/protocol/frame.hpp"
#include "transport/delivery_queue.hpp"

namespace snorky {

class WsSession;

class Worker {
public:
    static constexpr std::size_t kReadBufferSize = 64 * 1024;

    explicit Worker(unsigned index);
    ~Worker();

    boost::asio::io_context& ioc() { return ioc_; }
    unsigned index() const { return index_; }
    // The worker running on the calling thread, or nullptr.
    static Worker* current();
    bool onThisThread() const { return current() == this; }

    void start();
    void stopNow();
    void join();

    // Any thread: queue a frame for a session of this worker.
    void deliver(std::shared_ptr<WsSession> session, FramePtr frame);
    // This thread: the session has frames to write; they are written together
    // after the current handler, so frames queued in one go leave in one write.
    void markDirty(std::shared_ptr<WsSession> session);

    // Frames written are counted per worker and added to the shared metric
    // once per flush round: one shared atomic per delivery would bounce its
    // cache line between the I/O threads.
    void setMetrics(Metrics& metrics) { metrics_ = &metrics; }
    void countFrames(std::size_t frames) { framesWritten_ += frames; }
    void publishCounts() {
        if (framesWritten_ && metrics_) metrics_->framesSent.fetch_add(framesWritten_, std::memory_order_relaxed);
        framesWritten_ = 0;
    }

    // One read buffer per worker: idle sessions hold no read buffer at all.
    std::uint8_t* readBuffer() { return readBuffer_.get(); }

    // Sessions of this worker, for the once-a-second ping/idle sweep and for
    // closing everyone at shutdown. This thread only.
    void add(WsSession* session);
    void remove(WsSession* session);
    void forEachSession(const std::function<void(WsSession&)>& fn);
    // Seconds since the worker started (the sweep's clock; cheap to compare).
    std::uint32_t now() const { return now_; }

private:
    void tick();

    unsigned index_;
    boost::asio::io_context ioc_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
    std::thread thread_;

    DeliveryQueue<WsSession> queue_{ioc_, [this] { publishCounts(); }};

    Metrics* metrics_ = nullptr;
    std::uint64_t framesWritten_ = 0;
    std::unique_ptr<std::uint8_t[]> readBuffer_;
    WsSession* sessions_ = nullptr;  // intrusive list head
    boost::asio::steady_timer tickTimer_;
    std::chrono::steady_clock::time_point started_;
    std::uint32_t now_ = 0;
};

}  // namespace snorky
