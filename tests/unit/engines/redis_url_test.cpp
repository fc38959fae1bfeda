// The engine URL (`[server] engine = "redis://..."`) and its errors.
#include <gtest/gtest.h>

#include "server/config.hpp"
#include "snorky/core/memory_broker.hpp"
#include "snorky/core/memory_cluster_state.hpp"
#include "snorky/engines/redis_broker.hpp"

using namespace snorky;

namespace {
std::string urlError(const std::string& url) {
    try {
        RedisBrokerOptions::fromUrl(url);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

std::string configError(const std::string& server) {
    try {
        server::parseConfig("[server]\n" + server + "\n[[listener]]\ntype = \"websocket\"\nregistry = \"f\"\n", "t.toml");
    } catch (const server::ConfigError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(RedisUrl, HostAndPortWithDefaults) {
    auto o = RedisBrokerOptions::fromUrl("redis://10.0.0.5");
    EXPECT_EQ(o.host, "10.0.0.5");
    EXPECT_EQ(o.port, 6379);
    EXPECT_EQ(o.password, "");
    EXPECT_EQ(o.database, 0);
    EXPECT_EQ(o.prefix, "snorky:");
    o = RedisBrokerOptions::fromUrl("redis://cache.internal:7000");
    EXPECT_EQ(o.host, "cache.internal");
    EXPECT_EQ(o.port, 7000);
}

TEST(RedisUrl, PasswordUserDatabaseAndPrefix) {
    auto o = RedisBrokerOptions::fromUrl("redis://:p%40ss@127.0.0.1:6380/3?prefix=app1:");
    EXPECT_EQ(o.username, "");
    EXPECT_EQ(o.password, "p@ss");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.database, 3);
    EXPECT_EQ(o.prefix, "app1:");
    o = RedisBrokerOptions::fromUrl("redis://snorky:pw@localhost/");
    EXPECT_EQ(o.username, "snorky");
    EXPECT_EQ(o.password, "pw");
    EXPECT_EQ(o.database, 0);
}

TEST(RedisUrl, ClearErrors) {
    EXPECT_NE(urlError("http://127.0.0.1:6379").find("unsupported scheme 'http'"), std::string::npos);
    EXPECT_NE(urlError("redis://127.0.0.1:99999").find("invalid port in 'redis://127.0.0.1:99999'"), std::string::npos);
    EXPECT_NE(urlError("redis://127.0.0.1:abc").find("invalid port in 'redis://127.0.0.1:abc'"), std::string::npos) << urlError("redis://127.0.0.1:abc");
    EXPECT_NE(urlError("redis://a b").find("not a URL"), std::string::npos) << urlError("redis://a b");
    EXPECT_NE(urlError("redis://127.0.0.1/x").find("invalid database number 'x'"), std::string::npos);
    EXPECT_NE(urlError("redis://127.0.0.1?pool=3").find("unknown URL parameter 'pool'"), std::string::npos);
    EXPECT_NE(urlError("redis://").find("no host"), std::string::npos);
    EXPECT_EQ(urlError("redis://h"), "");
    // Every error shows the expected form.
    EXPECT_NE(urlError("redis://127.0.0.1?pool=3").find("redis://[:password@]host[:port]"), std::string::npos);
}

TEST(RedisUrl, ConfigEngineDefaultsToMemory) {
    auto config = server::parseConfig("[[listener]]\ntype = \"websocket\"\nregistry = \"f\"\n", "t.toml");
    EXPECT_EQ(config.engine, "memory");
    EXPECT_FALSE(config.redis.has_value());
    Engine engine = server::makeEngine(config);
    EXPECT_NE(dynamic_cast<MemoryBroker*>(engine.broker.get()), nullptr);
    EXPECT_NE(dynamic_cast<MemoryClusterState*>(engine.cluster.get()), nullptr);
}

TEST(RedisUrl, ConfigEngineRedis) {
    auto config = server::parseConfig(
        "[server]\nengine = \"redis://127.0.0.1:6390?prefix=x:\"\nengine_max_backlog = 4096\n"
        "[[listener]]\ntype = \"websocket\"\nregistry = \"f\"\n",
        "t.toml");
    ASSERT_TRUE(config.redis.has_value());
    EXPECT_EQ(config.redis->port, 6390);
    EXPECT_EQ(config.redis->prefix, "x:");
    EXPECT_EQ(config.redis->maxBacklogBytes, 4096u);
}

TEST(RedisUrl, ConfigEngineErrorsNameFileAndLine) {
    std::string e = configError("engine = \"mysql://x\"");
    EXPECT_NE(e.find("t.toml:1"), std::string::npos) << e;
    EXPECT_NE(e.find("engine must be \"memory\" or a redis:// URL"), std::string::npos) << e;
    e = configError("engine = \"redis://127.0.0.1:0\"");
    EXPECT_NE(e.find("engine: invalid port in 'redis://127.0.0.1:0'"), std::string::npos) << e;
}
