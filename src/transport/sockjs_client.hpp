#pragma once
// What the SockJS listener needs of its clients (an HTTP-transport session or
// a websocket connection): queue and flush on the worker thread, the
// once-a-second heartbeat/timeout check and a close.
#include "snorky/core/client.hpp"
#include "transport/rate_limiter.hpp"

namespace snorky {

class SockJsListener;

class SockJsClient : public Client {
public:
    // Any thread.
    void send(const FramePtr& frame) override;
    void disconnect(std::uint16_t code, std::string_view reason) override;

    // Worker thread only.
    virtual void queue(const FramePtr& frame) = 0;
    // The listener's round of writes reached this client.
    void flush() {
        dirty = false;
        write();
    }
    virtual void tick(std::uint32_t now) = 0;
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    bool dirty = false;  // in the listener's dirty list

protected:
    SockJsClient(SockJsListener& listener, std::string remote);
    std::shared_ptr<SockJsClient> self() { return std::static_pointer_cast<SockJsClient>(shared_from_this()); }
    // Writes what is queued, if the transport can now.
    virtual void write() = 0;
    // Rate limit and hand inbound messages to the registry; false once the
    // client was closed for staying over the limit.
    bool receive(const std::vector<std::string>& messages);
    // Counts a slow consumer (logged, rate-limited); the caller closes.
    void reportSlowConsumer(std::size_t bytes);

    SockJsListener& listener_;
    RateLimiter rateLimiter_;
};

}  // namespace snorky
