#include "transport/trusted_proxies.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

namespace snorky {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// One X-Forwarded-For entry: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" or "[v6]:port".
bool parseForwarded(std::string_view entry, ip::address& out) {
    entry = trim(entry);
    if (!entry.empty() && entry.front() == '[') {
        auto close = entry.find(']');
        if (close == std::string_view::npos) return false;
        entry = entry.substr(1, close - 1);
    } else if (auto colon = entry.find(':'); colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        entry = entry.substr(0, colon);  // IPv4 with a port
    }
    boost::system::error_code ec;
    out = ip::make_address(std::string(entry), ec);
    return !ec;
}

template <std::size_t N>
bool samePrefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned prefix) {
    std::size_t full = prefix / 8;
    for (std::size_t i = 0; i < full; ++i)
        if (a[i] != b[i]) return false;
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

ip::address canonicalAddress(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    return address;
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& networks) {
    for (const std::string& text : networks) {
        auto bad = [&text](const char* why) {
            return std::invalid_argument("trusted_proxies: \"" + text + "\" " + why);
        };
        std::string_view s = trim(text);
        auto slash = s.find('/');
        boost::system::error_code ec;
        ip::address base = ip::make_address(std::string(s.substr(0, slash)), ec);
        if (ec) throw bad("is not an IPv4 or IPv6 address or network (a.b.c.d/n, x::y/n)");
        base = canonicalAddress(base);
        unsigned max = base.is_v4() ? 32 : 128;
        unsigned prefix = max;
        if (slash != std::string_view::npos) {
            std::string_view digits = s.substr(slash + 1);
            auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
            if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || prefix > max)
                throw bad(base.is_v4() ? "has a prefix length outside 0-32" : "has a prefix length outside 0-128");
        }
        networks_.push_back({base, prefix});
    }
}

bool TrustedProxies::contains(const ip::address& address) const {
    ip::address a = canonicalAddress(address);
    for (const Network& n : networks_) {
        if (a.is_v4() && n.base.is_v4()) {
            if (samePrefix(a.to_v4().to_bytes(), n.base.to_v4().to_bytes(), n.prefix)) return true;
        } else if (a.is_v6() && n.base.is_v6()) {
            if (samePrefix(a.to_v6().to_bytes(), n.base.to_v6().to_bytes(), n.prefix)) return true;
        }
    }
    return false;
}

ip::address TrustedProxies::clientAddress(const ip::address& peer, const std::vector<std::string_view>& forwardedFor) const {
    ip::address client = canonicalAddress(peer);
    if (!contains(client)) return client;  // a direct client: whatever it claims is not evidence
    std::vector<std::string_view> hops;
    for (std::string_view value : forwardedFor) {
        for (std::size_t start = 0;;) {
            std::size_t comma = value.find(',', start);
            hops.push_back(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    // Each proxy appends the address it was connected from, so the list reads
    // client, proxy1, proxy2... from left to right, and only the entries added
    // by our own proxies can be believed: anything further left may have been
    // written by the client itself to pose as someone else. Walking from the
    // right, the first address that is not one of our proxies is therefore the
    // one a trusted proxy saw connect to it: the real client. (The left-most
    // entry would be whatever the client chose to send.)
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
        ip::address address;
        // Unreadable (e.g. "unknown"): nothing further left can be placed
        // either, so the nearest proxy we trust stands for the client.
        if (!parseForwarded(*hop, address)) return client;
        client = canonicalAddress(address);
        if (!contains(client)) return client;
    }
    return client;  // every hop is one of our proxies: the left-most one
}

}  // namespace snorky
