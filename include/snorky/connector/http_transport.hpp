#pragma once
// HTTP(S) transport to a Snorky backend listener (protocol.md section 3):
// POST <path> with the envelope as body and the key in X-Backend-Key.
//
// One kept-alive connection is reused across calls. When the server closed
// it meanwhile (idle timeout, restart), the next call reconnects
// transparently: a reused connection that fails before any byte of a response
// arrived is retried once on a fresh connection. A request is never re-sent
// once a response has started, nor after a timeout.
//
// Thread safety: calls are serialized by an internal mutex; use one transport
// per thread for parallel calls.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "snorky/connector/backend_url.hpp"
#include "snorky/connector/transport.hpp"

namespace snorky::connector {

struct HttpTransportOptions {
    // Resolve + TCP connect + TLS handshake.
    std::chrono::milliseconds connectTimeout{5000};
    // From the first byte sent to the last byte of the reply.
    std::chrono::milliseconds requestTimeout{30000};
    // Largest reply body accepted (a larger one is a TransportError).
    std::uint64_t maxReplyBytes = 64ull * 1024 * 1024;
    // https: verify the server certificate and host name against the system
    // trust store, plus caFile when set (PEM).
    bool verifyPeer = true;
    std::string caFile;
};

class HttpTransport : public Transport {
public:
    // Throws std::invalid_argument when the URL is not usable (see
    // parseBackendUrl) or the key holds control characters (it goes in a
    // header). Does not connect yet.
    HttpTransport(std::string_view url, std::string key, HttpTransportOptions options = {});
    ~HttpTransport() override;
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    boost::json::value send(const boost::json::value& envelope) override;

    void setConnectTimeout(std::chrono::milliseconds timeout);
    void setRequestTimeout(std::chrono::milliseconds timeout);

    const BackendUrl& url() const;
    // Connections opened so far (1 after many calls means keep-alive works).
    std::uint64_t connectionsOpened() const;
    // Local TCP port of the current connection, 0 when not connected.
    std::uint16_t localPort() const;
    // Drops the kept-alive connection; the next call opens a new one.
    void disconnect();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace snorky::connector
