#include "snorky/connector/backend_url.hpp"

#include <gtest/gtest.h>

using snorky::connector::parseBackendUrl;

TEST(BackendUrlTest, HttpWithPortAndPath) {
    auto url = parseBackendUrl("http://127.0.0.1:5801/backend");
    EXPECT_FALSE(url.secure);
    EXPECT_EQ(url.host, "127.0.0.1");
    EXPECT_EQ(url.port, 5801);
    EXPECT_EQ(url.target, "/backend");
    EXPECT_EQ(url.hostHeader, "127.0.0.1:5801");
}

TEST(BackendUrlTest, DefaultPortsAndRootPath) {
    auto http = parseBackendUrl("http://snorky.example");
    EXPECT_EQ(http.port, 80);
    EXPECT_EQ(http.target, "/");
    EXPECT_EQ(http.hostHeader, "snorky.example");
    auto https = parseBackendUrl("HTTPS://snorky.example/backend");
    EXPECT_TRUE(https.secure);
    EXPECT_EQ(https.port, 443);
    EXPECT_EQ(https.hostHeader, "snorky.example");
    EXPECT_EQ(parseBackendUrl("https://h:8443/b").hostHeader, "h:8443");
}

TEST(BackendUrlTest, QueryKeptFragmentDropped) {
    EXPECT_EQ(parseBackendUrl("http://h/backend?x=1&y=%20#frag").target, "/backend?x=1&y=%20");
}

TEST(BackendUrlTest, Ipv6LiteralResolvesWithoutBrackets) {
    auto url = parseBackendUrl("http://[::1]:5801/backend");
    EXPECT_EQ(url.host, "::1");
    EXPECT_EQ(url.port, 5801);
    EXPECT_EQ(url.hostHeader, "[::1]:5801");
}

TEST(BackendUrlTest, RejectsWhatCannotWork) {
    for (const char* bad : {"", "127.0.0.1:5801/backend", "/backend", "ftp://h/backend", "ws://h/ws",
                            "http:///backend", "http://h:0/b", "http://h:65536/b", "http://h:/b",
                            "http://user:pw@h/backend", "http://h/has space"}) {
        EXPECT_THROW(parseBackendUrl(bad), std::invalid_argument) << bad;
    }
}

TEST(BackendUrlTest, ErrorSaysWhichUrlAndWhy) {
    try {
        parseBackendUrl("ftp://h/x");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("ftp://h/x"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("http or https"), std::string::npos);
    }
}
