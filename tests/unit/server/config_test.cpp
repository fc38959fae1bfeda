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
