#pragma once
// The `snorky` configuration: a TOML file (or the embedded default) turned
// into listeners, registries and services. Errors carry file and line.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/options.hpp"
#include "server/service_factory.hpp"
#include "snorky/engines/redis_broker.hpp"
#include "snorky/transport/server.hpp"

namespace snorky::server {

// The setup of the original documentation, used when no file is given.
extern const char* const kDefaultConfig;

struct Entry {
    std::string type;      // listener: "websocket" | "sockjs" | "backend"; service: its type
    std::string name;      // services only
    std::string registry;
    Options options;       // every other key
};

struct Config {
    unsigned threads = 0;  // 0: one per core
    std::string logLevel = "info";
    std::chrono::seconds memoryTrimInterval{30};  // [server] memory_trim_interval; 0: never
    // [server] engine: "memory" (one node) or "redis://host:port" (scale-out).
    std::string engine = "memory";
    std::optional<RedisBrokerOptions> redis;  // set when engine is a Redis URL
    std::size_t historyMaxBytes = 64 * 1024 * 1024;  // [server] history_max_bytes: the memory engine's history cap
    std::vector<Entry> listeners;
    std::vector<Entry> services;
};

// Parses TOML text; `source` names it in errors ("snorky.toml", "<default>").
Config parseConfig(const std::string& text, const std::string& source);
Config loadConfigFile(const std::string& path);

// Sets config.engine (and config.redis) from "memory" or a redis:// URL;
// throws ConfigError prefixed with `where` when the URL is wrong.
void setEngine(Config& config, const std::string& engine, const std::string& where);
// The engine the config names (memory, or Redis: redisEngine()).
Engine makeEngine(const Config& config);

WebSocketOptions webSocketOptions(Options& options);
// A [[listener]] of type "sockjs": the websocket keys (path defaults to
// "/sockjs") plus heartbeat_delay, disconnect_delay, response_limit,
// cookie_needed and websocket.
SockJsOptions sockJsOptions(Options& options);
// The key comes from the listener's `key`/`key_file`, else SNORKY_BACKEND_KEY,
// else `generatedKey` (created once by the caller and printed, never logged).
BackendOptions backendOptions(Options& options, const std::string& generatedKey);

// Creates the registries, services and listeners of a config in `server`.
void apply(const Config& config, Server& server, const ServiceFactory& factory, const std::string& generatedKey);

// Builds the services and reads every listener's options (TLS files
// included) in a scratch server, binding no port: finds what apply() would
// refuse while the running server keeps its ports (reload). Throws ConfigError.
void validate(const Config& config, const ServiceFactory& factory);

// What a reload did, as lines for the log (each starts with where the entry is).
struct ReloadOutcome {
    std::vector<std::string> applied;  // "<where>: a, b applied"
    std::vector<std::string> restart;  // "<where>: c changed; restart to apply it"
};
// SIGHUP: validates `fresh` as validate() does (throws ConfigError before
// changing anything), then applies to the running `server` every difference
// from `running` that can change live (docs/operations.md, "Reload") and
// lists the rest as needing a restart. `running` becomes what now runs: the
// live keys of `fresh`, the restart-only ones as they were.
ReloadOutcome reload(Config& running, const Config& fresh, Server& server, const ServiceFactory& factory,
                     const std::string& generatedKey);

// Whether some backend listener will need a generated key.
bool needsGeneratedKey(const Config& config);

// A random key for when none is configured (hex, 256 bits, CSPRNG).
std::string randomKey();

}  // namespace snorky::server
