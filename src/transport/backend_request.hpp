#pragma once
// What the backend listener does with a request once its header is read,
// decided from the header and the listener's options alone. Pure (no socket):
// the session applies the route, the fuzz target and unit tests call it directly.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <functional>
#include <string_view>

#include "snorky/transport/server.hpp"

namespace snorky {

// The request header may be at most this long (the parser's header_limit).
inline constexpr std::uint32_t kMaxBackendHeader = 16 * 1024;

struct BackendRoute {
    enum class Kind {
        Health,    // GET /health
        Metrics,   // GET /metrics
        StatusPage,  // GET /status: the page alone, no figures in it
        Status,      // GET /status.json with the backend key: the figures
        Refuse,    // answer `status` with `error`, then close (the body is never read)
        ReadBody,  // an authenticated POST: read the body (at most maxBodySize)
    };
    Kind kind = Kind::Refuse;
    unsigned status = 0;
    const char* error = nullptr;  // errors.hpp
};

// `contentLength` is the parser's, when the request declared one;
// `keyMatches` checks a presented X-Backend-Key (in constant time).
BackendRoute routeBackendRequest(const boost::beast::http::request<boost::beast::http::string_body>& request,
                                 boost::optional<std::uint64_t> contentLength, const BackendOptions& options,
                                 const std::function<bool(std::string_view)>& keyMatches);

}  // namespace snorky
