#pragma once
// Which reverse proxies may tell us the client's address (X-Forwarded-For),
// and reading that address. A list of networks in CIDR notation, IPv4 and
// IPv6 ("10.0.0.0/8", "::1", "fd00::/8"); a plain address is a /32 or /128.
// Pure: no I/O, unit-tested.
#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace snorky {

class TrustedProxies {
public:
    TrustedProxies() = default;
    // Throws std::invalid_argument naming the first entry that does not parse.
    explicit TrustedProxies(const std::vector<std::string>& networks);

    bool empty() const { return networks_.empty(); }
    // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 networks.
    bool contains(const boost::asio::ip::address& address) const;

    // The client's address for a connection from `peer` that carried these
    // X-Forwarded-For values (every header's value, in order): `peer` itself
    // unless it is a trusted proxy; then the right-most address in the list
    // that is not a trusted proxy.
    boost::asio::ip::address clientAddress(const boost::asio::ip::address& peer,
                                           const std::vector<std::string_view>& forwardedFor) const;

private:
    struct Network {
        boost::asio::ip::address base;
        unsigned prefix;
    };
    std::vector<Network> networks_;
};

// IPv4-mapped IPv6 addresses as IPv4 (a dual-stack listener reports those).
boost::asio::ip::address canonicalAddress(const boost::asio::ip::address& address);

}  // namespace snorky
