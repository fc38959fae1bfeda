#include "transport/ws_session.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <array>
#include <cerrno>

#include "snorky/core/log.hpp"
#include "snorky/protocol/errors.hpp"
#include "snorky/protocol/utf8.hpp"
#include "transport/rate_limited_reply.hpp"
#include "transport/tls_socket.hpp"
#include "transport/upgrade_request.hpp"
#include "transport/ws_listener.hpp"

namespace snorky {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Handshake {
    Handshake(asio::io_context& ioc, ConnectionLimits::Slot slot) : timer(ioc), slot(std::move(slot)) {}
    beast::flat_buffer buffer{8192};
    std::optional<http::request_parser<http::empty_body>> parser;
    asio::steady_timer timer;
    std::string response;
    ConnectionLimits::Slot slot;  // max_handshakes: given back with the handshake
};

namespace {
log::RateLimit slowConsumerLog;
std::mutex slowConsumerLogLock;
log::RateLimit abuseLog;
std::mutex abuseLogLock;

bool allowAbuseLog() {
    std::uint64_t suppressed = 0;
    std::lock_guard guard(abuseLogLock);
    return abuseLog.allow(suppressed);
}

constexpr int kMaxIov = 64;
// wss://: queued frames are joined into one record's worth of plaintext
// (16 KB, TLS's largest record) so that a burst of small frames leaves in
// few records and send()s; the buffer is the thread's, not the connection's.
constexpr std::size_t kTlsChunk = 16 * 1024;
thread_local std::array<char, kTlsChunk> tlsChunk;
constexpr std::uint32_t kCloseGraceSeconds = 5;
}  // namespace

WsSession::WsSession(asio::ip::tcp::socket socket, WsListener& listener, Worker& worker, std::string remote,
                     ConnectionLimits::Slot handshakeSlot, std::shared_ptr<asio::ssl::context> tls)
    : Client(std::move(remote)),
      socket_(std::move(socket)),
      listener_(listener),
      worker_(worker),
      handshake_(std::make_unique<Handshake>(worker.ioc(), std::move(handshakeSlot))) {
    if (tls) tls_ = std::make_unique<TlsSocket>(socket_, std::move(tls));
}

template <class F>
void WsSession::withStream(F&& f) {
    if (tls_) f(*tls_);
    else f(socket_);
}

WsSession::~WsSession() = default;

void WsSession::start() {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    handshake_->timer.expires_after(listener_.options().handshakeTimeout);
    handshake_->timer.async_wait([self = self()](const boost::system::error_code& ec) {
        if (!ec && self->state_ == State::Handshake) self->terminate();
    });
    if (!tls_) return readRequest();
    // The handshake timeout covers the TLS handshake too: a peer stalling in
    // it is cut off like one stalling in its HTTP request.
    tls_->async_handshake([self = self()](const boost::system::error_code& ec) {
        if (self->state_ != State::Handshake) return;
        if (ec) {
            SNORKY_LOG(Debug, "TLS handshake with " << self->remoteAddress() << " failed: " << ec.message());
            return self->terminate();
        }
        self->readRequest();
    });
}

// ---------------------------------------------------------------- handshake

void WsSession::readRequest() {
    handshake_->parser.emplace();
    handshake_->parser->header_limit(kMaxUpgradeHeader);
    withStream([this](auto& stream) {
        http::async_read(stream, handshake_->buffer, *handshake_->parser,
                         [self = self()](const boost::system::error_code& ec, std::size_t) {
                             if (self->state_ != State::Handshake) return;
                             if (ec) return self->terminate();
                             self->onRequest();
                         });
    });
}

void WsSession::respond(unsigned status, std::string_view body, bool keepAlive, std::string_view extraHeaders,
                        bool omitBody) {
    auto& response = handshake_->response;
    response = "HTTP/1.1 " + std::to_string(status) + " ";
    response += http::obsolete_reason(http::int_to_status(status));
    response += "\r\n";
    response += extraHeaders;
    response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    response += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!omitBody) response += body;
    withStream([&](auto& stream) {
        asio::async_write(stream, asio::buffer(response), [self = self(), keepAlive](const boost::system::error_code& ec, std::size_t) {
            if (self->state_ != State::Handshake) return;
            if (ec || !keepAlive) {
                if (self->tls_ && !ec) self->tls_->shutdown();
                boost::system::error_code ignored;
                self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                return self->terminate();
            }
            self->readRequest();
        });
    });
}

void WsSession::refuse(unsigned status, std::string_view error) {
    json::object body{{"error", error}};
    respond(status, json::serialize(body), false, "Content-Type: application/json\r\n");
}

void WsSession::onRequest() {
    auto& request = handshake_->parser->get();
    UpgradeDecision decision = decideUpgrade(request, listener_.options());
    if (decision.kind == UpgradeDecision::Kind::NotUpgrade) {
        bool keepAlive = request.keep_alive();
        bool readOnly = request.method() == http::verb::get || request.method() == http::verb::head;
        if (readOnly && listener_.staticFiles()) {
            if (auto file = listener_.staticFiles()->lookup(decision.path)) {
                std::string headers = "Content-Type: " + file->contentType + "\r\nCache-Control: no-cache\r\n";
                return respond(200, file->body, keepAlive, headers, request.method() == http::verb::head);
            }
        }
    }
    if (decision.kind != UpgradeDecision::Kind::Accept) {
        if (decision.error.empty()) return respond(decision.status, "", false, decision.extraHeaders);
        return refuse(decision.status, decision.error);
    }
    std::vector<std::string_view> forwardedFor;
    auto [first, last] = request.equal_range("X-Forwarded-For");
    for (auto field = first; field != last; ++field) forwardedFor.push_back(field->value());
    if (!admitAddress(forwardedFor)) return refuse(429, errors::kTooManyConnections);
    if (decision.deflate.accepted)
        deflateMax_ = static_cast<std::uint32_t>(std::min<std::size_t>(decision.deflate.maxCompressedPayload, UINT32_MAX));
    accept(decision.key, std::move(decision.identity), decision.deflate.response);
}

// The client's address (through a trusted proxy: the one it reports), which
// the Client then reports and logs show; and its place under
// max_connections_per_ip. False when that address has no place left.
bool WsSession::admitAddress(const std::vector<std::string_view>& forwardedFor) {
    const TrustedProxies& proxies = listener_.trustedProxies();
    const std::size_t cap = listener_.options().maxConnectionsPerIp;
    boost::system::error_code ec;
    auto peer = socket_.remote_endpoint(ec);
    if (ec) return true;  // the peer is gone: the write of the answer will fail
    asio::ip::address client = canonicalAddress(peer.address());
    if (!proxies.empty()) {
        asio::ip::address forwarded = proxies.clientAddress(peer.address(), forwardedFor);
        if (forwarded != client) setRemoteAddress(forwarded.to_string());
        client = forwarded;
    }
    auto slot = listener_.limits().admit(client.to_string());
    if (!slot) {
        listener_.registry().node().metrics().perIpRefused.fetch_add(1, std::memory_order_relaxed);
        if (allowAbuseLog())
            SNORKY_LOG(Warn, "refusing a connection from " << remoteAddress() << ": " << cap
                                                           << " already open (max_connections_per_ip)");
        return false;
    }
    addressSlot_ = std::move(*slot);
    return true;
}

void WsSession::accept(std::string_view key, json::value identity, std::string_view extensions) {
    handshake_->response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: " + ws::acceptKey(key) + "\r\n";
    if (!extensions.empty()) handshake_->response += "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
    handshake_->response += "\r\n";
    setIdentity(std::move(identity));
    withStream([this](auto& stream) {
        asio::async_write(stream, asio::buffer(handshake_->response), [self = self()](const boost::system::error_code& ec, std::size_t) {
            if (self->state_ != State::Handshake) return;
            if (ec) return self->terminate();
            // Bytes the client sent right after its request are already frames.
            std::string early(static_cast<const char*>(self->handshake_->buffer.data().data()),
                              self->handshake_->buffer.size());
            self->handshake_.reset();  // frees the parser and buffer: idle sessions hold none
            self->state_ = State::Open;
            self->lastSeen_ = self->worker_.now();
            self->rateLimiter_.start(self->listener_.rateLimit(), self->lastSeen_);
            self->worker_.add(self.get());
            self->listener_.registry().node().metrics().connectionsOpened.fetch_add(1, std::memory_order_relaxed);
            self->listener_.registry().clientConnected(self);
            if (!early.empty()) self->consume(reinterpret_cast<std::uint8_t*>(early.data()), early.size());
            if (self->state_ != State::Closed) self->waitReadable();
        });
    });
}

// ---------------------------------------------------------------- reading

void WsSession::waitReadable() {
    if (tls_) {
        // Bytes OpenSSL already decrypted would never make the socket readable.
        if (tls_->pending())
            return asio::post(worker_.ioc(), [self = self()] {
                if (self->state_ != State::Closed) self->onTlsReadable();
            });
        return waitTlsReadable(false);
    }
    socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = self()](const boost::system::error_code& ec) {
        if (self->state_ == State::Closed) return;
        if (ec) return self->terminate();
        self->onReadable();
    });
}

void WsSession::onReadable() {
    std::uint8_t* buffer = worker_.readBuffer();
    for (int round = 0; round < 4 && state_ != State::Closed; ++round) {
        ssize_t n = ::recv(socket_.native_handle(), buffer, Worker::kReadBufferSize, MSG_DONTWAIT);
        if (n > 0) {
            lastSeen_ = worker_.now();
            pingOutstanding_ = false;  // any traffic proves the peer alive
            consume(buffer, static_cast<std::size_t>(n));
            if (static_cast<std::size_t>(n) < Worker::kReadBufferSize) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return terminate();  // EOF or error
    }
    if (state_ != State::Closed) waitReadable();
}

void WsSession::consume(std::uint8_t* data, std::size_t size) {
    std::string buffered;
    if (!partial_.empty()) {
        partial_.append(reinterpret_cast<const char*>(data), size);
        buffered.swap(partial_);
        data = reinterpret_cast<std::uint8_t*>(buffered.data());
        size = buffered.size();
    }
    const std::size_t limit = listener_.options().maxMessageSize;
    std::size_t pos = 0;
    while ((state_ == State::Open || state_ == State::Closing) && pos < size) {
        ws::FrameHeader header;
        auto result = ws::parseClientHeader(data + pos, size - pos, header, deflateMax_ != 0);
        if (result == ws::ParseResult::Invalid) return close(ws::ProtocolError, "Protocol error");
        if (result == ws::ParseResult::NeedMore) break;
        if (!(header.opcode & 0x8)) {
            // Checked before the payload arrives, so an oversized frame is never buffered.
            std::uint64_t total = header.payloadLength + (fragmented_ ? message_.size() : 0);
            if (total > limit) return close(ws::TooBig, "Message too big");
        }
        if (size - pos - header.headerLength < header.payloadLength) break;
        std::uint8_t* payload = data + pos + header.headerLength;
        ws::unmask(payload, header.payloadLength, header.mask);
        pos += header.headerLength + header.payloadLength;
        if (!handleFrame(header, payload)) return;
    }
    if (state_ != State::Closed && pos < size) partial_.assign(reinterpret_cast<const char*>(data) + pos, size - pos);
}

bool WsSession::handleFrame(const ws::FrameHeader& header, std::uint8_t* payload) {
    std::string_view body(reinterpret_cast<const char*>(payload), header.payloadLength);
    if (state_ == State::Closing) {
        // We said goodbye: only the peer's close matters now.
        if (header.opcode == ws::Close) terminate();
        return state_ != State::Closed;
    }
    switch (header.opcode) {
        case ws::Text:
            if (fragmented_) { close(ws::ProtocolError, "Expected a continuation frame"); return false; }
            if (header.fin) return receiveText(body, header.compressed);
            fragmented_ = true;
            compressedMessage_ = header.compressed;
            message_.assign(body);
            return state_ == State::Open;
        case ws::Continuation:
            if (!fragmented_) { close(ws::ProtocolError, "Unexpected continuation frame"); return false; }
            message_.append(body);
            if (header.fin) {
                fragmented_ = false;
                std::string message;
                message.swap(message_);
                return receiveText(message, compressedMessage_);
            }
            return state_ == State::Open;
        case ws::Binary:
            close(ws::Unsupported, "Binary frames are not supported");
            return false;
        case ws::Close:
            close(ws::closeReply(body), "");  // echo (or 1002), then close TCP once it is written
            return false;
        case ws::Ping:
            queue(Frame::control(ws::Pong, body));
            return true;
        case ws::Pong:
            return true;
    }
    return true;
}

// A whole text message (compressed fragments are inflated together: the
// deflate stream runs across them).
bool WsSession::receiveText(std::string_view text, bool compressed) {
    std::string inflated;
    if (compressed) {
        switch (ws::inflateMessage(text, listener_.options().maxMessageSize, inflated)) {
            case ws::InflateResult::Ok: text = inflated; break;
            case ws::InflateResult::TooBig: close(ws::TooBig, "Message too big"); return false;
            case ws::InflateResult::Invalid: close(ws::InvalidPayload, "Invalid compressed data"); return false;
        }
    }
    // The whole message: a character may straddle two fragments.
    if (!isValidUtf8(text)) { close(ws::InvalidPayload, "Text is not UTF-8"); return false; }
    if (admitMessage(text)) listener_.registry().processMessage(self(), text);
    return state_ == State::Open;
}

// Over the rate limit a message is answered "Rate limited" and not processed;
// a connection that stays over it is closed with 1008.
bool WsSession::admitMessage(std::string_view text) {
    auto& metrics = listener_.registry().node().metrics();
    switch (rateLimiter_.admit(listener_.rateLimit(), worker_.now())) {
        case RateLimiter::Verdict::Allow:
            return true;
        case RateLimiter::Verdict::Refuse:
            metrics.rateLimited.fetch_add(1, std::memory_order_relaxed);
            if (FramePtr reply = rateLimitedReply(text, listener_.registry())) queue(reply);
            return false;
        case RateLimiter::Verdict::Disconnect:
            metrics.rateLimited.fetch_add(1, std::memory_order_relaxed);
            metrics.rateLimitDisconnects.fetch_add(1, std::memory_order_relaxed);
            if (allowAbuseLog())
                SNORKY_LOG(Warn, "disconnecting " << remoteAddress() << " (1008): "
                                                  << listener_.rateLimit().disconnectAfter << " messages refused within "
                                                  << RateLimit::kWindowSeconds << " s over rate_limit "
                                                  << listener_.rateLimit().rate << "/s");
            close(ws::PolicyViolation, "Rate limit exceeded");
            return false;
    }
    return false;
}

// ---------------------------------------------------------------- writing

void WsSession::send(const FramePtr& frame) {
    if (worker_.onThisThread()) queue(frame);
    else worker_.deliver(self(), frame);
}

void WsSession::disconnect(std::uint16_t code, std::string_view reason) {
    // Posted even on this worker: the caller may be walking a list of clients.
    asio::post(worker_.ioc(), [self = self(), code, reason = std::string(reason)] { self->close(code, reason); });
}

void WsSession::queue(const FramePtr& message) {
    if (state_ != State::Open && !(state_ == State::Closing && message->opcode() == ws::Close)) return;
    // permessage-deflate: the message's shared compressed form, when this
    // client agreed to it and the message is worth it and fits its window.
    FramePtr compressed;
    if (deflateMax_ != 0 && message->opcode() == ws::Text) {
        std::size_t size = message->payload().size();
        if (size >= listener_.options().compressionThreshold && size <= deflateMax_) compressed = message->compressed();
    }
    const FramePtr& frame = compressed ? compressed : message;
    queuedBytes_ += frame->wire().size();
    // Pongs count too: a client flooding pings without reading must not grow our memory.
    if (queuedBytes_ > listener_.options().maxQueueBytes && frame->opcode() != ws::Close) {
        // Slow consumer: it would grow our memory without bound. Drop its
        // backlog now and close from a fresh handler (we may be inside a fan-out).
        auto& metrics = listener_.registry().node().metrics();
        metrics.slowConsumers.fetch_add(1, std::memory_order_relaxed);
        std::uint64_t suppressed = 0;
        bool log;
        {
            std::lock_guard guard(slowConsumerLogLock);
            log = slowConsumerLog.allow(suppressed);
        }
        if (log) SNORKY_LOG(Warn, "disconnecting slow consumer " << remoteAddress() << ": " << queuedBytes_
                                      << " bytes waiting (max_queue_bytes " << listener_.options().maxQueueBytes << ")");
        state_ = State::Closing;
        out_.clear();
        outHead_ = headOffset_ = queuedBytes_ = 0;
        asio::post(worker_.ioc(), [self = self()] { self->terminate(); });
        return;
    }
    out_.push_back(frame);
    if (!dirty_ && !writing_) {
        dirty_ = true;
        worker_.markDirty(self());
    }
}

void WsSession::flush() {
    dirty_ = false;
    if (writing_ || state_ == State::Closed) return;
    Flushed flushed = tls_ ? writeTls() : writePlain();
    if (flushed == Flushed::Failed) return terminate();
    if (flushed != Flushed::All) {
        if (outHead_ > 64) {  // keep the vector from growing by its dead prefix
            out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(outHead_));
            outHead_ = 0;
        }
        return waitWritable(flushed == Flushed::WaitReadable);
    }
    out_.clear();
    outHead_ = 0;
    if (out_.capacity() > 16) out_.shrink_to_fit();
    if (state_ == State::Closing && !shutdownSent_) {
        shutdownSent_ = true;  // our close frame is out: half-close and wait for the peer's
        if (tls_) tls_->shutdown();
        boost::system::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
}

WsSession::Flushed WsSession::writePlain() {
    std::size_t frames = 0;
    Flushed flushed = Flushed::All;
    while (outHead_ < out_.size()) {
        iovec iov[kMaxIov];
        int count = 0;
        std::size_t requested = 0;
        for (std::size_t i = outHead_; i < out_.size() && count < kMaxIov; ++i, ++count) {
            std::string_view wire = out_[i]->wire();
            if (i == outHead_) wire.remove_prefix(headOffset_);
            iov[count].iov_base = const_cast<char*>(wire.data());
            iov[count].iov_len = wire.size();
            requested += wire.size();
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = static_cast<std::size_t>(count);
        ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                flushed = Flushed::WaitWritable;
                break;
            }
            flushed = Flushed::Failed;
            break;
        }
        frames += advance(static_cast<std::size_t>(sent));
        if (static_cast<std::size_t>(sent) < requested) {  // kernel buffer full
            flushed = Flushed::WaitWritable;
            break;
        }
    }
    worker_.countFrames(frames);
    return flushed;
}

std::size_t WsSession::advance(std::size_t bytes) {
    std::size_t frames = 0;
    while (bytes > 0) {
        std::size_t size = out_[outHead_]->wire().size();
        std::size_t remaining = size - headOffset_;
        if (bytes < remaining) {
            headOffset_ += bytes;
            break;
        }
        bytes -= remaining;
        queuedBytes_ -= size;
        out_[outHead_++].reset();
        headOffset_ = 0;
        ++frames;
    }
    return frames;
}

void WsSession::waitWritable(bool readable) {
    writing_ = true;
    socket_.async_wait(readable ? asio::ip::tcp::socket::wait_read : asio::ip::tcp::socket::wait_write,
                       [self = self()](const boost::system::error_code& ec) {
        self->writing_ = false;
        if (self->state_ == State::Closed) return;
        if (ec) return self->terminate();
        self->flush();
        self->worker_.publishCounts();
    });
}

// ---------------------------------------------------------------- TLS

void WsSession::waitTlsReadable(bool writable) {
    tls_->wait(writable ? TlsSocket::Status::WantWrite : TlsSocket::Status::WantRead,
               [self = self()](const boost::system::error_code& ec) {
                   if (self->state_ == State::Closed) return;
                   if (ec) return self->terminate();
                   self->onTlsReadable();
               });
}

// Decrypts into the worker's read buffer (nothing of it outlives this call),
// a few buffers' worth per turn so that one busy client does not starve the
// others of the worker.
void WsSession::onTlsReadable() {
    std::uint8_t* buffer = worker_.readBuffer();
    for (int round = 0; round < 4; ++round) {
        std::size_t filled = 0;
        TlsSocket::Result result{TlsSocket::Status::Done};
        while (filled < Worker::kReadBufferSize) {
            result = tls_->read(buffer + filled, Worker::kReadBufferSize - filled);
            if (result.status != TlsSocket::Status::Done) break;
            filled += result.bytes;
        }
        if (filled > 0) {
            lastSeen_ = worker_.now();
            pingOutstanding_ = false;  // any traffic proves the peer alive
            consume(buffer, filled);
            if (state_ == State::Closed) return;
        }
        switch (result.status) {
            case TlsSocket::Status::Done:
                continue;  // the buffer filled up: there may be more
            case TlsSocket::Status::WantRead:
            case TlsSocket::Status::WantWrite:
                return waitTlsReadable(result.status == TlsSocket::Status::WantWrite);
            case TlsSocket::Status::Closed:  // close_notify: like end of stream on ws://
                return terminate();
            case TlsSocket::Status::Failed:
                SNORKY_LOG(Debug, "TLS connection " << remoteAddress() << " failed: " << tls_->errorCode().message());
                return terminate();
        }
    }
    waitReadable();
}

// The head frame's unsent rest, joined with the frames after it up to one
// record's worth. A retry after WantWrite rebuilds the same bytes or more
// (frames are only appended meanwhile), which OpenSSL accepts in a moved
// buffer (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
WsSession::Flushed WsSession::writeTls() {
    std::size_t frames = 0;
    Flushed flushed = Flushed::All;
    while (outHead_ < out_.size()) {
        std::string_view chunk = out_[outHead_]->wire().substr(headOffset_);
        if (chunk.size() < kTlsChunk && outHead_ + 1 < out_.size()) {
            std::size_t size = 0;
            for (std::size_t i = outHead_; i < out_.size() && size < kTlsChunk; ++i) {
                std::string_view wire = out_[i]->wire();
                if (i == outHead_) wire.remove_prefix(headOffset_);
                std::size_t take = std::min(wire.size(), kTlsChunk - size);
                std::copy_n(wire.data(), take, tlsChunk.data() + size);
                size += take;
            }
            chunk = std::string_view(tlsChunk.data(), size);
        }
        TlsSocket::Result result = tls_->write(chunk.data(), chunk.size());
        if (result.status == TlsSocket::Status::Done) {
            frames += advance(result.bytes);
            continue;
        }
        if (result.status == TlsSocket::Status::WantWrite) flushed = Flushed::WaitWritable;
        else if (result.status == TlsSocket::Status::WantRead) flushed = Flushed::WaitReadable;
        else flushed = Flushed::Failed;
        break;
    }
    worker_.countFrames(frames);
    return flushed;
}

// ---------------------------------------------------------------- lifetime

void WsSession::close(std::uint16_t code, std::string_view reason) {
    if (state_ != State::Open) return;
    state_ = State::Closing;
    deadline_ = worker_.now() + kCloseGraceSeconds;
    fragmented_ = false;
    message_.clear();
    queue(Frame::control(ws::Close, ws::closePayload(code, reason)));
}

void WsSession::sweep(std::uint32_t now) {
    const WebSocketOptions& options = listener_.options();
    if (state_ == State::Closing) {
        if (now >= deadline_) terminate();
        return;
    }
    if (state_ != State::Open || options.pingInterval.count() == 0) return;
    if (pingOutstanding_) {
        if (now >= deadline_) {
            SNORKY_LOG(Debug, "closing idle connection " << remoteAddress());
            terminate();
        }
    } else if (now - lastSeen_ >= static_cast<std::uint32_t>(options.pingInterval.count())) {
        pingOutstanding_ = true;
        deadline_ = now + static_cast<std::uint32_t>(options.idleTimeout.count());
        queue(Frame::control(ws::Ping, ""));
    }
}

void WsSession::terminate() {
    if (state_ == State::Closed) return;
    bool registered = state_ != State::Handshake;
    state_ = State::Closed;
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (handshake_) {
        handshake_->timer.cancel();
        handshake_->slot.release();
    }
    addressSlot_.release();
    out_.clear();
    outHead_ = headOffset_ = queuedBytes_ = 0;
    partial_.clear();
    message_.clear();
    if (registered) {
        worker_.remove(this);
        listener_.registry().node().metrics().connectionsClosed.fetch_add(1, std::memory_order_relaxed);
        listener_.registry().clientDisconnected(self());
    }
}

}  // namespace snorky
