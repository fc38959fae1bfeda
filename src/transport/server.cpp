#include "snorky/transport/server.hpp"

#include <sys/resource.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <csignal>
#include <map>
#include <thread>

#include "snorky/core/log.hpp"
#include "transport/asio_timers.hpp"
#include "transport/backend_listener.hpp"
#include "transport/sockjs_listener.hpp"
#include "transport/worker.hpp"
#include "transport/ws_listener.hpp"
#include "transport/ws_session.hpp"

namespace snorky {

namespace asio = boost::asio;

namespace {
unsigned threadCount(unsigned requested) {
    if (requested) return requested;
    unsigned cores = std::thread::hardware_concurrency();
    return cores ? cores : 1;
}

// One connection is one file descriptor: use all the process may have.
void raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}
// Returns the free pages of every malloc arena to the system. glibc only
// gives back the top of the main heap on its own; the pages freed in the
// middle of an arena after a peak stay resident until trimmed.
// It runs beside the workers (it takes no lock of ours, only glibc's arena
// locks, briefly each): /metrics shows how long it takes.
void releaseFreeMemory(Metrics& metrics) {
#if defined(__GLIBC__)
    auto started = std::chrono::steady_clock::now();
    malloc_trim(0);
    auto micros = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    metrics.memoryTrims.fetch_add(1, std::memory_order_relaxed);
    metrics.memoryTrimMicros.fetch_add(micros, std::memory_order_relaxed);
    if (micros > metrics.memoryTrimMaxMicros.load(std::memory_order_relaxed))
        metrics.memoryTrimMaxMicros.store(micros, std::memory_order_relaxed);  // only this thread writes it
    SNORKY_LOG(Debug, "malloc_trim took " << micros << " us");
#endif
}
}  // namespace

// Members are declared so that they are destroyed in a safe order: listeners,
// then registries (services release their clients while the I/O contexts
// still exist), then the node, timers and finally the workers.
struct Server::Impl {
    explicit Impl(unsigned threads, Engine engine) {
        for (unsigned i = 0; i < threadCount(threads); ++i) workers.push_back(std::make_unique<Worker>(i));
        timers = std::make_unique<AsioTimers>(workers[0]->ioc());
        node = std::make_unique<Node>(std::move(engine), *timers);  // memory unless told otherwise
        timers->setLock(node->serviceLock());
        for (auto& worker : workers) worker->setMetrics(node->metrics());
        signals = std::make_unique<asio::signal_set>(workers[0]->ioc(), SIGINT, SIGTERM);
        hangup = std::make_unique<asio::signal_set>(workers[0]->ioc(), SIGHUP);
    }

    // SIGHUP is handled each time it comes (the shutdown signals only once).
    void awaitHangup(Server& server) {
        hangup->async_wait([this, &server](const boost::system::error_code& ec, int) {
            if (ec) return;
            SNORKY_LOG(Info, "received SIGHUP, reloading");
            if (server.onHangup) server.onHangup();
            else server.reloadCertificates();
            awaitHangup(server);
        });
    }

    std::vector<Worker*> workerList() {
        std::vector<Worker*> out;
        for (auto& w : workers) out.push_back(w.get());
        return out;
    }

    std::vector<std::unique_ptr<Worker>> workers;
    std::unique_ptr<AsioTimers> timers;
    std::unique_ptr<Node> node;
    std::unique_ptr<asio::signal_set> signals;
    std::unique_ptr<asio::signal_set> hangup;
    std::map<std::string, std::unique_ptr<ServiceRegistry>> registries;
    std::vector<std::unique_ptr<WsListener>> wsListeners;
    std::vector<std::unique_ptr<BackendListener>> backendListeners;
    std::vector<std::unique_ptr<SockJsListener>> sockJsListeners;
    std::vector<Endpoint> endpoints;

    std::mutex stateLock;
    std::condition_variable stateChanged;
    bool started = false;
    bool stopRequested = false;
    bool finished = false;
};

Server::Server(unsigned threads, Engine engine) : impl_(std::make_unique<Impl>(threads, std::move(engine))) {}

Server::~Server() {
    if (impl_->started && !impl_->finished) {
        stop();
        wait();
    }
    for (auto& worker : impl_->workers) {
        worker->stopNow();
        worker->join();
    }
    impl_->node->broker().close();  // before the services (its listeners) are destroyed
    impl_->node->cluster().close();
}

Node& Server::node() { return *impl_->node; }

ServiceRegistry& Server::registry(const std::string& name) {
    auto& slot = impl_->registries[name];
    if (!slot) slot = std::make_unique<ServiceRegistry>(name, *impl_->node);
    return *slot;
}

void Server::listenWebSocket(ServiceRegistry& registry, WebSocketOptions options) {
    auto listener = std::make_unique<WsListener>(impl_->workers[0]->ioc(), impl_->workerList(), registry, options);
    impl_->endpoints.push_back(
        {"websocket", registry.name(), options.address, listener->port(), options.path, listener->tls() != nullptr});
    impl_->wsListeners.push_back(std::move(listener));
}

void Server::listenSockJs(ServiceRegistry& registry, SockJsOptions options) {
    // A listener's sessions all live on one worker (its session table needs
    // no lock); listeners take the workers in turn.
    Worker& worker = *impl_->workers[impl_->sockJsListeners.size() % impl_->workers.size()];
    auto listener = std::make_unique<SockJsListener>(impl_->workers[0]->ioc(), worker, registry, options);
    impl_->endpoints.push_back({"sockjs", registry.name(), options.base.address, listener->port(), options.base.path});
    impl_->sockJsListeners.push_back(std::move(listener));
}

void Server::listenBackend(ServiceRegistry& registry, BackendOptions options) {
    auto listener = std::make_unique<BackendListener>(impl_->workers[0]->ioc(), impl_->workerList(), registry, options);
    // The status page's per-service counts, from every registry of this server.
    listener->serviceStats = [impl = impl_.get()] {
        json::object out;
        std::lock_guard lock(impl->node->serviceLock());
        for (const auto& [registryName, registry] : impl->registries)
            for (auto& [name, figures] : registry->stats())
                out[out.contains(name) ? registryName + "/" + std::string(name) : std::string(name)] = std::move(figures);
        return out;
    };
    impl_->endpoints.push_back(
        {"backend", registry.name(), options.address, listener->port(), options.path, listener->tls() != nullptr});
    impl_->backendListeners.push_back(std::move(listener));
}

std::vector<Endpoint> Server::endpoints() const { return impl_->endpoints; }

std::vector<std::string> Server::reloadCertificates() {
    std::vector<std::string> errors;
    auto reload = [&errors](TlsContext* tls, std::uint16_t port) {
        if (!tls) return;
        std::string error = tls->reload();
        if (error.empty()) {
            SNORKY_LOG(Info, "port " << port << ": reloaded the certificate from " << tls->certFile());
        } else {
            SNORKY_LOG(Error, "port " << port << ": certificate not reloaded, keeping the current one: " << error);
            errors.push_back(std::move(error));
        }
    };
    for (auto& l : impl_->wsListeners) reload(l->tls(), l->port());
    for (auto& l : impl_->backendListeners) reload(l->tls(), l->port());
    return errors;
}

void Server::updateWebSocket(std::size_t index, const WebSocketOptions& options) {
    impl_->wsListeners.at(index)->update(options);
}

void Server::updateSockJs(std::size_t index, const SockJsOptions& options) {
    impl_->sockJsListeners.at(index)->update(options);
}

bool Server::updateBackend(std::size_t index, const BackendOptions& options) {
    return impl_->backendListeners.at(index)->update(options);
}

void Server::start() {
    std::signal(SIGPIPE, SIG_IGN);
    raiseFileLimit();
    impl_->signals->async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        SNORKY_LOG(Info, "received " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down");
        stop();
    });
    impl_->awaitHangup(*this);
    for (auto& l : impl_->wsListeners) l->start();
    for (auto& l : impl_->backendListeners) l->start();
    for (auto& l : impl_->sockJsListeners) l->start();
    for (auto& w : impl_->workers) w->start();
    {
        std::lock_guard guard(impl_->stateLock);
        impl_->started = true;
    }
    for (const Endpoint& e : impl_->endpoints)
        SNORKY_LOG(Info, "listening: " << e.type << (e.tls ? " (TLS) " : " ") << e.address << ":" << e.port << e.path
                                       << " (registry " << e.registry << ")");
    if (onReady) onReady();
}

void Server::stop() {
    std::lock_guard guard(impl_->stateLock);
    impl_->stopRequested = true;
    impl_->stateChanged.notify_all();
}

void Server::wait() {
    {
        // The waiting thread is otherwise idle: it trims the allocator meanwhile.
        std::unique_lock lock(impl_->stateLock);
        auto stopping = [this] { return impl_->stopRequested; };
        if (memoryTrimInterval.count() <= 0) impl_->stateChanged.wait(lock, stopping);
        else while (!impl_->stateChanged.wait_for(lock, memoryTrimInterval, stopping)) {
            lock.unlock();
            releaseFreeMemory(impl_->node->metrics());
            lock.lock();
        }
        if (impl_->finished) return;
    }
    // Stop accepting, say goodbye to every WebSocket, let backend requests finish.
    for (auto& l : impl_->wsListeners) l->stop();
    for (auto& l : impl_->backendListeners) l->stop();
    for (auto& l : impl_->sockJsListeners) l->stop();
    for (auto& w : impl_->workers) {
        asio::post(w->ioc(), [worker = w.get()] {
            worker->forEachSession([](WsSession& s) { s.close(ws::GoingAway, "Server shutting down"); });
        });
    }
    auto deadline = std::chrono::steady_clock::now() + drainTimeout;
    auto busy = [this] {
        if (impl_->node->metrics().connectionsOpen() > 0) return true;
        for (auto& l : impl_->backendListeners)
            if (l->inFlight > 0) return true;
        return false;
    };
    while (busy() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& w : impl_->workers) w->stopNow();
    for (auto& w : impl_->workers) w->join();
    impl_->node->broker().close();  // no delivery from another node once we are down
    impl_->node->cluster().close();
    {
        std::lock_guard guard(impl_->stateLock);
        impl_->finished = true;
    }
    SNORKY_LOG(Info, "stopped");
}

int Server::run() {
    if (!impl_->started) start();
    wait();
    return 0;
}

}  // namespace snorky
