#include "snorky/connector/http_transport.hpp"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "snorky/connector/errors.hpp"

namespace snorky::connector {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Kind = TransportError::Kind;

namespace {

constexpr const char* kUserAgent = "snorky-connector/0.1";
constexpr std::size_t kBodyExcerpt = 500;

std::string excerpt(const std::string& body) {
    if (body.size() <= kBodyExcerpt) return body;
    return body.substr(0, kBodyExcerpt) + "... (" + std::to_string(body.size()) + " bytes)";
}

// Errors that mean "the peer had already closed this connection": on a reused
// connection with no response byte received, the request never reached a
// live server, so sending it again on a fresh connection is safe.
bool isStaleConnectionError(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == asio::error::not_connected || ec == ssl::error::stream_truncated;
}

}  // namespace

struct HttpTransport::Impl {
    BackendUrl url;
    std::string key;
    HttpTransportOptions options;

    mutable std::mutex mutex;
    asio::io_context ioc;
    std::optional<ssl::context> tlsContext;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    std::uint64_t connections = 0;

    Impl(std::string_view urlText, std::string keyText, HttpTransportOptions opts)
        : url(parseBackendUrl(urlText)), key(std::move(keyText)), options(std::move(opts)) {
        for (unsigned char c : key) {
            if (c < 0x20 || c == 0x7f) throw std::invalid_argument("the backend key contains control characters");
        }
        if (url.secure) {
            tlsContext.emplace(ssl::context::tls_client);
            tlsContext->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
            if (options.verifyPeer) {
                tlsContext->set_default_verify_paths();
                if (!options.caFile.empty()) tlsContext->load_verify_file(options.caFile);
                tlsContext->set_verify_mode(ssl::verify_peer);
            } else {
                tlsContext->set_verify_mode(ssl::verify_none);
            }
        }
    }

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    bool connected() { return (plain || tls) && lowest().socket().is_open(); }

    void close() {
        if (plain || tls) {
            beast::error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
            lowest().socket().close(ignored);
        }
        // The streams hold handlers bound to ioc; drain them before reuse.
        ioc.restart();
        ioc.run();
        plain.reset();
        tls.reset();
        buffer.clear();
    }

    // A kept-alive connection the server closed meanwhile shows as readable
    // with nothing to read (EOF pending). Checked before each reuse so the
    // common case (server idle timeout, restart) does not even send.
    bool peerClosed() {
        pollfd fd{lowest().socket().native_handle(), POLLIN, 0};
        int ready = ::poll(&fd, 1, 0);
        if (ready <= 0) return false;
        if (fd.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
        beast::error_code ec;
        std::size_t available = lowest().socket().available(ec);
        if (ec || available == 0) return true;
        // Plain HTTP: the server never speaks first, so stray bytes mean the
        // connection is out of step. TLS: may be a session ticket; keep it.
        return !url.secure;
    }

    std::string where() const { return url.text; }

    void connect() {
        const auto deadline = std::chrono::steady_clock::now() + options.connectTimeout;
        tcp::resolver resolver(ioc);
        beast::error_code ec;
        tcp::resolver::results_type endpoints;
        bool resolved = false;
        resolver.async_resolve(url.host, std::to_string(url.port),
                               [&](const beast::error_code& e, tcp::resolver::results_type r) {
                                   ec = e;
                                   endpoints = std::move(r);
                                   resolved = true;
                               });
        ioc.restart();
        ioc.run_until(deadline);
        if (!resolved) {
            resolver.cancel();
            ioc.restart();
            ioc.run();
            throw TransportError(Kind::Timeout, "cannot connect to " + where() + ": resolving '" + url.host +
                                                    "' timed out after " +
                                                    std::to_string(options.connectTimeout.count()) + " ms");
        }
        if (ec) throw TransportError(Kind::Connect, "cannot connect to " + where() + ": " + ec.message());

        if (url.secure) {
            tls.emplace(ioc, *tlsContext);
        } else {
            plain.emplace(ioc);
        }
        beast::tcp_stream& stream = lowest();
        stream.expires_at(deadline);
        stream.async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
        ioc.restart();
        ioc.run();
        if (ec) {
            Kind kind = ec == beast::error::timeout ? Kind::Timeout : Kind::Connect;
            std::string why = kind == Kind::Timeout
                                  ? "timed out after " + std::to_string(options.connectTimeout.count()) + " ms"
                                  : ec.message();
            close();
            throw TransportError(kind, "cannot connect to " + where() + ": " + why);
        }
        stream.socket().set_option(tcp::no_delay(true), ec);

        if (tls) {
            // SNI carries host names only (RFC 6066), never IP literals.
            beast::error_code notAnAddress;
            asio::ip::make_address(url.host, notAnAddress);
            if (notAnAddress && !SSL_set_tlsext_host_name(tls->native_handle(), url.host.c_str())) {
                close();
                throw TransportError(Kind::Connect, "cannot connect to " + where() + ": cannot set TLS server name");
            }
            if (options.verifyPeer) tls->set_verify_callback(ssl::host_name_verification(url.host));
            stream.expires_at(deadline);
            tls->async_handshake(ssl::stream_base::client, [&](const beast::error_code& e) { ec = e; });
            ioc.restart();
            ioc.run();
            if (ec) {
                Kind kind = ec == beast::error::timeout ? Kind::Timeout : Kind::Connect;
                close();
                throw TransportError(kind, "TLS handshake with " + where() + " failed: " + ec.message());
            }
        }
        stream.expires_never();
        ++connections;
    }

    struct Exchange {
        beast::error_code ec;
        bool responseStarted = false;
        http::response<http::string_body> response;
    };

    template <class Stream>
    Exchange exchange(Stream& stream, http::request<http::string_body>& request) {
        Exchange result;
        http::response_parser<http::string_body> parser;
        parser.body_limit(options.maxReplyBytes);
        lowest().expires_after(options.requestTimeout);
        http::async_write(stream, request, [&](const beast::error_code& ec, std::size_t) {
            if (ec) {
                result.ec = ec;
                return;
            }
            http::async_read(stream, buffer, parser, [&](const beast::error_code& ec, std::size_t) { result.ec = ec; });
        });
        ioc.restart();
        ioc.run();
        lowest().expires_never();
        result.responseStarted = parser.got_some();
        if (!result.ec) result.response = parser.release();
        return result;
    }

    Exchange exchange(http::request<http::string_body>& request) {
        return tls ? exchange(*tls, request) : exchange(*plain, request);
    }

    json::value send(const json::value& envelope) {
        std::lock_guard lock(mutex);
        http::request<http::string_body> request{http::verb::post, url.target, 11};
        request.set(http::field::host, url.hostHeader);
        request.set(http::field::user_agent, kUserAgent);
        request.set(http::field::content_type, "application/json");
        request.set(http::field::accept, "application/json");
        request.set("X-Backend-Key", key);
        request.keep_alive(true);
        request.body() = json::serialize(envelope);
        request.prepare_payload();

        Exchange result;
        for (int attempt = 0;; ++attempt) {
            bool reused = connected();
            if (reused && peerClosed()) {
                close();
                reused = false;
            }
            if (!connected()) connect();
            result = exchange(request);
            if (!result.ec) break;
            close();
            if (reused && attempt == 0 && !result.responseStarted && isStaleConnectionError(result.ec)) continue;
            if (result.ec == beast::error::timeout) {
                throw TransportError(Kind::Timeout, "no reply from " + where() + " within " +
                                                        std::to_string(options.requestTimeout.count()) + " ms");
            }
            if (result.ec == http::error::body_limit) {
                throw TransportError(Kind::BadReply, "reply from " + where() + " is larger than " +
                                                         std::to_string(options.maxReplyBytes) + " bytes");
            }
            std::string stage = result.responseStarted ? "while reading the reply" : "before any reply";
            throw TransportError(Kind::Io, "connection to " + where() + " failed " + stage + ": " + result.ec.message());
        }

        auto& response = result.response;
        if (!response.keep_alive()) close();
        const int status = static_cast<int>(response.result_int());
        if (status != 200) {
            std::string reason(response.reason());
            throw TransportError(Kind::HttpStatus,
                                 "Snorky at " + where() + " answered HTTP " + std::to_string(status) +
                                     (reason.empty() ? "" : " " + reason) + ": " + excerpt(response.body()),
                                 status, response.body());
        }
        boost::system::error_code ec;
        json::value reply = json::parse(response.body(), ec);
        if (ec) {
            throw TransportError(Kind::BadReply,
                                 "non-JSON reply from Snorky at " + where() + ": " + excerpt(response.body()), status,
                                 response.body());
        }
        return reply;
    }
};

HttpTransport::HttpTransport(std::string_view url, std::string key, HttpTransportOptions options)
    : impl_(std::make_unique<Impl>(url, std::move(key), std::move(options))) {}

HttpTransport::~HttpTransport() {
    std::lock_guard lock(impl_->mutex);
    impl_->close();
}

json::value HttpTransport::send(const json::value& envelope) { return impl_->send(envelope); }

void HttpTransport::setConnectTimeout(std::chrono::milliseconds timeout) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.connectTimeout = timeout;
}

void HttpTransport::setRequestTimeout(std::chrono::milliseconds timeout) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.requestTimeout = timeout;
}

const BackendUrl& HttpTransport::url() const { return impl_->url; }

std::uint64_t HttpTransport::connectionsOpened() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections;
}

std::uint16_t HttpTransport::localPort() const {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->connected()) return 0;
    beast::error_code ec;
    auto endpoint = impl_->lowest().socket().local_endpoint(ec);
    return ec ? 0 : endpoint.port();
}

void HttpTransport::disconnect() {
    std::lock_guard lock(impl_->mutex);
    impl_->close();
}

}  // namespace snorky::connector
