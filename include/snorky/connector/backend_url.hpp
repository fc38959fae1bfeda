#pragma once
// Where a backend listener lives: http[s]://host[:port]/path[?query].
#include <cstdint>
#include <string>
#include <string_view>

namespace snorky::connector {

struct BackendUrl {
    bool secure = false;     // https
    std::string host;        // to resolve: no brackets around IPv6 literals
    std::uint16_t port = 0;  // the scheme's default when the URL has none
    std::string target;      // request target: path (at least "/") and query
    std::string hostHeader;  // value of the Host header (port only when not default)
    std::string text;        // the URL as given, for error messages
};

// Parses with Boost.URL. Throws std::invalid_argument saying what is wrong
// for: not an absolute URL, a scheme other than http/https, no host, port 0
// or out of range, user info (the key goes in a header, never in the URL).
// The fragment is ignored.
BackendUrl parseBackendUrl(std::string_view url);

}  // namespace snorky::connector
