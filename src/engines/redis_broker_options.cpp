// RedisBrokerOptions::fromUrl: the engine URL of the config and the CLI
// (untrusted text: fuzz/targets/redis_url.cpp).
#include "snorky/engines/redis_broker.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <stdexcept>
#include <string>

namespace snorky {

namespace {

int parseInt(std::string_view text, const char* what, int min, int max) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        throw std::invalid_argument(std::string("invalid ") + what + " '" + std::string(text) + "'");
    return value;
}

}  // namespace

RedisBrokerOptions RedisBrokerOptions::fromUrl(std::string_view url) {
    const std::string example = " (expected redis://[:password@]host[:port][/db][?prefix=name:])";
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::invalid_argument("'" + std::string(url) + "' is not a URL" + example);
    const boost::urls::url_view& u = *parsed;
    if (u.scheme() != "redis")
        throw std::invalid_argument("unsupported scheme '" + std::string(u.scheme()) + "'" + example);
    RedisBrokerOptions o;
    if (u.host().empty()) throw std::invalid_argument("no host in '" + std::string(url) + "'" + example);
    o.host = u.host_address();
    if (u.has_port()) {
        try {
            o.port = parseInt(u.port(), "port", 1, 65535);
        } catch (const std::invalid_argument&) {
            throw std::invalid_argument("invalid port in '" + std::string(url) + "'" + example);
        }
    }
    if (u.has_userinfo()) {
        o.username = u.user();
        o.password = u.password();
    }
    std::string path = u.path();
    if (!path.empty() && path != "/") o.database = parseInt(std::string_view(path).substr(1), "database number", 0, 1 << 20);
    for (auto param : u.params()) {
        if (param.key == "prefix") {
            o.prefix = param.value;
        } else {
            throw std::invalid_argument("unknown URL parameter '" + std::string(param.key) + "'" + example);
        }
    }
    if (u.has_fragment()) throw std::invalid_argument("unexpected '#' in '" + std::string(url) + "'" + example);
    return o;
}

}  // namespace snorky
