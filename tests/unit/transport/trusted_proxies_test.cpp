#include "transport/trusted_proxies.hpp"

#include <gtest/gtest.h>

using snorky::TrustedProxies;
namespace ip = boost::asio::ip;

namespace {
ip::address addr(const char* text) { return ip::make_address(text); }

std::string client(const TrustedProxies& proxies, const char* peer, std::vector<std::string_view> xff) {
    return proxies.clientAddress(addr(peer), xff).to_string();
}
}  // namespace

TEST(TrustedProxies, Ipv4NetworksMatchByPrefix) {
    TrustedProxies p({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25"});
    EXPECT_TRUE(p.contains(addr("127.0.0.1")));
    EXPECT_FALSE(p.contains(addr("127.0.0.2")));
    EXPECT_TRUE(p.contains(addr("10.255.1.2")));
    EXPECT_FALSE(p.contains(addr("11.0.0.1")));
    EXPECT_TRUE(p.contains(addr("192.168.1.200")));
    EXPECT_FALSE(p.contains(addr("192.168.1.127")));
}

TEST(TrustedProxies, Ipv6NetworksMatchByPrefixAndMappedIpv4MatchesIpv4) {
    TrustedProxies p({"::1", "fd00::/8", "2001:db8:abcd::/49", "10.0.0.0/8"});
    EXPECT_TRUE(p.contains(addr("::1")));
    EXPECT_TRUE(p.contains(addr("fd12:3456::1")));
    EXPECT_FALSE(p.contains(addr("fe80::1")));
    EXPECT_TRUE(p.contains(addr("2001:db8:abcd:7fff::1")));
    EXPECT_FALSE(p.contains(addr("2001:db8:abcd:8000::1")));
    EXPECT_TRUE(p.contains(addr("::ffff:10.1.2.3")));  // a dual-stack listener's view of 10.1.2.3
    EXPECT_FALSE(p.contains(addr("::ffff:11.1.2.3")));
}

TEST(TrustedProxies, ZeroPrefixTrustsTheWholeFamily) {
    TrustedProxies p({"0.0.0.0/0"});
    EXPECT_TRUE(p.contains(addr("8.8.8.8")));
    EXPECT_FALSE(p.contains(addr("2001:db8::1")));
}

TEST(TrustedProxies, BadEntriesAreRefusedByName) {
    for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "example.com", "", "10.0.0"}) {
        try {
            TrustedProxies p({bad});
            ADD_FAILURE() << bad << " accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos) << e.what();
        }
    }
}

TEST(ForwardedFor, AnUntrustedPeerIsTheClientWhateverItClaims) {
    TrustedProxies p({"10.0.0.0/8"});
    EXPECT_EQ(client(p, "203.0.113.9", {"1.2.3.4"}), "203.0.113.9");
    EXPECT_EQ(client(p, "::ffff:203.0.113.9", {}), "203.0.113.9");
    EXPECT_EQ(client(TrustedProxies(), "127.0.0.1", {"1.2.3.4"}), "127.0.0.1");
}

TEST(ForwardedFor, TheRightMostUntrustedAddressIsTheClient) {
    TrustedProxies p({"127.0.0.1", "10.0.0.0/8"});
    EXPECT_EQ(client(p, "127.0.0.1", {"1.2.3.4"}), "1.2.3.4");
    // The client wrote "6.6.6.6" itself; our proxy appended what it saw.
    EXPECT_EQ(client(p, "127.0.0.1", {"6.6.6.6, 1.2.3.4"}), "1.2.3.4");
    // Two of our proxies in a row are skipped.
    EXPECT_EQ(client(p, "127.0.0.1", {"6.6.6.6, 1.2.3.4, 10.1.1.1, 10.2.2.2"}), "1.2.3.4");
    // Several headers read as one list, in order.
    EXPECT_EQ(client(p, "127.0.0.1", {"6.6.6.6", "1.2.3.4,10.0.0.5"}), "1.2.3.4");
    EXPECT_EQ(client(p, "127.0.0.1", {" 2001:db8::7 "}), "2001:db8::7");
}

TEST(ForwardedFor, PortsAndBracketsAreRead) {
    TrustedProxies p({"127.0.0.1"});
    EXPECT_EQ(client(p, "127.0.0.1", {"1.2.3.4:5678"}), "1.2.3.4");
    EXPECT_EQ(client(p, "127.0.0.1", {"[2001:db8::1]:443"}), "2001:db8::1");
    EXPECT_EQ(client(p, "127.0.0.1", {"[2001:db8::1]"}), "2001:db8::1");
    EXPECT_EQ(client(p, "127.0.0.1", {"::ffff:1.2.3.4"}), "1.2.3.4");
}

TEST(ForwardedFor, WithoutAReadableHopTheNearestProxyStandsForTheClient) {
    TrustedProxies p({"127.0.0.1", "10.0.0.0/8"});
    EXPECT_EQ(client(p, "127.0.0.1", {}), "127.0.0.1");
    EXPECT_EQ(client(p, "127.0.0.1", {"unknown"}), "127.0.0.1");
    EXPECT_EQ(client(p, "127.0.0.1", {"1.2.3.4, garbage, 10.0.0.9"}), "10.0.0.9");
    EXPECT_EQ(client(p, "127.0.0.1", {""}), "127.0.0.1");
    // Only proxies of ours: the left-most one.
    EXPECT_EQ(client(p, "127.0.0.1", {"10.0.0.1, 10.0.0.2"}), "10.0.0.1");
}
