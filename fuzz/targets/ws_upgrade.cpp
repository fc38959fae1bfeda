// The WebSocket listener's HTTP side: Beast's request parser with the
// session's header limit, then decideUpgrade (src/transport/upgrade_request.cpp)
// for every request on the connection (keep-alive), as WsSession::onRequest.
// The token hook accepts one fixed token, so the query parsing is reached.
#include <string>

#include "fuzz_check.hpp"
#include "snorky/protocol/ws_codec.hpp"
#include "targets/http_feed.hpp"
#include "transport/static_files.hpp"
#include "transport/upgrade_request.hpp"

using namespace snorky;
namespace http = boost::beast::http;

namespace {
const WebSocketOptions& options() {
    static const WebSocketOptions o = [] {
        WebSocketOptions w;
        w.path = "/ws";
        w.allowedOrigins = {"https://app.example", "http://localhost:5800"};
        w.verifyToken = [](std::string_view token, std::string& error) -> std::optional<json::value> {
            if (token == "good-token") return json::value{{"user", "alice"}};
            error = "Invalid token";
            return std::nullopt;
        };
        return w;
    }();
    return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::size_t pos = 0;
    while (pos < size) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(kMaxUpgradeHeader);
        boost::beast::error_code ec;
        if (fuzz::feed(parser, data, size, pos, false, ec) != fuzz::Feed::Done) break;
        const auto& request = parser.get();
        UpgradeDecision decision = decideUpgrade(request, options());
        switch (decision.kind) {
            case UpgradeDecision::Kind::Accept:
                FUZZ_CHECK(decision.path == "/ws");
                FUZZ_CHECK(decision.key.size() == 24);
                FUZZ_CHECK(request[http::field::sec_websocket_version] == "13");
                FUZZ_CHECK(decision.identity.is_null() || decision.identity.at("user") == "alice");
                FUZZ_CHECK(ws::acceptKey(decision.key).size() == 28);
                break;
            case UpgradeDecision::Kind::Refuse:
                FUZZ_CHECK(decision.status >= 400 && decision.status < 500);
                FUZZ_CHECK(!decision.error.empty() || !decision.extraHeaders.empty());
                break;
            case UpgradeDecision::Kind::NotUpgrade:
                FUZZ_CHECK(decision.status == 404 || decision.status == 426);
                FUZZ_CHECK(decision.path.size() <= request.target().size());
                StaticFiles::segments(decision.path);
                break;
        }
        if (!request.keep_alive() || decision.kind != UpgradeDecision::Kind::NotUpgrade) break;
    }
    return 0;
}
