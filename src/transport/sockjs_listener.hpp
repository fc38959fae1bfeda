#pragma once
// A SockJS listener (docs/sockjs.md): accepts TCP connections on its own
// port, answers /info, runs the HTTP transports' sessions and the websocket
// transports. Everything of one listener (connections, the session table,
// the outbound caches) lives on one worker thread, so sessions need no lock;
// other threads hand frames over through the listener's delivery queue (one
// post per batch, as for WebSocket sessions).
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "snorky/core/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/acceptor.hpp"
#include "transport/connection_limits.hpp"
#include "transport/delivery_queue.hpp"
#include "transport/published.hpp"
#include "transport/rate_limiter.hpp"
#include "transport/trusted_proxies.hpp"
#include "transport/worker.hpp"

namespace snorky {

class SockJsClient;
class SockJsSession;

// How one transport wraps a SockJS frame ("o", "h", "a[...]", "c[...]").
enum class SockJsWire : std::uint8_t { Line, Event, WebSocket, Count };

class SockJsListener {
public:
    SockJsListener(boost::asio::io_context& ioc, Worker& worker, ServiceRegistry& registry, SockJsOptions options);
    ~SockJsListener();
    void start();
    void stop();  // any thread: stops accepting, closes every session (1001)
    std::uint16_t port() const { return acceptor_.port(); }

    // The current settings (a reload may publish new ones; see update()).
    const SockJsOptions& options() const { return settings_.get().options; }
    const WebSocketOptions& base() const { return options().base; }
    ServiceRegistry& registry() { return registry_; }
    Worker& worker() { return worker_; }
    const RateLimit& rateLimit() const { return settings_.get().rateLimit; }
    const TrustedProxies& trustedProxies() const { return settings_.get().trustedProxies; }
    // Reload: the live keys of the WebSocket options (liveWebSocketOptions)
    // plus heartbeat_delay, disconnect_delay and response_limit. Any thread.
    void update(const SockJsOptions& fresh);
    ConnectionLimits& limits() { return *limits_; }
    std::uint32_t now() const { return now_; }
    bool stopping() const { return stopped_; }  // worker thread

    // Worker thread only.
    std::shared_ptr<SockJsSession> findSession(std::string_view id);
    void addSession(const std::shared_ptr<SockJsSession>& session);
    void removeSession(const std::string& id);
    void addWebSocket(const std::shared_ptr<SockJsClient>& client);
    void removeWebSocket(SockJsClient* client);
    void markDirty(std::shared_ptr<SockJsClient> client);

    // Any thread: queue a frame for a client of this listener.
    void deliver(std::shared_ptr<SockJsClient> client, FramePtr frame);

    // A batch of messages framed for one wire kind. A batch of one message is
    // built once per message and wire kind and shared by every session (the
    // cache lives until the current round of deliveries is written).
    std::shared_ptr<const std::string> framed(const std::vector<FramePtr>& batch, SockJsWire wire);
    // One message as the websocket transport's "a[...]" text frame, shared likewise.
    FramePtr webSocketFrame(const FramePtr& frame);
    // A control frame ("o", "h", "c[...]") wrapped for a wire kind.
    static std::string wrap(std::string_view frame, SockJsWire wire);

private:
    void tick();
    const std::string& quoted(const FramePtr& frame);

    Acceptor acceptor_;
    Worker& worker_;
    ServiceRegistry& registry_;
    struct Settings {
        SockJsOptions options;
        RateLimit rateLimit;
        TrustedProxies trustedProxies;
    };
    static Settings settingsOf(SockJsOptions options);
    Published<Settings> settings_;
    std::shared_ptr<ConnectionLimits> limits_;

    std::unordered_map<std::string, std::shared_ptr<SockJsSession>> sessions_;
    std::unordered_map<SockJsClient*, std::shared_ptr<SockJsClient>> webSockets_;

    struct Encoded {
        FramePtr frame;  // keeps the key alive while cached
        std::string quoted;
        std::shared_ptr<const std::string> wires[static_cast<int>(SockJsWire::Count)];
        FramePtr webSocket;
    };
    std::unordered_map<const Frame*, Encoded> cache_;
    // After each round of writes: this round's frames are written, drop them.
    DeliveryQueue<SockJsClient> queue_{worker_.ioc(), [this] {
        cache_.clear();
        worker_.publishCounts();
    }};

    boost::asio::steady_timer tickTimer_;
    std::chrono::steady_clock::time_point started_;
    std::uint32_t now_ = 0;
    bool stopped_ = false;
};

}  // namespace snorky
