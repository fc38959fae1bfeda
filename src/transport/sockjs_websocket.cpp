#include "transport/sockjs_websocket.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <cerrno>

#include "snorky/protocol/utf8.hpp"
#include "transport/sockjs_framing.hpp"
#include "transport/sockjs_listener.hpp"
#include "transport/worker.hpp"

namespace snorky {

namespace asio = boost::asio;

namespace {
constexpr std::uint32_t kCloseGraceSeconds = 5;
}  // namespace

SockJsWebSocket::SockJsWebSocket(asio::ip::tcp::socket socket, SockJsListener& listener, std::string remote, bool raw,
                                 ConnectionLimits::Slot addressSlot, json::value identity)
    : SockJsClient(listener, std::move(remote)),
      socket_(std::move(socket)),
      raw_(raw),
      addressSlot_(std::move(addressSlot)) {
    setIdentity(std::move(identity));
}

void SockJsWebSocket::start(std::string acceptKey, std::string early) {
    auto me = self();
    listener_.addWebSocket(me);
    lastRead_ = lastWrite_ = listener_.now();
    auto response = std::make_shared<std::string>(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
        ws::acceptKey(acceptKey) + "\r\n\r\n");
    asio::async_write(socket_, asio::buffer(*response), [me, response](const boost::system::error_code& ec, std::size_t) {
        auto* self = static_cast<SockJsWebSocket*>(me.get());
        if (self->state_ == State::Closed) return;
        if (ec) return self->terminate();
        self->registered_ = true;
        self->listener_.registry().node().metrics().connectionsOpened.fetch_add(1, std::memory_order_relaxed);
        self->listener_.registry().clientConnected(me);
        if (!self->raw_) self->push(Frame::text("o"));
        if (!self->inbound_.empty()) {  // frames the client sent right after its request
            std::string data;
            data.swap(self->inbound_);
            self->consume(data.data(), data.size());
        }
        if (self->state_ == State::Closed) return;
        self->doWrite();
        self->readSome();
    });
    inbound_ = std::move(early);
}

void SockJsWebSocket::queue(const FramePtr& frame) {
    if (state_ != State::Open) return;
    if (raw_) return push(frame);
    // One message: the shared "a[...]" frame of this round; several queue up
    // and leave in one write anyway.
    push(listener_.webSocketFrame(frame));
}

void SockJsWebSocket::push(FramePtr frame) {
    backlog_ += frame->wire().size();
    if (backlog_ > listener_.base().maxQueueBytes && frame->opcode() != ws::Close) {
        reportSlowConsumer(backlog_);
        out_.clear();
        backlog_ = 0;
        state_ = State::Closing;
        asio::post(listener_.worker().ioc(), [me = self()] { static_cast<SockJsWebSocket*>(me.get())->terminate(); });
        return;
    }
    out_.push_back(std::move(frame));
    listener_.markDirty(self());
}

void SockJsWebSocket::write() { doWrite(); }

void SockJsWebSocket::doWrite() {
    if (writing_ || out_.empty() || state_ == State::Closed) return;
    writing_ = true;
    inflight_.swap(out_);
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(inflight_.size());
    for (const auto& frame : inflight_) {
        std::string_view wire = frame->wire();
        buffers.emplace_back(wire.data(), wire.size());
    }
    listener_.worker().countFrames(inflight_.size());
    lastWrite_ = listener_.now();
    asio::async_write(socket_, buffers, [me = self()](const boost::system::error_code& ec, std::size_t) {
        auto* self = static_cast<SockJsWebSocket*>(me.get());
        self->writing_ = false;
        bool closeSent = false;
        for (const auto& frame : self->inflight_) {
            self->backlog_ -= frame->wire().size();
            closeSent = closeSent || frame->opcode() == ws::Close;
        }
        self->inflight_.clear();
        if (self->state_ == State::Closed) return;
        if (ec) return self->terminate();
        if (closeSent) {
            boost::system::error_code ignored;
            self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        }
        self->doWrite();
    });
}

// Reads into the worker's shared buffer once the socket is readable (as
// WsSession does): an idle connection holds no read buffer of its own.
void SockJsWebSocket::readSome() {
    socket_.async_wait(asio::ip::tcp::socket::wait_read, [me = self()](const boost::system::error_code& ec) {
        auto* self = static_cast<SockJsWebSocket*>(me.get());
        if (self->state_ == State::Closed) return;
        if (ec) return self->terminate();
        Worker& worker = self->listener_.worker();
        for (int round = 0; round < 4 && self->state_ != State::Closed; ++round) {
            ssize_t n = ::recv(self->socket_.native_handle(), worker.readBuffer(), Worker::kReadBufferSize, MSG_DONTWAIT);
            if (n > 0) {
                self->lastRead_ = self->listener_.now();
                const char* data = reinterpret_cast<const char*>(worker.readBuffer());
                if (!self->inbound_.empty()) {
                    std::string joined;
                    joined.swap(self->inbound_);
                    joined.append(data, static_cast<std::size_t>(n));
                    self->consume(joined.data(), joined.size());
                } else {
                    self->consume(data, static_cast<std::size_t>(n));
                }
                if (static_cast<std::size_t>(n) < Worker::kReadBufferSize) break;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            return self->terminate();  // EOF or error
        }
        if (self->state_ != State::Closed) self->readSome();
    });
}

void SockJsWebSocket::consume(const char* data, std::size_t size) {
    std::string copy(data, size);  // unmasked in place
    auto* bytes = reinterpret_cast<std::uint8_t*>(copy.data());
    const std::size_t limit = listener_.base().maxMessageSize;
    std::size_t pos = 0;
    while (state_ != State::Closed && pos < size) {
        ws::FrameHeader header;
        auto result = ws::parseClientHeader(bytes + pos, size - pos, header);
        if (result == ws::ParseResult::Invalid) return close(ws::ProtocolError, "Protocol error");
        if (result == ws::ParseResult::NeedMore) break;
        if (!(header.opcode & 0x8)) {
            std::uint64_t total = header.payloadLength + (fragmented_ ? message_.size() : 0);
            // SockJS framing escapes: allow its overhead on top of the message limit.
            if (total > (raw_ ? limit : limit * 6 + 64)) return close(ws::TooBig, "Message too big");
        }
        if (size - pos - header.headerLength < header.payloadLength) break;
        std::uint8_t* payload = bytes + pos + header.headerLength;
        ws::unmask(payload, header.payloadLength, header.mask);
        pos += header.headerLength + header.payloadLength;
        std::string_view body(reinterpret_cast<const char*>(payload), header.payloadLength);
        if (state_ == State::Closing) {
            if (header.opcode == ws::Close) terminate();
            continue;
        }
        switch (header.opcode) {
            case ws::Text:
            case ws::Continuation:
                if ((header.opcode == ws::Text) == fragmented_)
                    return close(ws::ProtocolError, "Unexpected continuation frame");
                message_.append(body);
                fragmented_ = !header.fin;
                if (header.fin) {
                    std::string message;
                    message.swap(message_);
                    if (!onMessage(message)) return;
                }
                break;
            case ws::Binary: return close(ws::Unsupported, "Binary frames are not supported");
            case ws::Close: return close(ws::closeReply(body), "");
            case ws::Ping: push(Frame::control(ws::Pong, body)); break;
            default: break;
        }
    }
    if (state_ != State::Closed && pos < size) inbound_.assign(copy.data() + pos, size - pos);
}

bool SockJsWebSocket::onMessage(std::string_view text) {
    if (!isValidUtf8(text)) {
        close(ws::InvalidPayload, "Text is not UTF-8");
        return false;
    }
    const std::size_t limit = listener_.base().maxMessageSize;
    if (raw_) {
        if (text.size() > limit) {
            close(ws::TooBig, "Message too big");
            return false;
        }
        return receive({std::string(text)}) && state_ == State::Open;
    }
    std::vector<std::string> messages;
    auto decoded = sockjs::decodeMessages(text, true, messages);
    if (decoded == sockjs::Decode::Empty) return true;  // the protocol says: ignore
    if (decoded == sockjs::Decode::Broken) {
        // The protocol: broken JSON ends the connection at once.
        terminate();
        return false;
    }
    for (const auto& message : messages)
        if (message.size() > limit) {
            close(ws::TooBig, "Message too big");
            return false;
        }
    return receive(messages) && state_ == State::Open;
}

void SockJsWebSocket::tick(std::uint32_t now) {
    if (state_ == State::Closing) {
        if (now - closingSince_ >= kCloseGraceSeconds) terminate();
        return;
    }
    if (state_ != State::Open) return;
    const auto heartbeat = static_cast<std::uint32_t>(listener_.options().heartbeat.count());
    // A peer silent for two heartbeats plus idle_timeout has not answered our pings.
    if (now - lastRead_ >= 2 * heartbeat + static_cast<std::uint32_t>(listener_.base().idleTimeout.count()))
        return terminate();
    if (now - lastWrite_ >= heartbeat) {
        if (!raw_) push(Frame::text("h"));
        push(Frame::control(ws::Ping, ""));
    }
}

void SockJsWebSocket::close(std::uint16_t code, std::string_view reason) {
    if (state_ != State::Open) return;
    if (!raw_) push(Frame::text(sockjs::closeFrame(code, reason)));
    state_ = State::Closing;
    closingSince_ = listener_.now();
    fragmented_ = false;
    message_.clear();
    // The SockJS close frame says why; the WebSocket close carries the same.
    out_.push_back(Frame::control(ws::Close, ws::closePayload(code, reason)));
    backlog_ += out_.back()->wire().size();
    listener_.markDirty(self());
}

void SockJsWebSocket::terminate() {
    if (state_ == State::Closed) return;
    auto me = self();
    state_ = State::Closed;
    boost::system::error_code ignored;
    socket_.close(ignored);
    out_.clear();
    backlog_ = 0;
    addressSlot_.release();
    listener_.removeWebSocket(this);
    if (!registered_) return;
    registered_ = false;
    listener_.registry().node().metrics().connectionsClosed.fetch_add(1, std::memory_order_relaxed);
    listener_.registry().clientDisconnected(me);
}

}  // namespace snorky
