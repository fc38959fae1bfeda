#include "transport/sockjs_session.hpp"

#include "snorky/protocol/ws_codec.hpp"
#include "transport/sockjs_framing.hpp"
#include "transport/sockjs_http.hpp"
#include "transport/sockjs_listener.hpp"

namespace snorky {

namespace {
constexpr std::uint16_t kAnotherConnection = 2010;
}

SockJsSession::SockJsSession(SockJsListener& listener, std::string id, std::string remote,
                             ConnectionLimits::Slot addressSlot, json::value identity)
    : SockJsClient(listener, std::move(remote)), id_(std::move(id)), addressSlot_(std::move(addressSlot)) {
    setIdentity(std::move(identity));
    detachedAt_ = lastWrite_ = listener.now();
}

void SockJsSession::open() {
    registered_ = true;
    listener_.registry().node().metrics().connectionsOpened.fetch_add(1, std::memory_order_relaxed);
    listener_.registry().clientConnected(self());
}

void SockJsSession::attach(const std::shared_ptr<SockJsHttp>& receiver) {
    if (closed_) return receiver->writeFinal(SockJsListener::wrap(closeFrame_, receiver->wire()));
    if (receiver_) {
        // The open request keeps the session; the newcomer is told and ends.
        return receiver->writeFinal(SockJsListener::wrap(
            sockjs::closeFrame(kAnotherConnection, "Another connection still open"), receiver->wire()));
    }
    receiver_ = receiver;
    if (!opened_) {
        opened_ = true;
        write(std::make_shared<const std::string>(SockJsListener::wrap("o", receiver->wire())));
    }
    // What queued meanwhile leaves at once: on a fresh poll it is the answer.
    if (receiver_ && !pending_.empty()) write();
}

void SockJsSession::detach(const SockJsHttp* receiver) {
    if (receiver_.get() != receiver) return;
    receiver_.reset();
    detachedAt_ = listener_.now();
}

bool SockJsSession::onSend(const std::vector<std::string>& messages) {
    if (closed_) return false;
    return receive(messages) && !closed_;
}

void SockJsSession::queue(const FramePtr& frame) {
    if (closed_ || slow_) return;
    pending_.push_back(frame);
    pendingBytes_ += frame->payload().size();
    std::size_t waiting = pendingBytes_ + (receiver_ ? receiver_->backlog() : 0);
    if (waiting > listener_.base().maxQueueBytes) {
        // A slow (or absent) reader must not grow our memory without bound.
        // Closed from a fresh handler: we may be inside a fan-out, under the service lock.
        reportSlowConsumer(waiting);
        pending_.clear();
        pendingBytes_ = 0;
        slow_ = true;
        disconnect(ws::PolicyViolation, "Slow consumer");
        return;
    }
    if (receiver_) listener_.markDirty(self());
}

void SockJsSession::write() {
    if (!receiver_ || pending_.empty() || closed_) return;
    auto data = listener_.framed(pending_, receiver_->wire());
    listener_.worker().countFrames(pending_.size());
    pending_.clear();
    pendingBytes_ = 0;
    write(std::move(data));
}

void SockJsSession::write(std::shared_ptr<const std::string> data) {
    auto receiver = receiver_;
    lastWrite_ = listener_.now();
    receiver->write(std::move(data));
    if (receiver->finished()) detach(receiver.get());
    else if (receiver->backlog() > listener_.base().maxQueueBytes) {
        reportSlowConsumer(receiver->backlog());
        close(ws::PolicyViolation, "Slow consumer");
    }
}

void SockJsSession::tick(std::uint32_t now) {
    if (receiver_) {
        if (!closed_ && now - lastWrite_ >= static_cast<std::uint32_t>(listener_.options().heartbeat.count()))
            write(std::make_shared<const std::string>(SockJsListener::wrap("h", receiver_->wire())));
        return;
    }
    // Strictly more whole seconds: the session lasts at least disconnect_delay.
    if (now - detachedAt_ > static_cast<std::uint32_t>(listener_.options().disconnectDelay.count())) end();
}

void SockJsSession::close(std::uint16_t code, std::string_view reason) {
    if (closed_) return;
    closed_ = true;
    closeFrame_ = sockjs::closeFrame(code, reason);
    pending_.clear();
    pendingBytes_ = 0;
    if (auto receiver = std::move(receiver_)) receiver->writeFinal(SockJsListener::wrap(closeFrame_, receiver->wire()));
    detachedAt_ = listener_.now();  // answers with the close frame for disconnect_delay from now
    // The services see the disconnect now; the session stays for
    // disconnect_delay to answer later requests with the close frame.
    unregister();
}

void SockJsSession::end() {
    auto keep = self();
    closed_ = true;
    pending_.clear();
    receiver_.reset();
    listener_.removeSession(id_);
    unregister();
}

void SockJsSession::unregister() {
    if (!registered_) return;
    registered_ = false;
    addressSlot_.release();
    listener_.registry().node().metrics().connectionsClosed.fetch_add(1, std::memory_order_relaxed);
    listener_.registry().clientDisconnected(self());
}

}  // namespace snorky
