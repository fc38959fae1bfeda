#pragma once
// One SockJS session of the HTTP transports (xhr polling, xhr_streaming,
// eventsource): a Client for the services that outlives the requests
// carrying it. Frames queue here while no receiving request is open and
// leave as one "a[...]" frame when the next one arrives; a session with no
// receiving request for disconnect_delay ends (a disconnect for the services).
#include <memory>
#include <string>
#include <vector>

#include "transport/connection_limits.hpp"
#include "transport/sockjs_client.hpp"

namespace snorky {

class SockJsHttp;

class SockJsSession final : public SockJsClient {
public:
    SockJsSession(SockJsListener& listener, std::string id, std::string remote, ConnectionLimits::Slot addressSlot,
                  json::value identity);
    const std::string& sessionId() const { return id_; }
    void open();  // registers with the services

    // A receiving request for this session arrived on `receiver`.
    void attach(const std::shared_ptr<SockJsHttp>& receiver);
    // That request ended (the peer went away).
    void detach(const SockJsHttp* receiver);
    // xhr_send: messages from the client. False: the session closed meanwhile.
    bool onSend(const std::vector<std::string>& messages);
    bool closed() const { return closed_; }

    // SockJsClient (worker thread)
    void queue(const FramePtr& frame) override;
    void write() override;
    void tick(std::uint32_t now) override;
    void close(std::uint16_t code, std::string_view reason) override;
    // Gone for good: out of the table, the services told.
    void end();

private:
    void write(std::shared_ptr<const std::string> data);
    void unregister();

    std::string id_;
    std::vector<FramePtr> pending_;
    std::size_t pendingBytes_ = 0;
    std::shared_ptr<SockJsHttp> receiver_;
    std::string closeFrame_;
    ConnectionLimits::Slot addressSlot_;
    std::uint32_t lastWrite_ = 0;
    std::uint32_t detachedAt_ = 0;
    bool opened_ = false;      // "o" sent
    bool closed_ = false;      // closeFrame_ is the answer from now on
    bool registered_ = false;  // the services know this client
    bool slow_ = false;        // cut off as a slow consumer, closing
};

}  // namespace snorky
