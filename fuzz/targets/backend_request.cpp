// The backend listener's HTTP side, as BackendSession reads it: Beast's
// request parser with the session's header limit and no body limit while the
// header is read; routeBackendRequest (src/transport/backend_request.cpp);
// for an authenticated POST the body (Content-Length or chunked) under
// max_body_size, then the envelope. Every request of a keep-alive connection.
#include <string>

#include "fuzz_check.hpp"
#include "snorky/protocol/envelope.hpp"
#include "snorky/protocol/errors.hpp"
#include "targets/http_feed.hpp"
#include "transport/backend_request.hpp"

using namespace snorky;
namespace http = boost::beast::http;

namespace {
const BackendOptions& options() {
    static const BackendOptions o = [] {
        BackendOptions b;
        b.path = "/backend";
        b.key = "fuzz-key";
        b.maxBodySize = 512;  // small, so that fuzz inputs reach the limit (config minimum: 128)
        return b;
    }();
    return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const BackendOptions& o = options();
    auto keyMatches = [&o](std::string_view key) { return key == o.key; };
    std::size_t pos = 0;
    while (pos < size) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(kMaxBackendHeader);
        parser.body_limit(boost::none);
        boost::beast::error_code ec;
        if (fuzz::feed(parser, data, size, pos, true, ec) != fuzz::Feed::Done) break;
        const auto& request = parser.get();
        bool keepAlive = request.keep_alive();
        BackendRoute route = routeBackendRequest(request, parser.content_length(), o, keyMatches);
        if (route.kind != BackendRoute::Kind::ReadBody) {
            if (route.kind == BackendRoute::Kind::Refuse) {
                FUZZ_CHECK(route.status >= 400 && route.status < 500 && route.error);
                FUZZ_CHECK(route.status != 401 || request.find("X-Backend-Key") == request.end() ||
                           request["X-Backend-Key"] != o.key);
            }
            break;  // the session answers and closes: the body is never read
        }
        FUZZ_CHECK(request.method() == http::verb::post && request["X-Backend-Key"] == o.key);
        FUZZ_CHECK(!parser.content_length() || *parser.content_length() <= o.maxBodySize);

        parser.body_limit(o.maxBodySize);  // also bounds chunked bodies
        auto fed = fuzz::feed(parser, data, size, pos, false, ec);
        if (ec == http::error::body_limit) break;  // 413, connection closed
        if (fed != fuzz::Feed::Done) break;
        std::string body = parser.release().body();
        FUZZ_CHECK(body.size() <= o.maxBodySize);
        auto parsed = parseEnvelope(body);
        if (auto* envelope = std::get_if<Envelope>(&parsed)) serializeEnvelope(envelope->service, envelope->message);
        if (!keepAlive) break;
    }
    return 0;
}
