// routeBackendRequest: what the backend listener does once a header is read.
#include "transport/backend_request.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>

#include "snorky/protocol/errors.hpp"

using namespace snorky;
namespace http = boost::beast::http;

namespace {
struct Parsed {
    http::request_parser<http::string_body> parser;
    explicit Parsed(const std::string& text) {
        parser.header_limit(kMaxBackendHeader);
        parser.eager(false);
        boost::beast::error_code ec;
        parser.put(boost::asio::buffer(text), ec);
        EXPECT_TRUE(parser.is_header_done()) << ec.message();
    }
    BackendRoute route() const {
        BackendOptions o;
        o.maxBodySize = 100;
        return routeBackendRequest(parser.get(), parser.content_length(), o,
                                   [](std::string_view key) { return key == "k"; });
    }
};
}  // namespace

TEST(BackendRequest, Routes) {
    using Kind = BackendRoute::Kind;
    EXPECT_EQ(Parsed("GET /health HTTP/1.1\r\n\r\n").route().kind, Kind::Health);
    EXPECT_EQ(Parsed("GET /metrics?x HTTP/1.1\r\n\r\n").route().kind, Kind::Metrics);
    EXPECT_EQ(Parsed("POST /backend HTTP/1.1\r\nX-Backend-Key: k\r\nContent-Length: 100\r\n\r\n").route().kind,
              Kind::ReadBody);
    EXPECT_EQ(Parsed("POST /backend HTTP/1.1\r\nX-Backend-Key: k\r\nTransfer-Encoding: chunked\r\n\r\n").route().kind,
              Kind::ReadBody);
}

TEST(BackendRequest, RefusalsBeforeTheBody) {
    struct Case {
        std::string request;
        unsigned status;
        const char* error;
    } cases[] = {
        {"POST /other HTTP/1.1\r\nX-Backend-Key: k\r\n\r\n", 404, errors::kNotFound},
        {"GET /backend HTTP/1.1\r\nX-Backend-Key: k\r\n\r\n", 405, errors::kMethodNotAllowed},
        {"POST /backend HTTP/1.1\r\n\r\n", 401, errors::kMissingKey},
        {"POST /backend HTTP/1.1\r\nX-Backend-Key: nope\r\n\r\n", 401, errors::kInvalidKey},
        {"POST /backend HTTP/1.1\r\nX-Backend-Key: k\r\nContent-Length: 101\r\n\r\n", 413, errors::kBodyTooLarge},
    };
    for (const auto& c : cases) {
        auto route = Parsed(c.request).route();
        EXPECT_EQ(route.kind, BackendRoute::Kind::Refuse) << c.request;
        EXPECT_EQ(route.status, c.status) << c.request;
        EXPECT_STREQ(route.error, c.error) << c.request;
    }
}

TEST(BackendRequest, StatusPageWithoutKeyAndItsFiguresOnlyWithTheKey) {
    using Kind = BackendRoute::Kind;
    EXPECT_EQ(Parsed("GET /status HTTP/1.1\r\n\r\n").route().kind, Kind::StatusPage);
    EXPECT_EQ(Parsed("GET /status.json HTTP/1.1\r\nX-Backend-Key: k\r\n\r\n").route().kind, Kind::Status);
    auto missing = Parsed("GET /status.json HTTP/1.1\r\n\r\n").route();
    EXPECT_EQ(missing.kind, Kind::Refuse);
    EXPECT_EQ(missing.status, 401u);
    EXPECT_STREQ(missing.error, errors::kMissingKey);
    auto wrong = Parsed("GET /status.json HTTP/1.1\r\nX-Backend-Key: nope\r\n\r\n").route();
    EXPECT_EQ(wrong.status, 401u);
    EXPECT_STREQ(wrong.error, errors::kInvalidKey);
    // Only GET; and none of it when the listener turns it off.
    EXPECT_EQ(Parsed("POST /status.json HTTP/1.1\r\nX-Backend-Key: k\r\n\r\n").route().status, 404u);
    http::request_parser<http::string_body> parser;
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(std::string("GET /status HTTP/1.1\r\n\r\n")), ec);
    BackendOptions off;
    off.statusPage = false;
    auto route = routeBackendRequest(parser.get(), parser.content_length(), off, [](std::string_view) { return true; });
    EXPECT_EQ(route.status, 404u);
}
