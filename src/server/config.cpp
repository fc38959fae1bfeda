#include "server/config.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "server/connect_tokens.hpp"
#include "server/toml_guard.hpp"
#include "snorky/core/log.hpp"
#include "snorky/core/memory_broker.hpp"
#include "snorky/core/memory_cluster_state.hpp"
#include "snorky/services/datasync/datasync_service.hpp"
#include "snorky/services/pubsub.hpp"
#include "transport/tls_context.hpp"
#include "transport/trusted_proxies.hpp"

namespace snorky::server {

const char* const kDefaultConfig = R"toml(
# Snorky's embedded default: browsers subscribe over WebSocket; only trusted
# servers publish, through the backend bound to localhost.
[server]
threads = 0          # one I/O thread per core
log_level = "info"
memory_trim_interval = 30   # seconds between returning freed memory to the system; 0: never
engine = "memory"    # or "redis://127.0.0.1:6379" to run several nodes (docs/scale-out.md)

[[listener]]
type = "websocket"
registry = "frontend"
address = "0.0.0.0"
port = 5800
path = "/ws"

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 5801
path = "/backend"
# key: from SNORKY_BACKEND_KEY; when unset a random key is printed at start.

[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = false
history_size = 100   # the last 100 messages per channel, for clients that reconnect (docs/history.md)
history_ttl = 300

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
)toml";

namespace {

json::value toJson(const toml::node& node) {
    if (auto* table = node.as_table()) {
        json::object out;
        for (auto&& [key, value] : *table) out[std::string(key.str())] = toJson(value);
        return out;
    }
    if (auto* array = node.as_array()) {
        json::array out;
        for (auto&& value : *array) out.push_back(toJson(value));
        return out;
    }
    if (auto v = node.as_integer()) return json::value(v->get());
    if (auto v = node.as_floating_point()) return json::value(v->get());
    if (auto v = node.as_boolean()) return json::value(v->get());
    if (auto v = node.as_string()) return json::value(v->get());
    std::ostringstream text;  // dates and times: as written
    node.visit([&text](auto&& value) {
        if constexpr (toml::is_date<decltype(value)> || toml::is_time<decltype(value)> ||
                      toml::is_date_time<decltype(value)>)
            text << value.get();
    });
    return json::value(text.str());
}

std::string at(const std::string& source, const toml::node& node) {
    return source + ":" + std::to_string(node.source().begin.line);
}

// The line of each row of the entry's own arrays of tables
// ([[service.namespace]], [[service.dealer]]), for errors about one row.
void rememberRowLines(const toml::table& item, const std::string& source, Options& options) {
    for (auto&& [key, value] : item) {
        const toml::array* rows = value.as_array();
        if (!rows || !rows->is_array_of_tables()) continue;
        std::vector<std::string> lines;
        for (const toml::node& row : *rows) lines.push_back(at(source, row));
        options.setRowLines(std::string(key.str()), std::move(lines));
    }
}

std::vector<Entry> readEntries(const toml::table& root, const char* key, const std::string& source, bool named) {
    std::vector<Entry> out;
    const toml::node* node = root.get(key);
    if (!node) return out;
    const toml::array* array = node->as_array();
    if (!array || !array->is_array_of_tables())
        throw ConfigError(at(source, *node) + ": '" + key + "' must be written as [[" + key + "]] tables");
    for (const toml::node& item : *array) {
        json::object values = toJson(item).as_object();
        std::string where = at(source, item) + ": " + key;
        auto take = [&](const char* field) -> std::string {
            auto it = values.find(field);
            if (it == values.end() || !it->value().is_string() || it->value().as_string().empty())
                throw ConfigError(where + ": '" + field + "' is required (a string)");
            std::string value(it->value().as_string());
            values.erase(it);
            return value;
        };
        Entry entry{take("type"), named ? take("name") : "", take("registry"), Options({}, "")};
        where += named ? " '" + entry.name + "'" : " (" + entry.type + ")";
        entry.options = Options(std::move(values), where);
        rememberRowLines(*item.as_table(), source, entry.options);
        out.push_back(std::move(entry));
    }
    return out;
}

std::string readKeyFile(const std::string& path, const Options& options) {
    std::ifstream in(path);
    if (!in) options.fail("cannot read key_file '" + path + "'");
    std::string key;
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    return key;
}

// tls_cert and tls_key: both or neither (the files are loaded by the listener).
void readTlsFiles(Options& o, std::string& cert, std::string& key) {
    cert = o.string("tls_cert", "");
    key = o.string("tls_key", "");
    if (cert.empty() != key.empty()) o.fail("tls_cert and tls_key go together: give both or neither");
}

}  // namespace

Config parseConfig(const std::string& text, const std::string& source) {
    if (auto unsafe = findUnsafeToml(text))
        throw ConfigError(source + ":" + std::to_string(unsafe->line) + ": " + unsafe->message);
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& error) {
        throw ConfigError(source + ":" + std::to_string(error.source().begin.line) + ":" +
                          std::to_string(error.source().begin.column) + ": " + std::string(error.description()));
    }
    Config config;
    for (auto&& [key, node] : root) {
        std::string k(key.str());
        if (k != "server" && k != "listener" && k != "service")
            throw ConfigError(at(source, node) + ": unknown section '" + k + "' (expected [server], [[listener]], [[service]])");
    }
    if (const toml::node* serverNode = root.get("server")) {
        if (!serverNode->is_table()) throw ConfigError(at(source, *serverNode) + ": [server] must be a table");
        Options server(toJson(*serverNode).as_object(), at(source, *serverNode) + ": [server]");
        config.threads = static_cast<unsigned>(server.integer("threads", 0, 0, 256));
        config.logLevel = server.string("log_level", "info");
        config.memoryTrimInterval = std::chrono::seconds(server.integer("memory_trim_interval", 30, 0, 86400));
        log::Level level;
        if (!log::parseLevel(config.logLevel, level)) server.fail("log_level must be debug, info, warn, error or off");
        setEngine(config, server.string("engine", "memory"), server.where());
        const std::int64_t defaultBacklog = static_cast<std::int64_t>(RedisBrokerOptions{}.maxBacklogBytes);
        std::int64_t backlog = server.integer("engine_max_backlog", defaultBacklog, 1024, 1LL << 40);
        if (config.redis) config.redis->maxBacklogBytes = static_cast<std::size_t>(backlog);
        config.historyMaxBytes = static_cast<std::size_t>(server.integer(
            "history_max_bytes", static_cast<std::int64_t>(config.historyMaxBytes), 1024, 1LL << 40));
        server.finish();
    }
    config.listeners = readEntries(root, "listener", source, false);
    config.services = readEntries(root, "service", source, true);
    if (config.listeners.empty()) throw ConfigError(source + ": no [[listener]] is configured");
    for (const Entry& l : config.listeners)
        if (l.type != "websocket" && l.type != "sockjs" && l.type != "backend")
            l.options.fail("type must be \"websocket\", \"sockjs\" or \"backend\"");
    return config;
}

void setEngine(Config& config, const std::string& engine, const std::string& where) {
    if (engine == "memory") {
        config.engine = engine;
        config.redis.reset();
        return;
    }
    if (engine.rfind("redis://", 0) != 0)
        throw ConfigError(where + ": engine must be \"memory\" or a redis:// URL, got \"" + engine + "\"");
    try {
        config.redis = RedisBrokerOptions::fromUrl(engine);
    } catch (const std::invalid_argument& error) {
        throw ConfigError(where + ": engine: " + error.what());
    }
    config.engine = engine;
}

Engine makeEngine(const Config& config) {
    if (config.redis) return redisEngine(*config.redis);
    return Engine{std::make_unique<MemoryBroker>(config.historyMaxBytes), std::make_unique<MemoryClusterState>()};
}

Config loadConfigFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path + ": cannot open the config file");
    std::ostringstream text;
    text << in.rdbuf();
    return parseConfig(text.str(), path);
}

WebSocketOptions webSocketOptions(Options& o) {
    WebSocketOptions w;
    w.address = o.string("address", w.address);
    w.port = static_cast<std::uint16_t>(o.integer("port", w.port, 0, 65535));
    w.path = o.string("path", w.path);
    w.pingInterval = std::chrono::seconds(o.integer("ping_interval", w.pingInterval.count(), 0, 86400));
    w.idleTimeout = std::chrono::seconds(o.integer("idle_timeout", w.idleTimeout.count(), 1, 86400));
    w.handshakeTimeout = std::chrono::seconds(o.integer("handshake_timeout", w.handshakeTimeout.count(), 1, 600));
    w.maxMessageSize = static_cast<std::size_t>(o.integer("max_message_size", static_cast<std::int64_t>(w.maxMessageSize), 128, 1LL << 30));
    w.maxQueueBytes = static_cast<std::size_t>(o.integer("max_queue_bytes", static_cast<std::int64_t>(w.maxQueueBytes), 1024, 1LL << 34));
    w.allowedOrigins = o.strings("allowed_origins");
    w.staticDir = o.string("static_dir", "");
    w.staticFollowSymlinks = o.boolean("static_follow_symlinks", false);
    w.rateLimit = static_cast<std::uint32_t>(o.integer("rate_limit", w.rateLimit, 0, 1000000));
    // The bucket must hold at least one second of refill, or the rate could never be reached.
    w.rateBurst = static_cast<std::uint32_t>(o.integer("rate_burst", 2 * static_cast<std::int64_t>(w.rateLimit), 0, 100000000));
    if (w.rateLimit > 0 && w.rateBurst < w.rateLimit)
        o.fail("rate_burst (" + std::to_string(w.rateBurst) + ") must be at least rate_limit (" +
               std::to_string(w.rateLimit) + ")");
    w.rateLimitDisconnect = static_cast<std::uint32_t>(o.integer("rate_limit_disconnect", w.rateLimitDisconnect, 0, 1000000000));
    w.maxConnectionsPerIp = static_cast<std::size_t>(o.integer("max_connections_per_ip", 0, 0, 1000000000));
    w.trustedProxies = o.strings("trusted_proxies");
    try {
        TrustedProxies check(w.trustedProxies);
    } catch (const std::invalid_argument& error) {
        o.fail(error.what());
    }
    w.maxHandshakes = static_cast<std::size_t>(o.integer("max_handshakes", static_cast<std::int64_t>(w.maxHandshakes), 0, 1000000000));
    w.compression = o.boolean("compression", w.compression);
    w.compressionThreshold = static_cast<std::size_t>(
        o.integer("compression_threshold", static_cast<std::int64_t>(w.compressionThreshold), 0, 1LL << 30));
    if (w.path.empty() || w.path[0] != '/') o.fail("path must start with '/'");
    readTlsFiles(o, w.tlsCert, w.tlsKey);
    return w;
}

SockJsOptions sockJsOptions(Options& o) {
    SockJsOptions s;
    const bool pathGiven = o.has("path");
    s.base = webSocketOptions(o);
    if (!pathGiven) s.base.path = "/sockjs";
    if (!s.base.staticDir.empty()) o.fail("static_dir is served by websocket listeners only");
    // Its HTTP transports and its websocket transport speak neither (yet): refused, not ignored.
    if (!s.base.tlsCert.empty()) o.fail("tls_cert is supported by websocket and backend listeners only");
    if (s.base.compression) o.fail("compression is supported by websocket listeners only");
    if (s.base.path.size() > 1 && s.base.path.back() == '/') o.fail("path must not end with '/'");
    s.heartbeat = std::chrono::seconds(o.integer("heartbeat_delay", s.heartbeat.count(), 1, 3600));
    s.disconnectDelay = std::chrono::seconds(o.integer("disconnect_delay", s.disconnectDelay.count(), 1, 3600));
    s.responseLimit = static_cast<std::size_t>(
        o.integer("response_limit", static_cast<std::int64_t>(s.responseLimit), 1024, 1LL << 30));
    s.cookieNeeded = o.boolean("cookie_needed", s.cookieNeeded);
    s.websocket = o.boolean("websocket", s.websocket);
    return s;
}

BackendOptions backendOptions(Options& o, const std::string& generatedKey) {
    BackendOptions b;
    b.address = o.string("address", b.address);
    b.port = static_cast<std::uint16_t>(o.integer("port", b.port, 0, 65535));
    b.path = o.string("path", b.path);
    std::string key = o.string("key", "");
    std::string keyFile = o.string("key_file", "");
    if (!key.empty() && !keyFile.empty()) o.fail("give either key or key_file, not both");
    if (!keyFile.empty()) key = readKeyFile(keyFile, o);
    if (const char* env = std::getenv("SNORKY_BACKEND_KEY"); key.empty() && env && *env) key = env;
    if (key.empty()) key = generatedKey;
    if (key.empty()) o.fail("no backend key: set key, key_file or SNORKY_BACKEND_KEY");
    b.key = key;
    b.maxBodySize = static_cast<std::size_t>(o.integer("max_body_size", static_cast<std::int64_t>(b.maxBodySize), 128, 1LL << 30));
    b.requestTimeout = std::chrono::seconds(o.integer("request_timeout", b.requestTimeout.count(), 1, 3600));
    b.keepAliveTimeout = std::chrono::seconds(o.integer("keepalive_timeout", b.keepAliveTimeout.count(), 1, 3600));
    b.requestReadTimeout =
        std::chrono::seconds(o.integer("request_read_timeout", b.requestReadTimeout.count(), 1, 3600));
    b.serveMetrics = o.boolean("metrics", b.serveMetrics);
    b.statusPage = o.boolean("status_page", b.statusPage);
    if (b.path.empty() || b.path[0] != '/') o.fail("path must start with '/'");
    readTlsFiles(o, b.tlsCert, b.tlsKey);
    return b;
}

bool needsGeneratedKey(const Config& config) {
    const char* env = std::getenv("SNORKY_BACKEND_KEY");
    if (env && *env) return false;
    for (const Entry& l : config.listeners)
        if (l.type == "backend" && !l.options.has("key") && !l.options.has("key_file")) return true;
    return false;
}

std::string randomKey() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the backend key");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

namespace {
class ServerLookup : public ServiceLookup {
public:
    explicit ServerLookup(std::map<std::string, Service*>& built) : built_(built) {}
    Service& service(const std::string& name, const Options& context) override {
        auto it = built_.find(name);
        if (it == built_.end())
            context.fail("no service named '" + name + "' is defined before this one");
        return *it->second;
    }

private:
    std::map<std::string, Service*>& built_;
};
}  // namespace

namespace {
void build(const Config& config, Server& server, const ServiceFactory& factory, const std::string& generatedKey,
           bool listen) {
    server.memoryTrimInterval = config.memoryTrimInterval;
    std::map<std::string, Service*> built;
    ServerLookup lookup(built);
    for (const Entry& entry : config.services) {
        Options options = entry.options;
        if (built.count(entry.name)) options.fail("a service with this name already exists");
        ServicePtr service = factory.build(entry.type, entry.name, options, lookup);
        built[entry.name] = service.get();
        server.registry(entry.registry).registerService(std::move(service));
    }
    for (const Entry& entry : config.listeners) {
        Options options = entry.options;
        try {
            if (entry.type == "websocket") {
                auto ws = webSocketOptions(options);
                ws.verifyToken = connectTokenVerifier(config, entry, options, lookup);
                options.finish();
                if (listen) server.listenWebSocket(server.registry(entry.registry), std::move(ws));
                else if (!ws.tlsCert.empty()) TlsContext check(ws.tlsCert, ws.tlsKey);
            } else if (entry.type == "sockjs") {
                auto sockjs = sockJsOptions(options);
                sockjs.base.verifyToken = connectTokenVerifier(config, entry, options, lookup);
                options.finish();
                if (listen) server.listenSockJs(server.registry(entry.registry), std::move(sockjs));
            } else {
                auto backend = backendOptions(options, generatedKey);
                options.finish();
                if (listen) server.listenBackend(server.registry(entry.registry), std::move(backend));
                else if (!backend.tlsCert.empty()) TlsContext check(backend.tlsCert, backend.tlsKey);
            }
        } catch (const boost::system::system_error& error) {
            options.fail(std::string("cannot listen: ") + error.code().message());
        } catch (const std::invalid_argument& error) {
            options.fail(error.what());
        }
    }
}

}  // namespace

void apply(const Config& config, Server& server, const ServiceFactory& factory, const std::string& generatedKey) {
    build(config, server, factory, generatedKey, true);
}

void validate(const Config& config, const ServiceFactory& factory) {
    Server scratch(1);
    build(config, scratch, factory, "validation-only", false);
}

namespace {

using Keys = std::set<std::string>;

// The keys a reload applies to a running entry (docs/operations.md, "Reload").
// Everything else in an entry needs a restart: it is bound (address, port,
// path, TLS files), built once at start (static files, connect tokens, the
// links between services, dealers) or held by open connections.
const Keys kLiveWebSocket{"ping_interval",         "idle_timeout",   "handshake_timeout", "max_message_size",
                          "max_queue_bytes",       "allowed_origins", "rate_limit",        "rate_burst",
                          "rate_limit_disconnect", "max_connections_per_ip", "trusted_proxies", "max_handshakes",
                          "compression",           "compression_threshold"};
const Keys kLiveSockJsOwn{"heartbeat_delay", "disconnect_delay", "response_limit"};
const Keys kLiveBackend{"key",     "key_file",      "max_body_size",         "request_timeout", "keepalive_timeout",
                        "request_read_timeout", "metrics", "status_page"};
const std::map<std::string, Keys> kLiveService{
    {"pubsub", {"namespace", "client_publish", "max_channels_per_client", "history_size", "history_ttl", "token_secret"}},
    {"datasync", {"acquire_timeout", "max_buffered_deltas", "max_items_per_subscription",
                  "max_subscriptions_per_client", "max_pending_subscriptions"}},
};

bool liveKey(const Entry& entry, const std::string& key, bool listener) {
    if (listener) {
        if (entry.type == "backend") return kLiveBackend.count(key) > 0;
        return kLiveWebSocket.count(key) > 0 || (entry.type == "sockjs" && kLiveSockJsOwn.count(key) > 0);
    }
    auto it = kLiveService.find(entry.type);
    return it != kLiveService.end() && it->second.count(key) > 0;
}

// The keys whose values differ (set in one and not the other included).
std::vector<std::string> changedKeys(const Options& a, const Options& b) {
    std::set<std::string> keys;
    for (const auto& field : a.values())
        if (const json::value* other = b.values().if_contains(field.key()); !other || *other != field.value())
            keys.insert(std::string(field.key()));
    for (const auto& field : b.values())
        if (!a.values().contains(field.key())) keys.insert(std::string(field.key()));
    return {keys.begin(), keys.end()};
}

std::string joined(const std::vector<std::string>& keys) {
    std::string out;
    for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
    return out;
}

// `running` with the keys of `fresh` that are in `live` (the entry now running).
Options merged(const Options& running, const Options& fresh, const std::vector<std::string>& live) {
    json::object values = running.values();
    for (const std::string& key : live) {
        if (const json::value* v = fresh.values().if_contains(key)) values[key] = *v;
        else values.erase(key);
    }
    Options out(std::move(values), fresh.where());
    return out;
}

// Splits an entry's changed keys into live and restart-only ones, and says so in `outcome`.
std::vector<std::string> sortChanges(const Entry& running, const Entry& fresh, bool listener, ReloadOutcome& outcome) {
    std::vector<std::string> live, restart;
    for (std::string& key : changedKeys(running.options, fresh.options))
        (liveKey(fresh, key, listener) ? live : restart).push_back(std::move(key));
    const std::string& where = fresh.options.where();
    if (!restart.empty()) outcome.restart.push_back(where + ": " + joined(restart) + " changed; restart to apply it");
    if (!live.empty()) outcome.applied.push_back(where + ": " + joined(live) + " applied");
    return live;
}

}  // namespace

ReloadOutcome reload(Config& running, const Config& fresh, Server& server, const ServiceFactory& factory,
                     const std::string& generatedKey) {
    // Everything is built and checked before anything changes: a config
    // error leaves the running setup as it was.
    Server scratch(1);
    build(fresh, scratch, factory, generatedKey.empty() ? "validation-only" : generatedKey, false);

    ReloadOutcome outcome;
    auto restart = [&outcome](std::string line) { outcome.restart.push_back(std::move(line) + " changed; restart to apply it"); };
    if (running.threads != fresh.threads) restart("[server] threads");
    if (running.engine != fresh.engine) restart("[server] engine");
    if (running.memoryTrimInterval != fresh.memoryTrimInterval) restart("[server] memory_trim_interval");
    if (running.historyMaxBytes != fresh.historyMaxBytes) restart("[server] history_max_bytes");
    if (running.redis && fresh.redis && running.redis->maxBacklogBytes != fresh.redis->maxBacklogBytes)
        restart("[server] engine_max_backlog");

    // Listeners have no name: they are matched by their place in the file.
    if (running.listeners.size() != fresh.listeners.size()) {
        restart("the number of [[listener]] tables");
    } else {
        std::map<std::string, std::size_t> ofType;  // the index of each listener among those of its type
        for (std::size_t i = 0; i < fresh.listeners.size(); ++i) {
            Entry& now = running.listeners[i];
            const Entry& next = fresh.listeners[i];
            std::size_t index = ofType[now.type]++;
            if (now.type != next.type || now.registry != next.registry) {
                restart(next.options.where() + ": type or registry");
                continue;
            }
            std::vector<std::string> live = sortChanges(now, next, true, outcome);
            // A backend's key file may have new contents under an unchanged name: always read again.
            if (live.empty() && now.type != "backend") continue;
            Options options = merged(now.options, next.options, live);
            Options reading = options;
            if (now.type == "websocket") server.updateWebSocket(index, webSocketOptions(reading));
            else if (now.type == "sockjs") server.updateSockJs(index, sockJsOptions(reading));
            else if (server.updateBackend(index, backendOptions(reading, generatedKey)))
                outcome.applied.push_back(next.options.where() + ": new backend key");
            now.options = std::move(options);
        }
    }

    // Services are matched by name.
    std::map<std::string, const Entry*> freshByName;
    for (const Entry& e : fresh.services) freshByName[e.name] = &e;
    std::set<std::string> runningNames;
    for (Entry& now : running.services) {
        runningNames.insert(now.name);
        auto found = freshByName.find(now.name);
        if (found == freshByName.end()) {
            restart(now.options.where() + " (removed)");
            continue;
        }
        const Entry& next = *found->second;
        if (now.type != next.type || now.registry != next.registry) {
            restart(next.options.where() + ": type or registry");
            continue;
        }
        std::vector<std::string> live = sortChanges(now, next, false, outcome);
        if (live.empty()) continue;
        // The new settings come from the service built from the new config.
        Service* built = scratch.registry(next.registry).find(next.name);
        Service* target = server.registry(now.registry).find(now.name);
        std::lock_guard lock(server.node().serviceLock());
        if (auto* pubsub = dynamic_cast<PubSubService*>(target)) {
            pubsub->reconfigure(dynamic_cast<PubSubService&>(*built).options());
        } else if (auto* datasync = dynamic_cast<DataSyncService*>(target)) {
            datasync->reconfigure(dynamic_cast<DataSyncService&>(*built).options());
        }
        now.options = merged(now.options, next.options, live);
    }
    for (const Entry& e : fresh.services)
        if (!runningNames.count(e.name)) restart(e.options.where() + " (added)");
    running.logLevel = fresh.logLevel;
    return outcome;
}

}  // namespace snorky::server
