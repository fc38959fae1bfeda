#include "transport/sockjs_http.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <cerrno>
#include <ctime>
#include <random>

#include "snorky/protocol/errors.hpp"
#include "transport/sockjs_framing.hpp"
#include "transport/sockjs_session.hpp"
#include "transport/sockjs_websocket.hpp"
#include "transport/trusted_proxies.hpp"
#include "transport/upgrade_request.hpp"

namespace snorky {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::size_t kPreludeBytes = 2048;  // xhr_streaming: browsers show nothing before 2 KiB
constexpr const char* kNoCache = "Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n";
constexpr const char* kTextPlain = "Content-Type: text/plain; charset=UTF-8\r\n";
constexpr const char* kJavascript = "Content-Type: application/javascript; charset=UTF-8\r\n";
constexpr std::int64_t kYear = 31536000;

std::string httpDate(std::time_t when) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buffer;
}

// A cookie value we echo in Set-Cookie: cookie-octets only, bounded.
bool plainCookieValue(std::string_view value) {
    if (value.empty() || value.size() > 256) return false;
    return std::all_of(value.begin(), value.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

std::string jsessionId(std::string_view cookies) {
    while (!cookies.empty()) {
        std::size_t end = cookies.find(';');
        std::string_view item = cookies.substr(0, end);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        if (item.substr(0, 11) == "JSESSIONID=" && plainCookieValue(item.substr(11))) return std::string(item.substr(11));
        if (end == std::string_view::npos) break;
        cookies.remove_prefix(end + 1);
    }
    return "dummy";
}

// The identity of a `token` query parameter (as on the WebSocket listener):
// nullopt with `error` set when the token is refused.
std::optional<json::value> identityOf(std::string_view target, const WebSocketOptions& options, std::string& error) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        error = errors::kMalformedQuery;
        return std::nullopt;
    }
    auto params = url->params();
    auto token = params.find("token");
    if (token == params.end()) return json::value(nullptr);
    if (!options.verifyToken) {
        error = "Identity tokens are not enabled on this listener";
        return std::nullopt;
    }
    if (params.count("token") > 1) {
        error = errors::kInvalidToken;
        return std::nullopt;
    }
    return options.verifyToken((*token).value, error);
}

std::uint32_t entropy() {
    static thread_local std::mt19937 generator{std::random_device{}()};
    return generator();
}
}  // namespace

SockJsHttp::SockJsHttp(asio::ip::tcp::socket socket, SockJsListener& listener, ConnectionLimits::Slot handshakeSlot)
    : socket_(std::move(socket)),
      listener_(listener),
      handshakeSlot_(std::move(handshakeSlot)),
      timer_(listener.worker().ioc()) {}

void SockJsHttp::start() {
    boost::system::error_code ec;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    readRequest();
}

void SockJsHttp::readRequest() {
    mode_ = Mode::Reading;
    parser_.emplace();
    parser_->header_limit(kMaxUpgradeHeader);
    // A body holds JSON-encoded messages: escaping may grow one up to six times.
    parser_->body_limit(listener_.base().maxMessageSize * 6 + 64);
    timer_.expires_after(listener_.base().handshakeTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec && self->mode_ == Mode::Reading) self->terminate();
    });
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (self->mode_ != Mode::Reading) return;
        self->timer_.cancel();
        if (ec == http::error::body_limit) {
            self->unreadBody_ = true;
            return self->answer(413, kTextPlain, "Message too big\n", false);
        }
        if (ec) return self->terminate();
        self->onRequest();
    });
}

void SockJsHttp::answer(unsigned status, std::string_view headers, std::string_view body, bool keepAlive) {
    mode_ = Mode::Answering;
    keepAlive_ = keepAlive;
    std::string response = "HTTP/1.1 " + std::to_string(status) + " ";
    response += http::obsolete_reason(http::int_to_status(status));
    response += "\r\n";
    response += headers;
    if (status != 204) response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    response += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (status != 204) response += body;
    send(std::make_shared<const std::string>(std::move(response)));
}

std::string SockJsHttp::commonHeaders(const Request& request, bool cookie) const {
    std::string headers = kNoCache;
    auto origin = request.find(http::field::origin);
    if (origin != request.end() && !origin->value().empty() && origin->value() != "*") {
        headers += "Access-Control-Allow-Origin: " + std::string(origin->value()) + "\r\n";
        headers += "Access-Control-Allow-Credentials: true\r\n";
    } else {
        headers += "Access-Control-Allow-Origin: *\r\n";
    }
    if (cookie && listener_.options().cookieNeeded)
        headers += "Set-Cookie: JSESSIONID=" + jsessionId(request[http::field::cookie]) + "; path=/\r\n";
    return headers;
}

bool SockJsHttp::originAllowed(const Request& request) const {
    const auto& allowed = listener_.base().allowedOrigins;
    if (allowed.empty()) return true;
    auto origin = request.find(http::field::origin);
    return origin == request.end() || std::find(allowed.begin(), allowed.end(), origin->value()) != allowed.end();
}

void SockJsHttp::preflight(const Request& request, std::string_view methods) {
    std::string headers = commonHeaders(request, true);
    headers.erase(0, std::string_view(kNoCache).size());  // a preflight answer is cacheable
    headers += "Cache-Control: public, max-age=" + std::to_string(kYear) + "\r\n";
    headers += "Expires: " + httpDate(std::time(nullptr) + kYear) + "\r\n";
    headers += "Access-Control-Max-Age: " + std::to_string(kYear) + "\r\n";
    headers += "Access-Control-Allow-Methods: " + std::string(methods) + "\r\n";
    std::string_view requested = request["Access-Control-Request-Headers"];
    if (!requested.empty()) headers += "Access-Control-Allow-Headers: " + std::string(requested) + "\r\n";
    answer(204, headers, "", request.keep_alive());
}

std::string SockJsHttp::clientAddress(const Request& request) {
    boost::system::error_code ec;
    auto peer = socket_.remote_endpoint(ec);
    if (ec) return "unknown";
    const TrustedProxies& proxies = listener_.trustedProxies();
    if (proxies.empty()) return canonicalAddress(peer.address()).to_string();
    std::vector<std::string_view> forwardedFor;
    auto [first, last] = request.equal_range("X-Forwarded-For");
    for (auto field = first; field != last; ++field) forwardedFor.push_back(field->value());
    return proxies.clientAddress(peer.address(), forwardedFor).to_string();
}

void SockJsHttp::onRequest() {
    handshakeSlot_.release();  // max_handshakes counts connections still sending their first request
    const Request& request = parser_->get();
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    const bool keepAlive = request.keep_alive();
    const auto method = request.method();
    sockjs::Route route = sockjs::route(path, listener_.base().path);
    switch (route.kind) {
        case sockjs::Route::Kind::NotFound:
            return answer(404, kTextPlain, "Not found\n", keepAlive);
        case sockjs::Route::Kind::Greeting:
            if (method != http::verb::get) return answer(405, "Allow: GET\r\n", "", keepAlive);
            return answer(200, kTextPlain, "Welcome to SockJS!\n", keepAlive);
        case sockjs::Route::Kind::Info: {
            if (method == http::verb::options) return preflight(request, "OPTIONS, GET");
            if (method != http::verb::get) return answer(405, "Allow: OPTIONS, GET\r\n", "", keepAlive);
            json::object info{{"websocket", listener_.options().websocket},
                              {"cookie_needed", listener_.options().cookieNeeded},
                              {"origins", json::array{"*:*"}},
                              {"entropy", entropy()}};
            return answer(200, commonHeaders(request, false) + "Content-Type: application/json; charset=UTF-8\r\n",
                          json::serialize(info), keepAlive);
        }
        case sockjs::Route::Kind::RawWebSocket:
            if (!listener_.options().websocket) return answer(404, kTextPlain, "Not found\n", keepAlive);
            return upgrade(request, true);
        case sockjs::Route::Kind::Session:
            return onSessionRequest(request, route.session, route.transport);
    }
}

void SockJsHttp::onSessionRequest(const Request& request, std::string_view id, std::string_view transport) {
    const bool keepAlive = request.keep_alive();
    const auto method = request.method();
    if (transport == "websocket") {
        if (!listener_.options().websocket) return answer(404, kTextPlain, "Not found\n", keepAlive);
        return upgrade(request, false);
    }
    const bool send = transport == "xhr_send";
    const bool polling = transport == "xhr";
    const bool streaming = transport == "xhr_streaming";
    const bool eventSource = transport == "eventsource";
    if (!send && !polling && !streaming && !eventSource) return answer(404, kTextPlain, "Not found\n", keepAlive);
    if (eventSource) {
        if (method != http::verb::get) return answer(405, "Allow: GET\r\n", "", keepAlive);
    } else {
        if (method == http::verb::options) return preflight(request, "OPTIONS, POST");
        if (method != http::verb::post) return answer(405, "Allow: OPTIONS, POST\r\n", "", keepAlive);
    }
    if (!originAllowed(request)) return answer(403, kTextPlain, "Origin not allowed\n", false);
    std::shared_ptr<SockJsSession> session = listener_.findSession(id);

    if (send) {
        if (!session || session->closed()) return answer(404, kTextPlain, "Not found\n", keepAlive);
        std::vector<std::string> messages;
        switch (sockjs::decodeMessages(request.body(), false, messages)) {
            case sockjs::Decode::Empty: return answer(500, kTextPlain, "Payload expected.", keepAlive);
            case sockjs::Decode::Broken: return answer(500, kTextPlain, "Broken JSON encoding.", keepAlive);
            case sockjs::Decode::Ok: break;
        }
        for (const std::string& message : messages)
            if (message.size() > listener_.base().maxMessageSize) {
                session->close(ws::TooBig, "Message too big");
                return answer(413, kTextPlain, "Message too big\n", keepAlive);
            }
        session->onSend(messages);
        return answer(204, commonHeaders(request, true) + kTextPlain, "", keepAlive);
    }

    if (!session) {
        if (listener_.stopping()) return answer(503, kTextPlain, "Server shutting down\n", false);
        auto admission = admit(request);
        if (!admission) return;
        session = std::make_shared<SockJsSession>(listener_, std::string(id), admission->address,
                                                  std::move(admission->slot), std::move(admission->identity));
        listener_.addSession(session);
        session->open();
    }
    wire_ = eventSource ? SockJsWire::Event : SockJsWire::Line;
    responseHeaders_ = "HTTP/1.1 200 OK\r\n" + commonHeaders(request, true) +
                       (eventSource ? "Content-Type: text/event-stream; charset=UTF-8\r\n" : kJavascript);
    session_ = session;
    streamed_ = 0;
    if (polling) {
        mode_ = Mode::Polling;
        keepAlive_ = keepAlive;
    } else {
        mode_ = Mode::Streaming;
        keepAlive_ = false;  // the stream ends with the connection
        startStream();
    }
    session->attach(shared_from_this());
    if (mode_ == Mode::Polling || mode_ == Mode::Streaming) {
        // Nothing is read while the request is held: its parser and buffer go.
        if (buffer_.size() == 0) {
            parser_.reset();
            buffer_.shrink_to_fit();
        }
        if (mode_ == Mode::Streaming) std::string().swap(responseHeaders_);  // sent already
        watchPeer();
    }
}

void SockJsHttp::startStream() {
    std::string head = responseHeaders_ + "Connection: close\r\n\r\n";
    if (wire_ == SockJsWire::Line) head += std::string(kPreludeBytes, 'h') + "\n";
    else head += "\r\n";
    send(std::make_shared<const std::string>(std::move(head)));
}

void SockJsHttp::write(std::shared_ptr<const std::string> data) {
    if (mode_ == Mode::Polling) {
        std::string response = responseHeaders_ + "Content-Length: " + std::to_string(data->size()) + "\r\n";
        response += keepAlive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        response += *data;
        mode_ = Mode::Answering;
        ++watchGeneration_;
        send(std::make_shared<const std::string>(std::move(response)));
        return;
    }
    if (mode_ != Mode::Streaming) return;
    streamed_ += data->size();
    send(std::move(data));
    if (streamed_ >= listener_.options().responseLimit) {
        // The browser keeps a streaming response in memory: end it so the
        // client opens a fresh one.
        mode_ = Mode::Ending;
        ++watchGeneration_;
    }
}

void SockJsHttp::writeFinal(const std::string& wrappedFrame) {
    write(std::make_shared<const std::string>(wrappedFrame));
    if (mode_ == Mode::Streaming) {
        mode_ = Mode::Ending;
        ++watchGeneration_;
    }
}

void SockJsHttp::send(std::shared_ptr<const std::string> data) {
    backlog_ += data->size();
    out_.push_back(std::move(data));
    doWrite();
}

void SockJsHttp::doWrite() {
    if (writing_ || mode_ == Mode::Closed) return;
    if (out_.empty()) {
        if (mode_ == Mode::Answering) {
            if (keepAlive_) return readRequest();
            mode_ = Mode::Ending;
        }
        if (mode_ == Mode::Ending) {
            boost::system::error_code ignored;
            socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            if (unreadBody_) return drain();
            terminate();
        }
        return;
    }
    writing_ = true;
    inflight_.swap(out_);
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(inflight_.size());
    for (const auto& piece : inflight_) buffers.emplace_back(asio::buffer(*piece));
    asio::async_write(socket_, buffers, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        for (const auto& piece : self->inflight_) self->backlog_ -= piece->size();
        self->inflight_.clear();
        if (ec) return self->terminate();
        self->doWrite();
    });
}

// While a receiving request is held nothing is read; a peer that hangs up
// must still end it (the session then times out instead of waiting for a
// heartbeat write to fail).
void SockJsHttp::watchPeer() {
    std::uint32_t generation = ++watchGeneration_;
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this(), generation](const boost::system::error_code& ec) {
                           if (generation != self->watchGeneration_ || self->mode_ == Mode::Closed) return;
                           if (ec) return self->terminate();
                           char byte;
                           ssize_t n = ::recv(self->socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
                           if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                               return self->terminate();
                           if (n < 0) self->watchPeer();
                           // n > 0: a pipelined request, read once this one is answered.
                       });
}

// After refusing a body we did not read: closing with unread bytes would
// reset the connection and could destroy our answer before the client reads
// it. The rest is read and dropped until the client closes (or the request
// timeout passes).
void SockJsHttp::drain() {
    mode_ = Mode::Draining;
    timer_.expires_after(listener_.base().handshakeTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->terminate();
    });
    socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (self->mode_ != Mode::Draining) return;
        if (ec) return self->terminate();
        Worker& worker = self->listener_.worker();
        ssize_t n = ::recv(self->socket_.native_handle(), worker.readBuffer(), Worker::kReadBufferSize, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return self->terminate();
        self->drain();
    });
}

void SockJsHttp::upgrade(const Request& request, bool raw) {
    if (request.method() != http::verb::get) return answer(405, "Allow: GET\r\n", "", false);
    if (!beast::websocket::is_upgrade(request))
        return answer(400, kTextPlain, "Can \"Upgrade\" only to \"WebSocket\".", false);
    if (request[http::field::sec_websocket_version] != "13")
        return answer(426, "Sec-WebSocket-Version: 13\r\n", "", false);
    std::string_view key = request[http::field::sec_websocket_key];
    if (key.size() != 24) return answer(400, kTextPlain, "Invalid Sec-WebSocket-Key\n", false);
    if (!originAllowed(request)) return answer(403, kTextPlain, "Origin not allowed\n", false);
    auto admission = admit(request);
    if (!admission) return;
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    std::string acceptKey(key);
    mode_ = Mode::Closed;  // the socket belongs to the websocket from here on
    timer_.cancel();
    auto client = std::make_shared<SockJsWebSocket>(std::move(socket_), listener_, admission->address, raw,
                                                    std::move(admission->slot), std::move(admission->identity));
    client->start(std::move(acceptKey), std::move(early));
}

std::optional<SockJsHttp::Admission> SockJsHttp::admit(const Request& request) {
    std::string error;
    auto identity = identityOf(request.target(), listener_.base(), error);
    if (!identity) {
        answer(401, "Content-Type: application/json\r\n", json::serialize(json::object{{"error", error}}), false);
        return std::nullopt;
    }
    std::string address = clientAddress(request);
    auto slot = listener_.limits().admit(address);
    if (!slot) {
        listener_.registry().node().metrics().perIpRefused.fetch_add(1, std::memory_order_relaxed);
        answer(429, "Content-Type: application/json\r\n",
               json::serialize(json::object{{"error", errors::kTooManyConnections}}), false);
        return std::nullopt;
    }
    return Admission{std::move(address), std::move(*slot), std::move(*identity)};
}

void SockJsHttp::terminate() {
    if (mode_ == Mode::Closed) return;
    mode_ = Mode::Closed;
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    out_.clear();
    if (auto session = session_.lock()) session->detach(this);
}

}  // namespace snorky
