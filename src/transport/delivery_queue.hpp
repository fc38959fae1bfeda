#pragma once
// Frames for the sessions of one I/O thread, and the sessions with frames to
// write. Other threads deliver() through a locked inbox that is posted to the
// thread once per batch, so a fan-out to many sessions of one thread costs one
// post, not one per subscriber. On the thread, sessions with something queued
// are marked dirty and flushed together after the current handler: frames
// queued in one go leave in one write per session. Worker holds one for its
// WebSocket sessions, SockJsListener one for its SockJS clients.
// Session needs queue(const FramePtr&) and flush(); the caller of markDirty()
// makes sure a session is listed once per round (its own dirty flag).
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "snorky/protocol/frame.hpp"

namespace snorky {

template <class Session>
class DeliveryQueue {
public:
    // `afterRound` runs on the thread after each round of flushes (per-thread
    // counters published, per-round caches dropped).
    DeliveryQueue(boost::asio::io_context& ioc, std::function<void()> afterRound)
        : ioc_(ioc), afterRound_(std::move(afterRound)) {}

    // Any thread.
    void deliver(std::shared_ptr<Session> session, FramePtr frame) {
        bool post;
        {
            std::lock_guard guard(inboxLock_);
            inbox_.emplace_back(std::move(session), std::move(frame));
            post = !inboxPosted_;
            inboxPosted_ = true;
        }
        if (post) boost::asio::post(ioc_, [this] { drain(); });
    }

    // The thread only.
    void markDirty(std::shared_ptr<Session> session) {
        dirty_.push_back(std::move(session));
        if (!flushPosted_) {
            flushPosted_ = true;
            boost::asio::post(ioc_, [this] { flush(); });
        }
    }

    // The thread only: writes every dirty session now.
    void flush() {
        flushPosted_ = false;
        flushing_.swap(dirty_);
        for (auto& session : flushing_) session->flush();
        flushing_.clear();
        afterRound_();
    }

private:
    void drain() {
        {
            std::lock_guard guard(inboxLock_);
            draining_.swap(inbox_);
            inboxPosted_ = false;
        }
        for (auto& [session, frame] : draining_) session->queue(frame);
        draining_.clear();
        flush();
    }

    boost::asio::io_context& ioc_;
    std::function<void()> afterRound_;

    std::mutex inboxLock_;
    std::vector<std::pair<std::shared_ptr<Session>, FramePtr>> inbox_, draining_;
    bool inboxPosted_ = false;

    std::vector<std::shared_ptr<Session>> dirty_, flushing_;
    bool flushPosted_ = false;
};

}  // namespace snorky
