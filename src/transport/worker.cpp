#include "transport/worker.hpp"

#include "transport/ws_session.hpp"

namespace snorky {
namespace {
thread_local Worker* currentWorker = nullptr;
}

Worker::Worker(unsigned index)
    : index_(index), readBuffer_(new std::uint8_t[kReadBufferSize]), tickTimer_(ioc_) {
    guard_.emplace(ioc_.get_executor());
}

Worker::~Worker() {
    stopNow();
    join();
}

Worker* Worker::current() { return currentWorker; }

void Worker::start() {
    started_ = std::chrono::steady_clock::now();
    tick();
    thread_ = std::thread([this] {
        currentWorker = this;
        ioc_.run();
        currentWorker = nullptr;
    });
}

void Worker::stopNow() {
    guard_.reset();
    ioc_.stop();
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

// Out of line: the queue's code needs the whole WsSession.
void Worker::deliver(std::shared_ptr<WsSession> session, FramePtr frame) {
    queue_.deliver(std::move(session), std::move(frame));
}

void Worker::markDirty(std::shared_ptr<WsSession> session) { queue_.markDirty(std::move(session)); }

void Worker::add(WsSession* session) {
    session->next_ = sessions_;
    session->prev_ = nullptr;
    if (sessions_) sessions_->prev_ = session;
    sessions_ = session;
}

void Worker::remove(WsSession* session) {
    if (session->prev_) session->prev_->next_ = session->next_;
    else if (sessions_ == session) sessions_ = session->next_;
    else return;  // not listed
    if (session->next_) session->next_->prev_ = session->prev_;
    session->prev_ = session->next_ = nullptr;
}

void Worker::forEachSession(const std::function<void(WsSession&)>& fn) {
    for (WsSession* s = sessions_; s;) {
        WsSession* next = s->next_;  // fn may unlink s
        fn(*s);
        s = next;
    }
}

void Worker::tick() {
    now_ = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
    forEachSession([this](WsSession& s) { s.sweep(now_); });
    tickTimer_.expires_after(std::chrono::seconds(1));
    tickTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

}  // namespace snorky
