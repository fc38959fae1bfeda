#pragma once
// The SockJS websocket transports over one upgraded connection:
// /<server>/<session>/websocket (SockJS framing: "o", "h", "a[...]", "c[...]"
// as text messages, inbound messages are JSON arrays of strings) and the raw
// /websocket (plain messages, as on the WebSocket listener). One connection is
// one session: it ends with the connection. Frames are parsed and built with
// the project's WebSocket codec.
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "snorky/protocol/ws_codec.hpp"
#include "transport/connection_limits.hpp"
#include "transport/sockjs_client.hpp"

namespace snorky {

class SockJsWebSocket final : public SockJsClient {
public:
    SockJsWebSocket(boost::asio::ip::tcp::socket socket, SockJsListener& listener, std::string remote, bool raw,
                    ConnectionLimits::Slot addressSlot, json::value identity);
    // Sends the 101 answer (and "o"), then reads frames; `early`: bytes read past the request.
    void start(std::string acceptKey, std::string early);

    void queue(const FramePtr& frame) override;
    void write() override;
    void tick(std::uint32_t now) override;
    void close(std::uint16_t code, std::string_view reason) override;

private:
    void push(FramePtr frame);
    void readSome();
    void consume(const char* data, std::size_t size);
    bool onMessage(std::string_view text);
    void doWrite();
    void terminate();

    boost::asio::ip::tcp::socket socket_;
    bool raw_;
    ConnectionLimits::Slot addressSlot_;
    std::string inbound_;  // unparsed bytes
    std::string message_;  // a fragmented message being assembled
    bool fragmented_ = false;
    std::vector<FramePtr> out_, inflight_;
    std::size_t backlog_ = 0;
    bool writing_ = false;
    bool registered_ = false;  // the services know this client
    enum class State : std::uint8_t { Open, Closing, Closed } state_ = State::Open;
    std::uint32_t lastWrite_ = 0;
    std::uint32_t lastRead_ = 0;
    std::uint32_t closingSince_ = 0;
};

}  // namespace snorky
