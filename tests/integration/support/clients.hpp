#pragma once
// Real network clients for integration tests: a WebSocket client (Beast) with
// timeouts, and HTTP POST for the backend.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace snorky::it {

namespace json = boost::json;
using namespace std::chrono_literals;

class WsClient {
public:
    // Connects and upgrades; throws std::runtime_error on failure.
    explicit WsClient(int port, const std::string& target = "/ws", const std::map<std::string, std::string>& headers = {});
    ~WsClient();

    void sendText(const std::string& text);
    void sendBinary(const std::string& bytes);
    void sendJson(const json::value& envelope) { sendText(json::serialize(envelope)); }
    // Sends {"service", "message": {"command", "params", "callId"}}.
    void call(const std::string& service, const std::string& command, json::object params, json::value callId = 1);
    // call() then waits for the reply; returns its "message".
    json::value request(const std::string& service, const std::string& command, json::object params, json::value callId = 1);
    // Writes raw bytes to the TCP socket (malformed frames).
    void sendRaw(const std::string& bytes);

    // The next text message parsed as JSON, or nullopt after `timeout`.
    std::optional<json::value> receive(std::chrono::milliseconds timeout = 3000ms);
    // Same, but fails the test (throws) when nothing arrives.
    json::value expect(std::chrono::milliseconds timeout = 3000ms);
    // The "message" part of the next envelope.
    json::value expectMessage(std::chrono::milliseconds timeout = 3000ms) { return expect(timeout).at("message"); }
    // True when nothing arrives within `window`.
    bool silentFor(std::chrono::milliseconds window = 300ms);

    // Waits until the server closes the connection; the close code, or
    // nullopt when the connection was not closed within `timeout`. -1 when the
    // TCP connection ended without a close frame.
    std::optional<int> waitClosed(std::chrono::milliseconds timeout = 3000ms);
    void close();
    bool isOpen() const { return open_; }

    // Lets ping frames be answered automatically (Beast does) or not.
    void stopReading();
    boost::beast::websocket::stream<boost::beast::tcp_stream>& stream() { return ws_; }

private:
    boost::asio::io_context ioc_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
    bool readPending_ = false;
    bool readDone_ = false;
    boost::system::error_code readError_;
};

// The HTTP status of a refused upgrade (or 101 when accepted).
int upgradeStatus(int port, const std::string& target, const std::map<std::string, std::string>& headers = {});

struct HttpResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    json::value json() const { return json::parse(body); }
};

// One request on a fresh connection.
HttpResponse httpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                         const std::map<std::string, std::string>& headers = {});
inline HttpResponse httpPost(int port, const std::string& target, const std::string& body,
                             const std::map<std::string, std::string>& headers = {}) {
    return httpRequest(port, "POST", target, body, headers);
}
// POST /backend with the key; returns the "message" of the reply envelope.
json::value backendCall(int port, const std::string& service, const std::string& command, json::object params,
                        const std::string& key = "swordfish");

// Raw bytes over TCP: sends, then reads until the peer closes or `timeout`.
std::string rawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout = 2000ms);

}  // namespace snorky::it
