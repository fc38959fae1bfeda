#pragma once
// One HTTP connection to a SockJS listener: reads requests with Beast and
// answers /info, OPTIONS preflights and xhr_send at once; a receiving request
// (xhr, xhr_streaming, eventsource) is attached to its session and stays open
// until the session writes to it; an upgrade becomes a SockJsWebSocket.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/connection_limits.hpp"
#include "transport/sockjs_listener.hpp"

namespace snorky {

class SockJsSession;

class SockJsHttp : public std::enable_shared_from_this<SockJsHttp> {
public:
    SockJsHttp(boost::asio::ip::tcp::socket socket, SockJsListener& listener, ConnectionLimits::Slot handshakeSlot);
    void start();

    // As a session's receiver (worker thread).
    SockJsWire wire() const { return wire_; }
    // Writes a wrapped frame. A polling request is answered by it; a
    // streaming one ends once it carried response_limit bytes.
    void write(std::shared_ptr<const std::string> data);
    // Writes this last frame and ends the request.
    void writeFinal(const std::string& wrappedFrame);
    bool finished() const { return mode_ != Mode::Polling && mode_ != Mode::Streaming; }
    std::size_t backlog() const { return backlog_; }

private:
    using Request = boost::beast::http::request<boost::beast::http::string_body>;
    // What a new session or websocket needs: its identity (?token=) and its per-IP slot.
    struct Admission {
        std::string address;
        ConnectionLimits::Slot slot;
        json::value identity;
    };
    enum class Mode : std::uint8_t { Reading, Answering, Polling, Streaming, Ending, Draining, Closed };

    void readRequest();
    void onRequest();
    void onSessionRequest(const Request& request, std::string_view session, std::string_view transport);
    void upgrade(const Request& request, bool raw);
    // The admission of a new client, or nothing when refused (and answered: 401, 429).
    std::optional<Admission> admit(const Request& request);
    void answer(unsigned status, std::string_view headers, std::string_view body, bool keepAlive = true);
    void preflight(const Request& request, std::string_view methods);
    std::string commonHeaders(const Request& request, bool cookie) const;
    bool originAllowed(const Request& request) const;
    std::string clientAddress(const Request& request);
    void startStream();
    void send(std::shared_ptr<const std::string> data);
    void doWrite();
    void watchPeer();
    void drain();
    void terminate();

    boost::asio::ip::tcp::socket socket_;
    SockJsListener& listener_;
    ConnectionLimits::Slot handshakeSlot_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    boost::asio::steady_timer timer_;

    Mode mode_ = Mode::Reading;
    SockJsWire wire_ = SockJsWire::Line;
    std::string responseHeaders_;  // of the receiving request, sent with its first bytes
    bool keepAlive_ = true;
    std::size_t streamed_ = 0;
    std::uint32_t watchGeneration_ = 0;
    std::weak_ptr<SockJsSession> session_;

    std::vector<std::shared_ptr<const std::string>> out_, inflight_;
    std::size_t backlog_ = 0;
    bool writing_ = false;
    bool unreadBody_ = false;  // refused before its body was read: drain before closing
};

}  // namespace snorky
