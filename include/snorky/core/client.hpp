#pragma once
// A Client is one connected peer as services see it: something to send frames
// to, an identity slot and a remote address. Transports subclass it; services
// never see sockets.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "snorky/protocol/drop_reason.hpp"
#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

class Client : public std::enable_shared_from_this<Client> {
public:
    virtual ~Client() = default;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Queues a frame for delivery. Callable from any thread, never blocks; a
    // closed client silently drops it. Order is kept per calling thread.
    virtual void send(const FramePtr& frame) = 0;

    // Ends the connection on the server's initiative: a WebSocket sends a
    // close frame with `code` and `reason` (at most 123 bytes of UTF-8) after
    // what is already queued. Callable from any thread; the close happens
    // later, never inside the caller's loop. Default: nothing (an HTTP backend
    // request is not a connection).
    virtual void disconnect(std::uint16_t /*code*/, std::string_view /*reason*/) {}

    // The registry dropped a message from this client (nothing is sent back on
    // WebSocket; the HTTP backend answers with a 4xx status).
    virtual void onDropped(DropReason) {}

    // Who the client proved to be; null means anonymous. Read and written only
    // by services (under the node's service lock).
    const json::value& identity() const { return identity_; }
    void setIdentity(json::value identity) { identity_ = std::move(identity); }
    bool authenticated() const { return !identity_.is_null(); }

    const std::string& remoteAddress() const { return remoteAddress_; }
    std::uint64_t id() const { return id_; }

protected:
    explicit Client(std::string remoteAddress)
        : remoteAddress_(std::move(remoteAddress)), id_(nextId_.fetch_add(1, std::memory_order_relaxed)) {}
    // Before the client is handed to services only (e.g. the address a trusted
    // proxy reported, known once the HTTP request is read).
    void setRemoteAddress(std::string remoteAddress) { remoteAddress_ = std::move(remoteAddress); }

private:
    json::value identity_;
    std::string remoteAddress_;
    std::uint64_t id_;
    static inline std::atomic<std::uint64_t> nextId_{1};
};
using ClientPtr = std::shared_ptr<Client>;

}  // namespace snorky
