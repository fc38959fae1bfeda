#include "transport/sockjs_listener.hpp"

#include <boost/asio/post.hpp>

#include "snorky/core/log.hpp"
#include "snorky/protocol/ws_codec.hpp"
#include "transport/sockjs_framing.hpp"
#include "transport/sockjs_http.hpp"
#include "transport/sockjs_session.hpp"
#include "transport/ws_listener.hpp"

namespace snorky {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

SockJsListener::SockJsListener(asio::io_context& ioc, Worker& worker, ServiceRegistry& registry, SockJsOptions options)
    : acceptor_(ioc, {&worker}, options.base.address, options.base.port),
      worker_(worker),
      registry_(registry),
      settings_(settingsOf(std::move(options))),
      limits_(std::make_shared<ConnectionLimits>(base().maxHandshakes, base().maxConnectionsPerIp)),
      tickTimer_(worker.ioc()),
      started_(std::chrono::steady_clock::now()) {}

SockJsListener::Settings SockJsListener::settingsOf(SockJsOptions options) {
    const WebSocketOptions& b = options.base;
    RateLimit rate{b.rateLimit, b.rateBurst, b.rateLimitDisconnect};
    TrustedProxies proxies(b.trustedProxies);
    return Settings{std::move(options), rate, std::move(proxies)};
}

void SockJsListener::update(const SockJsOptions& fresh) {
    SockJsOptions next = options();
    next.base = liveWebSocketOptions(next.base, fresh.base);
    next.heartbeat = fresh.heartbeat;
    next.disconnectDelay = fresh.disconnectDelay;
    next.responseLimit = fresh.responseLimit;
    limits_->setCaps(next.base.maxHandshakes, next.base.maxConnectionsPerIp);
    settings_.publish(settingsOf(std::move(next)));
}

SockJsListener::~SockJsListener() = default;

void SockJsListener::start() {
    acceptor_.start([this](Worker&, tcp::socket socket) {
        auto handshake = limits_->beginHandshake();
        if (!handshake) {
            registry_.node().metrics().handshakesRefused.fetch_add(1, std::memory_order_relaxed);
            return;  // the socket closes here
        }
        auto connection = std::make_shared<SockJsHttp>(std::move(socket), *this, std::move(*handshake));
        asio::post(worker_.ioc(), [connection] { connection->start(); });
    });
    asio::post(worker_.ioc(), [this] { tick(); });
}

void SockJsListener::stop() {
    acceptor_.stop();
    asio::post(worker_.ioc(), [this] {
        stopped_ = true;  // the tick goes on: closing websockets still need their grace period
        std::vector<std::shared_ptr<SockJsSession>> sessions;
        for (auto& [id, session] : sessions_) sessions.push_back(session);
        for (auto& session : sessions) {
            session->close(ws::GoingAway, "Server shutting down");
            session->end();
        }
        std::vector<std::shared_ptr<SockJsClient>> sockets;
        for (auto& [raw, client] : webSockets_) sockets.push_back(client);
        for (auto& client : sockets) client->close(ws::GoingAway, "Server shutting down");
    });
}

std::shared_ptr<SockJsSession> SockJsListener::findSession(std::string_view id) {
    auto it = sessions_.find(std::string(id));
    return it == sessions_.end() ? nullptr : it->second;
}

void SockJsListener::addSession(const std::shared_ptr<SockJsSession>& session) {
    sessions_[session->sessionId()] = session;
}

void SockJsListener::removeSession(const std::string& id) { sessions_.erase(id); }

void SockJsListener::addWebSocket(const std::shared_ptr<SockJsClient>& client) { webSockets_[client.get()] = client; }

void SockJsListener::removeWebSocket(SockJsClient* client) { webSockets_.erase(client); }

void SockJsListener::deliver(std::shared_ptr<SockJsClient> client, FramePtr frame) {
    queue_.deliver(std::move(client), std::move(frame));
}

void SockJsListener::markDirty(std::shared_ptr<SockJsClient> client) {
    if (client->dirty) return;
    client->dirty = true;
    queue_.markDirty(std::move(client));
}

const std::string& SockJsListener::quoted(const FramePtr& frame) {
    Encoded& entry = cache_[frame.get()];
    if (!entry.frame) {
        entry.frame = frame;
        sockjs::appendQuoted(entry.quoted, frame->payload());
    }
    return entry.quoted;
}

std::string SockJsListener::wrap(std::string_view frame, SockJsWire wire) {
    switch (wire) {
        case SockJsWire::Line: return std::string(frame) + "\n";
        case SockJsWire::Event: return "data: " + std::string(frame) + "\r\n\r\n";
        default: return std::string(frame);
    }
}

std::shared_ptr<const std::string> SockJsListener::framed(const std::vector<FramePtr>& batch, SockJsWire wire) {
    auto build = [&] {
        std::string frame = "a[";
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (i) frame += ',';
            frame += quoted(batch[i]);
        }
        frame += ']';
        return std::make_shared<const std::string>(wrap(frame, wire));
    };
    if (batch.size() != 1) return build();
    quoted(batch[0]);
    auto& slot = cache_[batch[0].get()].wires[static_cast<int>(wire)];
    if (!slot) slot = build();
    return slot;
}

FramePtr SockJsListener::webSocketFrame(const FramePtr& frame) {
    quoted(frame);
    Encoded& entry = cache_[frame.get()];
    if (!entry.webSocket) entry.webSocket = Frame::text("a[" + entry.quoted + "]");
    return entry.webSocket;
}

void SockJsListener::tick() {
    now_ = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
    std::vector<std::shared_ptr<SockJsClient>> clients;
    clients.reserve(sessions_.size() + webSockets_.size());
    for (auto& [id, session] : sessions_) clients.push_back(session);
    for (auto& [raw, client] : webSockets_) clients.push_back(client);
    for (auto& client : clients) client->tick(now_);
    queue_.flush();
    tickTimer_.expires_after(std::chrono::seconds(1));
    tickTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

}  // namespace snorky
