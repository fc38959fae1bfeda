#include "transport/upgrade_request.hpp"

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace http = boost::beast::http;

namespace {
UpgradeDecision refusal(unsigned status, std::string error, std::string extraHeaders = "") {
    UpgradeDecision d;
    d.kind = UpgradeDecision::Kind::Refuse;
    d.status = status;
    d.error = std::move(error);
    d.extraHeaders = std::move(extraHeaders);
    return d;
}
}  // namespace

UpgradeDecision decideUpgrade(const http::request<http::empty_body>& request, const WebSocketOptions& options) {
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));

    if (!boost::beast::websocket::is_upgrade(request)) {
        UpgradeDecision d;
        d.kind = UpgradeDecision::Kind::NotUpgrade;
        d.path = path;
        d.status = path == options.path ? 426 : 404;
        d.error = path == options.path ? "This is a WebSocket endpoint" : "Not found";
        return d;
    }

    if (path != options.path) return refusal(404, "Not found");
    if (request[http::field::sec_websocket_version] != "13") return refusal(426, "", "Sec-WebSocket-Version: 13\r\n");
    std::string_view key = request[http::field::sec_websocket_key];
    if (key.size() != 24) return refusal(400, "Invalid Sec-WebSocket-Key");

    if (!options.allowedOrigins.empty()) {
        auto origin = request.find(http::field::origin);
        if (origin != request.end() &&
            std::find(options.allowedOrigins.begin(), options.allowedOrigins.end(), origin->value()) ==
                options.allowedOrigins.end())
            return refusal(403, "Origin not allowed");
    }

    UpgradeDecision d;
    d.kind = UpgradeDecision::Kind::Accept;
    d.path = path;
    d.key = std::string(key);
    auto url = boost::urls::parse_origin_form(target);
    // A query we cannot read may hold a token we would miss: refused like a
    // bad token, never connected anonymously.
    if (!url) return refusal(401, errors::kMalformedQuery);
    auto params = url->params();
    auto token = params.find("token");
    if (token != params.end()) {
        if (!options.verifyToken) return refusal(401, "Identity tokens are not enabled on this listener");
        // Two tokens: which one a proxy or a log looked at is anyone's guess.
        if (params.count("token") > 1) return refusal(401, errors::kInvalidToken);
        std::string error;
        auto verified = options.verifyToken((*token).value, error);
        if (!verified) return refusal(401, error);
        d.identity = std::move(*verified);
    }
    if (options.compression) {
        // Offers may be spread over several header lines: one list, as RFC 9110 5.3 allows.
        std::string offers;
        auto [first, last] = request.equal_range(http::field::sec_websocket_extensions);
        for (auto field = first; field != last; ++field) {
            if (!offers.empty()) offers += ", ";
            offers += field->value();
        }
        d.deflate = ws::negotiateDeflate(offers);
    }
    return d;
}

}  // namespace snorky
