#pragma once
// Server: the process runtime. It owns the I/O threads, the node (service
// lock, broker, timers), the registries and the listeners. Usable directly
// from C++ (see examples/) and by the `snorky` binary.
//
//   snorky::Server server;
//   auto& frontend = server.registry("frontend");
//   frontend.registerService(std::make_shared<snorky::PubSubService>("pubsub"));
//   server.listenWebSocket(frontend, {.port = 5800});
//   return server.run();  // until SIGINT/SIGTERM
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snorky/core/engine.hpp"
#include "snorky/core/node.hpp"
#include "snorky/core/service_registry.hpp"

namespace snorky {

struct WebSocketOptions {
    std::string address = "0.0.0.0";
    std::uint16_t port = 5800;  // 0: any free port (see Server::endpoints)
    std::string path = "/ws";
    std::chrono::seconds pingInterval{90};  // 0: never ping
    std::chrono::seconds idleTimeout{30};   // after an unanswered ping
    std::chrono::seconds handshakeTimeout{10};
    std::size_t maxMessageSize = 64 * 1024;         // inbound message, bytes (close 1009 above)
    std::size_t maxQueueBytes = 4 * 1024 * 1024;    // outbound backlog before "slow consumer"
    std::vector<std::string> allowedOrigins;        // empty: any origin
    std::string staticDir;                          // serve these files next to the WS path
    bool staticFollowSymlinks = false;              // serve symlinks that point out of staticDir
    // Abuse limits (0 turns each off). Inbound messages per connection: a
    // token bucket of `rateBurst` refilled at `rateLimit` per second; a message
    // over it is refused ("Rate limited"), and `rateLimitDisconnect` refusals
    // within 10 seconds close the connection with 1008.
    std::uint32_t rateLimit = 100;
    std::uint32_t rateBurst = 200;
    std::uint32_t rateLimitDisconnect = 100;
    // Open connections per client address (429 above). Off by default: behind
    // a proxy every client has the proxy's address unless it is trusted.
    std::size_t maxConnectionsPerIp = 0;
    // Peers whose X-Forwarded-For names the client (CIDR, IPv4 or IPv6).
    std::vector<std::string> trustedProxies;
    // Connections still sending their HTTP upgrade request; more are closed at once.
    std::size_t maxHandshakes = 1024;
    // permessage-deflate (RFC 7692, docs/compression.md): agreed with clients
    // that offer it; outbound messages shorter than `compressionThreshold`
    // bytes go uncompressed.
    bool compression = false;
    std::size_t compressionThreshold = 128;
    // Connect-time identity: the `token` query parameter is checked by this
    // verifier; it returns the identity, or sets `error` and returns nullopt
    // (the upgrade is refused with 401). Unset: a token is refused.
    std::function<std::optional<json::value>(std::string_view token, std::string& error)> verifyToken;
    // TLS (wss://): PEM certificate chain (leaf first) and private key; both or neither.
    std::string tlsCert;
    std::string tlsKey;
};

// A SockJS listener (docs/sockjs.md): the WebSocket options (address, port,
// `path` is the prefix, limits, origins, tokens) plus the SockJS timings.
struct SockJsOptions {
    WebSocketOptions base;
    std::chrono::seconds heartbeat{25};        // an "h" frame after this much silence
    std::chrono::seconds disconnectDelay{5};   // a session with no receiving request ends after this
    std::size_t responseLimit = 128 * 1024;    // bytes a streaming response carries before it ends
    bool cookieNeeded = false;                 // JSESSIONID for sticky load balancers
    bool websocket = true;                     // offer the websocket transports
};

struct BackendOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 5801;
    std::string path = "/backend";
    std::string key;                                   // X-Backend-Key; required, no default
    std::size_t maxBodySize = 1024 * 1024;             // 413 above
    std::chrono::seconds requestTimeout{30};           // 504 when a service never answers
    std::chrono::seconds keepAliveTimeout{60};         // idle keep-alive connections close
    std::chrono::seconds requestReadTimeout{10};       // first byte to last body byte of a request
    bool serveMetrics = true;                          // GET /metrics and /health
    bool statusPage = true;                            // GET /status (page) and /status.json (key)
    // TLS (https://): PEM certificate chain (leaf first) and private key; both or neither.
    std::string tlsCert;
    std::string tlsKey;
};

struct Endpoint {
    std::string type;  // "websocket" | "sockjs" | "backend"
    std::string registry;
    std::string address;
    std::uint16_t port;
    std::string path;
    bool tls = false;
};

class Server {
public:
    // threads = 0: one I/O thread per core. an engine without a part: the memory one.
    explicit Server(unsigned threads = 0, Engine engine = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    Node& node();
    // The registry of that name, created on first use.
    ServiceRegistry& registry(const std::string& name);

    // Binds at once (throws std::system_error when the address is taken).
    void listenWebSocket(ServiceRegistry& registry, WebSocketOptions options);
    void listenBackend(ServiceRegistry& registry, BackendOptions options);
    // SockJS (sockjs-client 1.x) on its own port, under options.base.path.
    void listenSockJs(ServiceRegistry& registry, SockJsOptions options);
    std::vector<Endpoint> endpoints() const;

    // Serves until SIGINT/SIGTERM or stop(); then shuts down gracefully:
    // stops accepting, closes WebSockets with 1001, finishes in-flight backend
    // requests (up to `drainTimeout`). Returns the exit code (0).
    int run();
    // Starts the I/O threads without blocking (tests, embedding). run() or
    // stop()+wait() afterwards.
    void start();
    // Asks for a graceful shutdown; callable from any thread.
    void stop();
    // Blocks until a started server has shut down.
    void wait();
    std::chrono::seconds drainTimeout{5};
    // How often the allocator hands freed memory back to the system (glibc's
    // malloc_trim; 0: never). After a peak of connections glibc keeps the
    // freed pages of its arenas, so without it RSS only ever grows.
    std::chrono::seconds memoryTrimInterval{30};

    // Called once all listeners listen (the binary writes its ready file here).
    std::function<void()> onReady;
    // Re-reads every TLS listener's certificate and key: connections accepted
    // afterwards get the new ones, open connections keep theirs. A file that
    // does not load leaves that listener's current certificate in place.
    // Returns the errors (empty: all reloaded). Any thread.
    std::vector<std::string> reloadCertificates();
    // Reload: gives the index-th listener of its kind (in the order they were
    // added) the settings of `options` that can change while it runs: limits,
    // origins, timeouts, rate limits, trusted proxies, compression (WebSocket,
    // SockJS), the key, size limit and timeouts (backend). Address, port,
    // path, static files and TLS files stay as they are. Each applies to the
    // next connection, upgrade, message or request; nothing open is closed
    // because of it. Any thread. updateBackend returns whether the key changed.
    void updateWebSocket(std::size_t index, const WebSocketOptions& options);
    void updateSockJs(std::size_t index, const SockJsOptions& options);
    bool updateBackend(std::size_t index, const BackendOptions& options);
    // Called on SIGHUP on an I/O thread; unset: reloadCertificates().
    std::function<void()> onHangup;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace snorky
