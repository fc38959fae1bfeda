#include "transport/backend_listener.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "snorky/core/log.hpp"
#include "snorky/protocol/envelope.hpp"
#include "snorky/protocol/errors.hpp"
#include "transport/backend_request.hpp"
#include "transport/status_page.hpp"

namespace snorky {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class BackendSession;

// One backend request as services see it: a short-lived client that gets
// exactly one answer. Not a connected client: no connect/disconnect events.
class BackendClient final : public Client {
public:
    BackendClient(std::shared_ptr<BackendSession> session, std::string remote)
        : Client(std::move(remote)), session_(std::move(session)) {}
    void send(const FramePtr& frame) override;
    void onDropped(DropReason reason) override;

private:
    std::shared_ptr<BackendSession> session_;
    std::atomic<bool> answered_{false};
};

class BackendSession : public std::enable_shared_from_this<BackendSession> {
public:
    BackendSession(tcp::socket socket, BackendListener& listener, std::shared_ptr<asio::ssl::context> tls)
        : stream_(std::move(socket)), listener_(listener), timeout_(stream_.get_executor()), tlsContext_(std::move(tls)) {
        if (tlsContext_) tls_.emplace(stream_, *tlsContext_);
    }

    void start() {
        boost::system::error_code ec;
        auto remote = stream_.socket().remote_endpoint(ec);
        remote_ = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
        if (!tls_) return doReadHeader();
        // The TLS handshake gets the time a request gets: a stalling peer is cut off.
        stream_.expires_after(listener_.options().requestReadTimeout);
        tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                SNORKY_LOG(Debug, "TLS handshake with " << self->remote_ << " failed: " << ec.message());
                return self->closeSocket();
            }
            self->doReadHeader();
        });
    }

    // Any thread: the service's answer (or a refusal) for the current request.
    void answer(unsigned status, std::string body) {
        asio::post(stream_.get_executor(), [self = shared_from_this(), status, body = std::move(body)]() mutable {
            self->respond(status, std::move(body));
        });
    }

private:
    // An idle keep-alive connection waits up to keepAliveTimeout for the first
    // byte of its next request; from that byte on, the whole request (header
    // and body) must arrive within requestReadTimeout, so a peer trickling a
    // byte at a time cannot hold the connection for long.
    void doReadHeader() {
        parser_.emplace();
        parser_->header_limit(kMaxBackendHeader);
        // No limit while reading the header: the size is checked (413) only
        // after the key, and set before the body is read.
        parser_->body_limit(boost::none);
        if (buffer_.size() > 0) return readRequest();  // pipelined: it has begun already
        stream_.expires_after(listener_.options().keepAliveTimeout);
        withStream([this](auto& stream) {
            stream.async_read_some(buffer_.prepare(kFirstRead), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                if (ec) return self->closeSocket();  // peer gone or idle timeout
                self->buffer_.commit(n);
                self->readRequest();
            });
        });
    }

    void readRequest() {
        stream_.expires_after(listener_.options().requestReadTimeout);  // until the last body byte
        withStream([this](auto& stream) {
            http::async_read_header(stream, buffer_, *parser_,
                                    [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
        });
    }

    void onHeader(beast::error_code ec) {
        if (ec) return closeSocket();  // peer gone, idle timeout, or garbage
        auto& request = parser_->get();
        keepAlive_ = request.keep_alive();
        const BackendOptions& options = listener_.options();
        auto route = routeBackendRequest(request, parser_->content_length(), options,
                                         [this](std::string_view key) { return listener_.keyMatches(key); });

        if (route.kind == BackendRoute::Kind::Health || route.kind == BackendRoute::Kind::Metrics) {
            keepAlive_ = false;  // the body (if any) is left unread
            if (route.kind == BackendRoute::Kind::Health) {
                // Engine state is informative: a node without Redis still serves its own clients.
                json::object health{{"status", "ok"}};
                for (auto& field : listener_.registry().node().broker().health()) health.insert(field);
                return respond(200, json::serialize(health));
            }
            contentType_ = "text/plain; version=0.0.4";
            return respond(200, listener_.registry().node().metrics().render());
        }
        if (route.kind == BackendRoute::Kind::StatusPage || route.kind == BackendRoute::Kind::Status) {
            keepAlive_ = false;
            statusHeaders_ = true;
            if (route.kind == BackendRoute::Kind::StatusPage) {
                contentType_ = "text/html; charset=utf-8";
                return respond(200, std::string(statusPageHtml()));
            }
            Node& node = listener_.registry().node();
            json::object services = listener_.serviceStats ? listener_.serviceStats() : json::object{};
            return respond(200, statusJson(node.metrics(), node.broker().health(), std::move(services)));
        }
        // Refusals before the body is read close the connection afterwards:
        // an unauthenticated peer never gets us to buffer its body.
        if (route.kind == BackendRoute::Kind::Refuse) return refuse(route.status, route.error);

        parser_->body_limit(options.maxBodySize);  // also bounds chunked bodies
        withStream([this](auto& stream) {
            http::async_read(stream, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onBody(ec); });
        });
    }

    void onBody(beast::error_code ec) {
        if (ec == http::error::body_limit) return refuse(413, errors::kBodyTooLarge);
        if (ec) return closeSocket();
        stream_.expires_never();
        std::string body = parser_->release().body();

        auto parsed = parseEnvelope(body);
        if (auto* reason = std::get_if<DropReason>(&parsed)) {
            return refuse(400, *reason == DropReason::InvalidJson        ? errors::kInvalidJson
                               : *reason == DropReason::NumberOutOfRange ? errors::kNumberOutOfRange
                                                                         : errors::kMalformedEnvelope,
                          true);
        }
        auto& envelope = std::get<Envelope>(parsed);
        ++listener_.inFlight;
        awaiting_ = true;
        timeout_.expires_after(listener_.options().requestTimeout);
        timeout_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
            if (!e && self->awaiting_) self->refuse(504, errors::kServiceTimeout, true);
        });
        auto client = std::make_shared<BackendClient>(shared_from_this(), remote_);
        listener_.registry().node().metrics().messagesReceived.fetch_add(1, std::memory_order_relaxed);
        listener_.registry().dispatch(client, envelope.service, std::move(envelope.message));
    }

    void refuse(unsigned status, std::string_view error, bool bodyWasRead = false) {
        listener_.registry().node().metrics().backendRejected.fetch_add(1, std::memory_order_relaxed);
        if (!bodyWasRead) keepAlive_ = false;
        json::object body{{"error", error}};
        respond(status, json::serialize(body));
    }

    void respond(unsigned status, std::string body) {
        if (responding_) return;  // one request, one response
        if (awaiting_) {
            awaiting_ = false;
            timeout_.cancel();
            --listener_.inFlight;
        }
        responding_ = true;
        listener_.registry().node().metrics().backendRequests.fetch_add(1, std::memory_order_relaxed);
        response_ = {};
        response_.result(status);
        response_.version(11);
        response_.set(http::field::content_type, contentType_);
        if (statusHeaders_) {
            // The page takes a key: never cached, never framed, inline code only, fetches to us only.
            response_.set(http::field::cache_control, "no-store");
            response_.set("X-Frame-Options", "DENY");
            response_.set("Referrer-Policy", "no-referrer");
            response_.set("Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                          "connect-src 'self'; form-action 'none'; frame-ancestors 'none'");
            statusHeaders_ = false;
        }
        response_.keep_alive(keepAlive_ && !listener_.stopping());
        response_.body() = std::move(body);
        response_.prepare_payload();
        contentType_ = "application/json";
        stream_.expires_after(listener_.options().keepAliveTimeout);
        withStream([this](auto& stream) {
            http::async_write(stream, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
                self->responding_ = false;
                if (ec) return self->closeSocket();
                if (!self->response_.keep_alive()) return self->lingerThenClose();
                self->doReadHeader();
            });
        });
    }

    // Half-closes, then reads and discards what the peer is still sending
    // (an unread body) for a moment, so that closing does not reset the
    // connection before the peer has read our answer.
    void lingerThenClose() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::chrono::seconds(2));
        discard();
    }

    void discard() {
        withStream([this](auto& stream) {
            stream.async_read_some(asio::buffer(discardBuffer_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                self->discarded_ += n;
                if (ec || self->discarded_ > kMaxDiscard) return self->closeSocket();
                self->discard();
            });
        });
    }

    // Calls f with the byte stream: TLS on https://, else the TCP stream
    // (whose timeouts apply below TLS as well).
    template <class F>
    void withStream(F&& f) {
        if (tls_) f(*tls_);
        else f(stream_);
    }

    void closeSocket() {
        beast::error_code ignored;
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    BackendListener& listener_;
    asio::steady_timer timeout_;
    std::shared_ptr<asio::ssl::context> tlsContext_;  // the certificate this connection was accepted with
    std::optional<asio::ssl::stream<beast::tcp_stream&>> tls_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    std::string remote_;
    std::string contentType_ = "application/json";
    static constexpr std::size_t kMaxDiscard = 64 * 1024 * 1024;
    static constexpr std::size_t kFirstRead = 4096;
    std::array<char, 4096> discardBuffer_;
    std::size_t discarded_ = 0;
    bool keepAlive_ = true;
    bool statusHeaders_ = false;  // the next response is the status page or its figures
    bool awaiting_ = false;
    bool responding_ = false;
};

void BackendClient::send(const FramePtr& frame) {
    if (answered_.exchange(true)) return;  // only the first frame answers the request
    session_->answer(200, std::string(frame->payload()));
}

void BackendClient::onDropped(DropReason reason) {
    if (answered_.exchange(true)) return;
    unsigned status = reason == DropReason::UnknownService ? 404 : 400;
    const char* text = reason == DropReason::UnknownService ? errors::kUnknownService
                       : reason == DropReason::MalformedMessage ? errors::kMalformedMessage
                                                                : errors::kMalformedEnvelope;
    session_->answer(status, json::serialize(json::object{{"error", text}}));
}

}  // namespace

BackendListener::BackendListener(asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                                 BackendOptions options)
    : acceptor_(ioc, std::move(workers), options.address, options.port),
      registry_(registry),
      settings_(settingsOf(std::move(options))) {
    const BackendOptions& o = this->options();
    if (o.tlsCert.empty() != o.tlsKey.empty()) throw std::invalid_argument("give both tls_cert and tls_key");
    if (!o.tlsCert.empty()) tls_ = std::make_unique<TlsContext>(o.tlsCert, o.tlsKey);
}

BackendListener::Settings BackendListener::settingsOf(BackendOptions options) {
    if (options.key.empty()) throw std::invalid_argument("the backend listener needs a key");
    Settings settings{std::move(options), {}};
    const std::string& key = settings.options.key;
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), settings.keyDigest.data());
    return settings;
}

bool BackendListener::update(const BackendOptions& fresh) {
    BackendOptions next = options();
    next.key = fresh.key;
    next.maxBodySize = fresh.maxBodySize;
    next.requestTimeout = fresh.requestTimeout;
    next.keepAliveTimeout = fresh.keepAliveTimeout;
    next.requestReadTimeout = fresh.requestReadTimeout;
    next.serveMetrics = fresh.serveMetrics;
    next.statusPage = fresh.statusPage;
    const BackendOptions& now = options();
    if (next.key == now.key && next.maxBodySize == now.maxBodySize && next.requestTimeout == now.requestTimeout &&
        next.keepAliveTimeout == now.keepAliveTimeout && next.requestReadTimeout == now.requestReadTimeout &&
        next.serveMetrics == now.serveMetrics && next.statusPage == now.statusPage)
        return false;  // nothing to publish
    Settings settings = settingsOf(std::move(next));
    bool keyChanged = settings.keyDigest != settings_.get().keyDigest;
    settings_.publish(std::move(settings));
    return keyChanged;
}

bool BackendListener::keyMatches(std::string_view presented) const {
    // Hashing first makes the comparison independent of both lengths.
    unsigned char digest[32];
    SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), digest);
    return CRYPTO_memcmp(digest, settings_.get().keyDigest.data(), sizeof digest) == 0;
}

void BackendListener::start() {
    acceptor_.start([this](Worker&, tcp::socket socket) {
        auto executor = socket.get_executor();
        auto session = std::make_shared<BackendSession>(std::move(socket), *this, tls_ ? tls_->current() : nullptr);
        asio::post(executor, [session] { session->start(); });
    });
}

void BackendListener::stop() {
    stopping_ = true;
    acceptor_.stop();
}

}  // namespace snorky
