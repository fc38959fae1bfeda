#pragma once
// What a WebSocket listener does with one HTTP request, decided from the
// request and the listener's options alone. Pure (no socket, no files): the
// session applies the decision, the fuzz target and unit tests call it directly.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"
#include "snorky/protocol/permessage_deflate.hpp"
#include "snorky/transport/server.hpp"

namespace snorky {

// The request header may be at most this long (the parser's header_limit).
inline constexpr std::uint32_t kMaxUpgradeHeader = 8 * 1024;

struct UpgradeDecision {
    enum class Kind {
        Accept,      // switch protocols with `key`, as `identity`
        Refuse,      // answer `status` and close
        NotUpgrade,  // a plain request: a static file for `path`, else answer `status`
    };
    Kind kind = Kind::Refuse;
    unsigned status = 0;
    std::string error;         // the JSON body's "error"; empty: an empty body
    std::string extraHeaders;  // header lines ("Name: value\r\n") for the refusal
    std::string_view path;     // the target without its query (points into the request)
    std::string key;           // Sec-WebSocket-Key
    json::value identity;      // from a verified `token` query parameter, else null
    ws::DeflateAgreement deflate;  // permessage-deflate, when the listener and the client want it
};

UpgradeDecision decideUpgrade(const boost::beast::http::request<boost::beast::http::empty_body>& request,
                              const WebSocketOptions& options);

}  // namespace snorky
