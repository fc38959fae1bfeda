#include "snorky/connector/backend_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <stdexcept>

namespace snorky::connector {

namespace {
[[noreturn]] void reject(std::string_view url, std::string_view why) {
    throw std::invalid_argument("invalid backend URL '" + std::string(url) + "': " + std::string(why));
}
}  // namespace

BackendUrl parseBackendUrl(std::string_view text) {
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) reject(text, "expected http://host[:port]/path or https://...");
    boost::urls::url_view url = *parsed;

    BackendUrl result;
    result.text = std::string(text);
    switch (url.scheme_id()) {
    case boost::urls::scheme::http: result.secure = false; break;
    case boost::urls::scheme::https: result.secure = true; break;
    default: reject(text, "the scheme must be http or https");
    }
    if (url.has_userinfo()) reject(text, "user info is not allowed (the key is sent in a header)");

    std::string encodedHost(url.encoded_host());
    if (encodedHost.empty()) reject(text, "no host");
    if (url.host_type() == boost::urls::host_type::ipv6) {
        result.host = url.host_address();  // without the brackets, for the resolver
    } else {
        result.host = url.host();  // percent-decoded
    }

    const std::uint16_t defaultPort = result.secure ? 443 : 80;
    result.port = defaultPort;
    if (url.has_port()) {
        if (url.port().empty()) reject(text, "empty port");
        // port_number() is 0 when the port does not fit in 16 bits.
        if (url.port_number() == 0) reject(text, "port must be 1-65535");
        result.port = url.port_number();
    }

    result.target = url.encoded_path().empty() ? std::string("/") : std::string(url.encoded_path());
    if (result.target.front() != '/') result.target.insert(0, "/");
    if (url.has_query()) result.target += "?" + std::string(url.encoded_query());

    result.hostHeader = encodedHost;
    if (result.port != defaultPort) result.hostHeader += ":" + std::to_string(result.port);
    return result;
}

}  // namespace snorky::connector
