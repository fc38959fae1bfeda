#pragma once
// A scripted HTTP/1.1 server on 127.0.0.1 for connector tests. It counts the
// connections it accepted and the requests it read, and answers each request
// the way the test's handler says: a normal reply, closing without a reply, a
// reply cut in the middle, or silence. Runs on its own thread. With a
// certificate it speaks HTTPS.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <optional>
#include <vector>

#include "support/test_certificate.hpp"

namespace snorky::testing {

struct FakeReply {
    enum class Mode {
        Reply,              // answer status/body
        CloseWithoutReply,  // read the request, then close the connection
        PartialThenClose,   // send the headers and part of the body, then close
        Silent,             // never answer (until the client gives up)
    };
    Mode mode = Mode::Reply;
    int status = 200;
    std::string body = R"({"service":"s","message":{"type":"response","data":null}})";
    std::string contentType = "application/json";
    bool closeAfter = false;             // close the connection after the reply
    bool announceClose = false;          // ... and say so with Connection: close
};

struct FakeRequest {
    std::string method;
    std::string target;
    std::string backendKey;  // X-Backend-Key
    std::string contentType;
    std::string accept;
    std::string body;
    int connection = 0;  // 1-based index of the connection it came on
};

class FakeHttpServer {
public:
    using Handler = std::function<FakeReply(const FakeRequest&)>;

    explicit FakeHttpServer(Handler handler = nullptr, const TestCertificate* tls = nullptr)
        : handler_(handler ? std::move(handler) : [](const FakeRequest&) { return FakeReply{}; }),
          acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        port_ = acceptor_.local_endpoint().port();
        if (tls) {
            tls_.emplace(boost::asio::ssl::context::tls_server);
            tls_->use_certificate_chain_file(tls->certFile);
            tls_->use_private_key_file(tls->keyFile, boost::asio::ssl::context::pem);
        }
        boost::asio::co_spawn(ioc_, acceptLoop(), boost::asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }

    ~FakeHttpServer() {
        ioc_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/backend") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    // The certificate names "localhost" only.
    std::string httpsUrl(const std::string& host = "localhost", const std::string& path = "/backend") const {
        return "https://" + host + ":" + std::to_string(port_) + path;
    }
    int failedHandshakes() const {
        std::lock_guard lock(mutex_);
        return failedHandshakes_;
    }

    int accepts() const {
        std::lock_guard lock(mutex_);
        return accepts_;
    }
    std::vector<FakeRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    boost::asio::awaitable<void> acceptLoop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            int index;
            {
                std::lock_guard lock(mutex_);
                index = ++accepts_;
            }
            if (tls_) {
                boost::asio::co_spawn(ioc_, serveTls(std::move(socket), index), boost::asio::detached);
            } else {
                boost::asio::co_spawn(ioc_, servePlain(std::move(socket), index), boost::asio::detached);
            }
        }
    }

    boost::asio::awaitable<void> servePlain(boost::asio::ip::tcp::socket socket, int connection) {
        co_await serve(socket, connection);
    }

    boost::asio::awaitable<void> serveTls(boost::asio::ip::tcp::socket socket, int connection) {
        boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), *tls_);
        auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                                    boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) {
            std::lock_guard lock(mutex_);
            ++failedHandshakes_;
            co_return;
        }
        co_await serve(stream, connection);
    }

    template <class Stream>
    boost::asio::awaitable<void> serve(Stream& socket, int connection) {
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> request;
            auto [readError, n] = co_await http::async_read(socket, buffer, request, as_tuple(use_awaitable));
            if (readError) co_return;
            FakeRequest seen{std::string(request.method_string()),
                             std::string(request.target()),
                             std::string(request["X-Backend-Key"]),
                             std::string(request[http::field::content_type]),
                             std::string(request[http::field::accept]),
                             request.body(),
                             connection};
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(seen);
            }
            FakeReply reply = handler_(seen);
            boost::system::error_code ignored;
            switch (reply.mode) {
            case FakeReply::Mode::CloseWithoutReply:
                boost::beast::get_lowest_layer(socket).close(ignored);
                co_return;
            case FakeReply::Mode::PartialThenClose: {
                std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(reply.body.size() + 100) + "\r\n\r\n" + reply.body;
                co_await boost::asio::async_write(socket, boost::asio::buffer(head), as_tuple(use_awaitable));
                boost::beast::get_lowest_layer(socket).close(ignored);
                co_return;
            }
            case FakeReply::Mode::Silent: {
                // Hold the connection until the client closes it.
                char sink[256];
                for (;;) {
                    auto [e, got] = co_await socket.async_read_some(boost::asio::buffer(sink), as_tuple(use_awaitable));
                    if (e) co_return;
                }
            }
            case FakeReply::Mode::Reply: {
                http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
                response.set(http::field::content_type, reply.contentType);
                response.body() = reply.body;
                response.keep_alive(!reply.announceClose);
                response.prepare_payload();
                auto [writeError, w] = co_await http::async_write(socket, response, as_tuple(use_awaitable));
                if (writeError || reply.closeAfter || reply.announceClose) {
                    boost::beast::get_lowest_layer(socket).close(ignored);
                    co_return;
                }
            }
            }
        }
    }

    Handler handler_;
    std::optional<boost::asio::ssl::context> tls_;  // outlives the connections in ioc_
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    int accepts_ = 0;
    std::vector<FakeRequest> requests_;
    int failedHandshakes_ = 0;
};

}  // namespace snorky::testing
