#pragma once
// The HTTP backend: POST <path> with an envelope and X-Backend-Key; the reply
// envelope comes back with status 200 (protocol.md section 3).
#include <array>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "snorky/core/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/acceptor.hpp"
#include "transport/published.hpp"
#include "transport/tls_context.hpp"

namespace snorky {

class BackendListener {
public:
    BackendListener(boost::asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                    BackendOptions options);
    void start();
    void stop();
    std::uint16_t port() const { return acceptor_.port(); }

    // The current settings (a reload may publish new ones; see update()).
    const BackendOptions& options() const { return settings_.get().options; }
    // Reload: takes the key, the size limit, the timeouts and the metrics and
    // status page switches of `fresh`; address, port, path and TLS files stay.
    // Returns whether the key changed. Any thread.
    bool update(const BackendOptions& fresh);
    ServiceRegistry& registry() { return registry_; }
    // Constant-time comparison of a presented key with the configured one.
    bool keyMatches(std::string_view presented) const;
    // Requests read but not yet answered (graceful shutdown waits for them).
    std::atomic<int> inFlight{0};
    bool stopping() const { return stopping_; }
    // The services' counts for /status.json (Server sets it: it knows every registry).
    std::function<json::object()> serviceStats;
    TlsContext* tls() { return tls_.get(); }  // nullptr: plain http://

private:
    Acceptor acceptor_;
    ServiceRegistry& registry_;
    struct Settings {
        BackendOptions options;
        std::array<unsigned char, 32> keyDigest;  // SHA-256 of the key
    };
    static Settings settingsOf(BackendOptions options);
    Published<Settings> settings_;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<TlsContext> tls_;
};

}  // namespace snorky
