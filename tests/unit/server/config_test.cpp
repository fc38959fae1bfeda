#include "server/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace snorky;
using namespace snorky::server;

namespace {
std::string errorOf(const std::string& text) {
    try {
        parseConfig(text, "test.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(Config, DefaultConfigIsTheDocumentedSetup) {
    Config config = parseConfig(kDefaultConfig, "<default>");
    ASSERT_EQ(config.listeners.size(), 2u);
    EXPECT_EQ(config.listeners[0].type, "websocket");
    EXPECT_EQ(config.listeners[1].type, "backend");
    Options ws = config.listeners[0].options;
    auto wsOptions = webSocketOptions(ws);
    EXPECT_EQ(wsOptions.port, 5800);
    EXPECT_EQ(wsOptions.path, "/ws");
    EXPECT_EQ(wsOptions.address, "0.0.0.0");
    Options backend = config.listeners[1].options;
    auto backendOpts = backendOptions(backend, "generated");
    EXPECT_EQ(backendOpts.address, "127.0.0.1");
    EXPECT_EQ(backendOpts.port, 5801);
    ASSERT_EQ(config.services.size(), 2u);
    EXPECT_EQ(config.services[0].name, "pubsub");
    EXPECT_EQ(config.services[1].type, "pubsub_backend");
}

TEST(Config, SyntaxErrorsCarryLineAndColumn) {
    EXPECT_EQ(errorOf("[server]\nthreads = \n").rfind("test.toml:2:", 0), 0u) << errorOf("[server]\nthreads = \n");
}

TEST(Config, StructuralErrorsCarryTheEntryLine) {
    EXPECT_NE(errorOf("[[listener]]\ntype = \"websocket\"\n").find("test.toml:1: listener: 'registry' is required"),
              std::string::npos) << errorOf("[[listener]]\ntype = \"websocket\"\n");
    EXPECT_NE(errorOf("[[listener]]\ntype = \"udp\"\nregistry = \"f\"\n").find("type must be"), std::string::npos);
    EXPECT_NE(errorOf("[bogus]\n").find("unknown section 'bogus'"), std::string::npos);
    EXPECT_NE(errorOf("[server]\nthreads = 2\n").find("no [[listener]]"), std::string::npos);
    EXPECT_NE(errorOf("[server]\nlog_level = \"loud\"\n[[listener]]\ntype=\"websocket\"\nregistry=\"f\"\n").find("log_level"),
              std::string::npos);
}

TEST(Config, OptionsCheckTypesRangesAndUnknownKeys) {
    Options o(json::object{{"port", 70000}, {"path", 5}, {"typo", 1}}, "f.toml:3: listener (websocket)");
    EXPECT_THROW(o.integer("port", 0, 0, 65535), ConfigError);
    EXPECT_THROW(o.string("path", "/"), ConfigError);
    try {
        o.finish();
        FAIL() << "unknown key accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "f.toml:3: listener (websocket): unknown option 'typo'");
    }
}

TEST(Config, BackendKeyComesFromConfigFileThenEnvironmentThenGenerated) {
    unsetenv("SNORKY_BACKEND_KEY");
    Options explicitKey(json::object{{"key", "k1"}}, "x");
    EXPECT_EQ(backendOptions(explicitKey, "gen").key, "k1");
    setenv("SNORKY_BACKEND_KEY", "from-env", 1);
    Options envKey(json::object{}, "x");
    EXPECT_EQ(backendOptions(envKey, "gen").key, "from-env");
    unsetenv("SNORKY_BACKEND_KEY");
    Options generated(json::object{}, "x");
    EXPECT_EQ(backendOptions(generated, "gen").key, "gen");
    Options none(json::object{}, "x");
    EXPECT_THROW(backendOptions(none, ""), ConfigError);
    Options both(json::object{{"key", "a"}, {"key_file", "/b"}}, "x");
    EXPECT_THROW(backendOptions(both, ""), ConfigError);
}

TEST(Config, RandomKeysAreLongAndDistinct) {
    std::string a = randomKey(), b = randomKey();
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, b);
}

TEST(Config, ServicesAreBuiltAndBackendsFindTheirFrontend) {
    Config config = parseConfig(kDefaultConfig, "<default>");
    Server server(1);
    apply(config, server, ServiceFactory::builtin(), "generated-key");
    EXPECT_NE(server.registry("frontend").find("pubsub"), nullptr);
    EXPECT_NE(server.registry("backend").find("pubsub_backend"), nullptr);
}

TEST(Config, BackendNamingAMissingServiceIsAnError) {
    Config config = parseConfig(R"(
[[listener]]
type = "websocket"
registry = "f"
port = 0
[[service]]
name = "b"
type = "pubsub_backend"
registry = "back"
pubsub = "nope"
)", "t.toml");
    Server server(1);
    try {
        apply(config, server, ServiceFactory::builtin(), "");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("t.toml:6: service 'b': no service named 'nope'"), std::string::npos) << e.what();
    }
}

TEST(Config, BackendRequestReadTimeoutHasADefaultAndARange) {
    Options defaults(json::object{{"key", "k"}}, "x");
    EXPECT_EQ(backendOptions(defaults, "").requestReadTimeout, std::chrono::seconds(10));
    Options set(json::object{{"key", "k"}, {"request_read_timeout", 1}}, "x");
    EXPECT_EQ(backendOptions(set, "").requestReadTimeout, std::chrono::seconds(1));
    for (json::value bad : {json::value(0), json::value(3601), json::value("10"), json::value(2.5)}) {
        Options o(json::object{{"key", "k"}, {"request_read_timeout", bad}}, "f.toml:9: listener (backend)");
        try {
            backendOptions(o, "");
            FAIL() << "accepted " << json::serialize(bad);
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("f.toml:9: listener (backend): option 'request_read_timeout'"),
                      std::string::npos) << e.what();
        }
    }
}

TEST(Config, AbuseLimitsHaveDefaultsAndAreValidated) {
    Options defaults(json::object{}, "x");
    WebSocketOptions w = webSocketOptions(defaults);
    EXPECT_EQ(w.rateLimit, 100u);
    EXPECT_EQ(w.rateBurst, 200u);
    EXPECT_EQ(w.rateLimitDisconnect, 100u);
    EXPECT_EQ(w.maxConnectionsPerIp, 0u);
    EXPECT_TRUE(w.trustedProxies.empty());
    EXPECT_EQ(w.maxHandshakes, 1024u);

    Options set(json::object{{"rate_limit", 50}, {"rate_burst", 60}, {"rate_limit_disconnect", 0},
                             {"max_connections_per_ip", 8}, {"max_handshakes", 10},
                             {"trusted_proxies", json::array{"127.0.0.1", "10.0.0.0/8", "fd00::/8"}}},
                "x");
    w = webSocketOptions(set);
    set.finish();
    EXPECT_EQ(w.rateLimit, 50u);
    EXPECT_EQ(w.rateBurst, 60u);
    EXPECT_EQ(w.rateLimitDisconnect, 0u);
    EXPECT_EQ(w.maxConnectionsPerIp, 8u);
    EXPECT_EQ(w.maxHandshakes, 10u);
    EXPECT_EQ(w.trustedProxies.size(), 3u);

    Options burstOnlyRate(json::object{{"rate_limit", 1000}}, "x");
    EXPECT_EQ(webSocketOptions(burstOnlyRate).rateBurst, 2000u);  // the burst follows the rate
}

TEST(Config, AbuseLimitErrorsNameTheListenerLine) {
    auto listener = [](const std::string& option) {
        return "[[listener]]\ntype = \"websocket\"\nregistry = \"f\"\n" + option + "\n";
    };
    auto applyError = [](const std::string& text) -> std::string {
        try {
            Config config = parseConfig(text, "test.toml");
            Options o = config.listeners.at(0).options;
            webSocketOptions(o);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    };
    std::string e = applyError(listener("trusted_proxies = [\"10.0.0.0/33\"]"));
    EXPECT_EQ(e.rfind("test.toml:1: listener (websocket): trusted_proxies: \"10.0.0.0/33\"", 0), 0u) << e;
    e = applyError(listener("trusted_proxies = [\"proxy.example\"]"));
    EXPECT_NE(e.find("\"proxy.example\""), std::string::npos) << e;
    e = applyError(listener("rate_limit = 100\nrate_burst = 10"));
    EXPECT_EQ(e.rfind("test.toml:1:", 0), 0u) << e;
    EXPECT_NE(e.find("rate_burst (10) must be at least rate_limit (100)"), std::string::npos) << e;
    e = applyError(listener("max_handshakes = -1"));
    EXPECT_NE(e.find("max_handshakes"), std::string::npos) << e;
    e = applyError(listener("max_connections_per_ip = \"many\""));
    EXPECT_NE(e.find("max_connections_per_ip"), std::string::npos) << e;
}

TEST(Config, MemoryTrimIntervalHasADefaultARangeAndReachesTheServer) {
    const std::string listener = "[[listener]]\ntype = \"websocket\"\nregistry = \"f\"\nport = 0\n";
    EXPECT_EQ(parseConfig(listener, "t.toml").memoryTrimInterval, std::chrono::seconds(30));
    EXPECT_EQ(parseConfig(kDefaultConfig, "<default>").memoryTrimInterval, std::chrono::seconds(30));
    Config off = parseConfig("[server]\nmemory_trim_interval = 0\n" + listener, "t.toml");
    EXPECT_EQ(off.memoryTrimInterval, std::chrono::seconds(0));
    EXPECT_NE(errorOf("[server]\nmemory_trim_interval = -1\n" + listener).find("memory_trim_interval"), std::string::npos);
    EXPECT_NE(errorOf("[server]\nmemory_trim_interval = 1e3\n" + listener).find("memory_trim_interval"), std::string::npos);

    Config config = parseConfig("[server]\nmemory_trim_interval = 5\n" + listener, "t.toml");
    Server server(1);
    apply(config, server, ServiceFactory::builtin(), "");
    EXPECT_EQ(server.memoryTrimInterval, std::chrono::seconds(5));
}

TEST(Config, CompressionIsOffByDefaultAndTheStatusPageOn) {
    Options defaults(json::object{}, "x");
    WebSocketOptions w = webSocketOptions(defaults);
    EXPECT_FALSE(w.compression);
    EXPECT_EQ(w.compressionThreshold, 128u);
    Options set(json::object{{"compression", true}, {"compression_threshold", 0}}, "x");
    w = webSocketOptions(set);
    set.finish();
    EXPECT_TRUE(w.compression);
    EXPECT_EQ(w.compressionThreshold, 0u);
    Options negative(json::object{{"compression_threshold", -1}}, "x");
    EXPECT_THROW(webSocketOptions(negative), ConfigError);
    Options notBool(json::object{{"compression", "yes"}}, "x");
    EXPECT_THROW(webSocketOptions(notBool), ConfigError);

    Options backend(json::object{{"key", "k"}}, "x");
    EXPECT_TRUE(backendOptions(backend, "").statusPage);
    Options off(json::object{{"key", "k"}, {"status_page", false}}, "x");
    EXPECT_FALSE(backendOptions(off, "").statusPage);
}
