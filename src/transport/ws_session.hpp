#pragma once
// One WebSocket connection: the HTTP upgrade (or a static file), then frames.
// Framing is done here rather than by Beast's websocket stream so that an idle
// connection holds no buffers, outbound frames are shared pre-built buffers,
// and several queued frames leave in one sendmsg().
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "snorky/core/client.hpp"
#include "snorky/protocol/ws_codec.hpp"
#include "transport/connection_limits.hpp"
#include "transport/rate_limiter.hpp"
#include "transport/worker.hpp"

namespace boost::asio::ssl {
class context;
}

namespace snorky {

class WsListener;
struct Handshake;
class TlsSocket;

class WsSession final : public Client {
public:
    WsSession(boost::asio::ip::tcp::socket socket, WsListener& listener, Worker& worker, std::string remote,
              ConnectionLimits::Slot handshakeSlot, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
    ~WsSession() override;

    void start();

    // Client: any thread.
    void send(const FramePtr& frame) override;
    void disconnect(std::uint16_t code, std::string_view reason) override;

    // Worker thread only.
    void queue(const FramePtr& frame);
    void flush();
    void sweep(std::uint32_t now);
    void close(std::uint16_t code, std::string_view reason);

private:
    friend class Worker;
    std::shared_ptr<WsSession> self() { return std::static_pointer_cast<WsSession>(shared_from_this()); }

    // Handshake phase
    void readRequest();
    void onRequest();
    void respond(unsigned status, std::string_view body, bool keepAlive, std::string_view extraHeaders = {},
                 bool omitBody = false);
    void accept(std::string_view key, json::value identity, std::string_view extensions);
    void refuse(unsigned status, std::string_view error);
    bool admitAddress(const std::vector<std::string_view>& forwardedFor);
    // Calls f with the byte stream: the TLS stream on wss://, else the socket.
    template <class F>
    void withStream(F&& f);

    // Open phase
    void waitReadable();
    void onReadable();
    void consume(std::uint8_t* data, std::size_t size);
    bool handleFrame(const ws::FrameHeader& header, std::uint8_t* payload);
    bool receiveText(std::string_view text, bool compressed);
    bool admitMessage(std::string_view text);
    // What a flush left: all sent, or waiting for the socket (TLS may need
    // it readable to go on writing), or the connection failed.
    enum class Flushed : std::uint8_t { All, WaitWritable, WaitReadable, Failed };
    Flushed writePlain();
    std::size_t advance(std::size_t bytes);  // drops what the socket took; frames completed
    void waitWritable(bool readable);
    void terminate();
    // wss://: reads and writes go through OpenSSL on the socket (TlsSocket).
    void waitTlsReadable(bool writable);
    void onTlsReadable();
    Flushed writeTls();

    boost::asio::ip::tcp::socket socket_;
    WsListener& listener_;
    Worker& worker_;
    std::unique_ptr<Handshake> handshake_;  // only until the upgrade
    std::unique_ptr<TlsSocket> tls_;        // wss:// only
    ConnectionLimits::Slot addressSlot_;    // max_connections_per_ip
    RateLimiter rateLimiter_;

    std::vector<FramePtr> out_;  // frames waiting; out_[outHead_] partly sent up to headOffset_
    std::size_t outHead_ = 0;
    std::size_t headOffset_ = 0;
    std::size_t queuedBytes_ = 0;
    std::string partial_;  // bytes of an incomplete inbound frame (empty when idle)
    std::string message_;  // a fragmented inbound message being assembled

    enum class State : std::uint8_t { Handshake, Open, Closing, Closed } state_ = State::Handshake;
    bool writing_ = false;      // waiting for the socket to become writable
    bool dirty_ = false;        // in the worker's dirty list
    bool readArmed_ = false;
    bool pingOutstanding_ = false;
    bool shutdownSent_ = false;
    bool fragmented_ = false;
    bool compressedMessage_ = false;  // the fragmented message began with RSV1
    std::uint32_t lastSeen_ = 0;  // worker clock, seconds
    std::uint32_t deadline_ = 0;  // closing: give up waiting for the peer then
    // permessage-deflate: 0 when not agreed, else the largest payload this
    // client can inflate (its server_max_window_bits), see permessage_deflate.hpp.
    std::uint32_t deflateMax_ = 0;

    WsSession* prev_ = nullptr;  // worker's session list
    WsSession* next_ = nullptr;
};

}  // namespace snorky
