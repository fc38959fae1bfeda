#include "support/clients.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <stdexcept>

namespace snorky::it {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {
// Runs the context until `done` or the timeout; true when done.
template <class Done>
bool runUntil(asio::io_context& ioc, std::chrono::milliseconds timeout, Done done) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    ioc.restart();
    while (!done()) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        ioc.run_one_for(deadline - now);
        if (ioc.stopped()) ioc.restart();
    }
    return true;
}
}  // namespace

WsClient::WsClient(int port, const std::string& target, const std::map<std::string, std::string>& headers) : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (auto& [k, v] : headers) req.set(k, v);
    }));
    ws_.read_message_max(64 * 1024 * 1024);
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
    open_ = true;
}

WsClient::~WsClient() {
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
}

void WsClient::sendText(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
}

void WsClient::sendBinary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(asio::buffer(bytes));
    ws_.text(true);
}

void WsClient::sendRaw(const std::string& bytes) {
    asio::write(beast::get_lowest_layer(ws_).socket(), asio::buffer(bytes));
}

void WsClient::call(const std::string& service, const std::string& command, json::object params, json::value callId) {
    json::object message{{"command", command}, {"params", std::move(params)}};
    if (!callId.is_null()) message["callId"] = std::move(callId);
    sendJson(json::object{{"service", service}, {"message", std::move(message)}});
}

json::value WsClient::request(const std::string& service, const std::string& command, json::object params, json::value callId) {
    call(service, command, std::move(params), callId);
    // Skip notifications until the reply to this call arrives.
    for (int i = 0; i < 1000; ++i) {
        json::value envelope = expect();
        const json::object& message = envelope.at("message").as_object();
        auto type = message.find("type");
        if (type != message.end() && (type->value() == "response" || type->value() == "error")) return message;
    }
    throw std::runtime_error("no reply");
}

std::optional<json::value> WsClient::receive(std::chrono::milliseconds timeout) {
    if (!open_) return std::nullopt;
    if (!readPending_) {
        readPending_ = true;
        readDone_ = false;
        buffer_.clear();
        ws_.async_read(buffer_, [this](boost::system::error_code ec, std::size_t) {
            readDone_ = true;
            readPending_ = false;
            readError_ = ec;
        });
    }
    if (!runUntil(ioc_, timeout, [this] { return readDone_; })) return std::nullopt;
    readDone_ = false;
    if (readError_) {
        open_ = false;
        return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer_.data()));
}

json::value WsClient::expect(std::chrono::milliseconds timeout) {
    auto value = receive(timeout);
    if (!value) throw std::runtime_error("expected a message, got none");
    return *value;
}

bool WsClient::silentFor(std::chrono::milliseconds window) { return !receive(window).has_value() && open_; }

std::optional<int> WsClient::waitClosed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (open_) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    }
    if (readError_ == websocket::error::closed) return static_cast<int>(ws_.reason().code);
    return -1;
}

void WsClient::close() {
    if (!open_) return;
    boost::system::error_code ec;
    ws_.close(websocket::close_code::normal, ec);
    open_ = false;
}

int upgradeStatus(int port, const std::string& target, const std::map<std::string, std::string>& headers) {
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws(ioc);
    beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (auto& [k, v] : headers) req.set(k, v);
    }));
    websocket::response_type response;
    boost::system::error_code ec;
    ws.handshake(response, "127.0.0.1", target, ec);
    return static_cast<int>(response.result_int());
}

HttpResponse httpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                         const std::map<std::string, std::string>& headers) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bool done = false;
    boost::system::error_code error;
    http::async_read(stream, buffer, parser, [&](boost::system::error_code ec, std::size_t) {
        error = ec;
        done = true;
    });
    if (!runUntil(ioc, std::chrono::seconds(35), [&] { return done; })) throw std::runtime_error("HTTP response timed out");
    if (error) throw std::runtime_error("HTTP read failed: " + error.message());
    HttpResponse out;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (auto& field : res) out.headers[std::string(field.name_string())] = std::string(field.value());
    return out;
}

json::value backendCall(int port, const std::string& service, const std::string& command, json::object params,
                        const std::string& key) {
    json::object envelope{{"service", service},
                          {"message", json::object{{"command", command}, {"params", std::move(params)}, {"callId", 1}}}};
    HttpResponse response = httpPost(port, "/backend", json::serialize(envelope), {{"X-Backend-Key", key}});
    if (response.status != 200) throw std::runtime_error("backend status " + std::to_string(response.status) + ": " + response.body);
    return response.json().at("message");
}

std::string rawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    asio::write(socket, asio::buffer(bytes));
    std::string received;
    std::array<char, 4096> chunk;
    bool done = false;
    std::function<void()> readMore = [&] {
        socket.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
            received.append(chunk.data(), n);
            if (ec) done = true;
            else readMore();
        });
    };
    readMore();
    runUntil(ioc, timeout, [&] { return done; });
    return received;
}

}  // namespace snorky::it
