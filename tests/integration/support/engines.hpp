#pragma once
// The engines every behaviour suite runs over (typed tests): the memory one,
// and Redis on a private redis-server (skipped cleanly when it is missing).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include "snorky/core/engine.hpp"
#include "snorky/engines/redis_broker.hpp"
#include "support/redis_process.hpp"

namespace snorky::testing {

struct MemoryEngine {
    static const char* missing() { return nullptr; }
    snorky::Engine make() { return snorky::Engine::memory(); }
    json::object expectedHealth() { return {{"engine", "memory"}}; }
};

struct RedisEngine {
    static const char* missing() { return it::RedisProcess::available() ? nullptr : "redis-server is not installed"; }
    snorky::Engine make() {
        redis = std::make_unique<it::RedisProcess>();
        return redisEngine(RedisBrokerOptions::fromUrl(redis->url()));
    }
    json::object expectedHealth() { return {{"engine", "redis"}, {"redis", "connected"}}; }
    std::unique_ptr<it::RedisProcess> redis;
};

using Engines = ::testing::Types<MemoryEngine, RedisEngine>;
struct EngineNames {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, MemoryEngine> ? "Memory" : "Redis";
    }
};

}  // namespace snorky::testing
