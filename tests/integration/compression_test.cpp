// permessage-deflate against the real binary over raw sockets: what the
// server agrees to, the frames it sends (checked with zlib directly), and
// every way a client can get compression wrong. The `ws` package and
// Chromium are tested in clients/js/test/{server,browser}/compression.test.js.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <zlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "snorky/protocol/ws_codec.hpp"
#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;
namespace asio = boost::asio;
namespace ws = snorky::ws;

namespace {
const std::uint8_t kMask[4] = {9, 8, 7, 6};
const std::string kCompressing = "compression = true\ncompression_threshold = 100\nmax_message_size = 4096\n";

// A WebSocket client made of a blocking socket, so that tests can send any
// bytes and see every frame as it is on the wire.
class RawClient {
public:
    RawClient(int port, const std::string& extensions) : socket_(ioc_) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
        timeval timeout{3, 0};
        setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string request = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        if (!extensions.empty()) request += "Sec-WebSocket-Extensions: " + extensions + "\r\n";
        send(request + "\r\n");
        while (buffer_.find("\r\n\r\n") == std::string::npos)
            if (!fill()) throw std::runtime_error("no handshake answer");
        std::size_t end = buffer_.find("\r\n\r\n") + 4;
        response = buffer_.substr(0, end);
        buffer_.erase(0, end);
    }
    void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
    void sendText(const std::string& text) { send(ws::clientFrame(ws::Text, text, kMask)); }

    struct ServerFrame {
        std::uint8_t first;  // FIN, RSV and opcode
        std::string payload;
    };
    // The next frame from the server; nullopt when the connection ended.
    std::optional<ServerFrame> next() {
        for (;;) {
            if (buffer_.size() >= 2) {
                std::size_t length = std::uint8_t(buffer_[1]) & 0x7f, header = 2;
                if (length == 126 && buffer_.size() >= 4) {
                    length = (std::size_t(std::uint8_t(buffer_[2])) << 8) | std::uint8_t(buffer_[3]);
                    header = 4;
                } else if (length == 127 && buffer_.size() >= 10) {
                    length = 0;
                    for (int i = 2; i < 10; ++i) length = (length << 8) | std::uint8_t(buffer_[i]);
                    header = 10;
                }
                if (length < 126 || header > 2) {
                    if (buffer_.size() >= header + length) {
                        ServerFrame frame{std::uint8_t(buffer_[0]), buffer_.substr(header, length)};
                        buffer_.erase(0, header + length);
                        return frame;
                    }
                }
            }
            if (!fill()) return std::nullopt;
        }
    }
    // The close code the server ends with (skipping other frames).
    int closeCode() {
        while (auto frame = next())
            if ((frame->first & 0x0f) == ws::Close && frame->payload.size() >= 2)
                return (std::uint8_t(frame->payload[0]) << 8) | std::uint8_t(frame->payload[1]);
        return -1;
    }

    std::string response;

private:
    bool fill() {
        char chunk[8192];
        boost::system::error_code ec;
        std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
        if (ec) return false;
        buffer_.append(chunk, n);
        return true;
    }
    asio::io_context ioc_;
    asio::ip::tcp::socket socket_;
    std::string buffer_;
};

// A client's compressed message: raw deflate, sync flush, tail removed.
std::string deflateRaw(const std::string& text) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(text.size() + 128, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out - 4);
    deflateEnd(&z);
    return out;
}

std::string inflateRaw(std::string compressed) {
    compressed.append("\x00\x00\xff\xff", 4);
    z_stream z{};
    inflateInit2(&z, -15);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(compressed.data());
    z.avail_in = static_cast<uInt>(compressed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&z, Z_SYNC_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    inflateEnd(&z);
    return out;
}

// A compressed first frame (RSV1) with FIN as given.
std::string compressedFrame(std::uint8_t opcode, const std::string& payload, bool fin = true) {
    std::string frame = ws::clientFrame(opcode, payload, kMask, fin);
    frame[0] = static_cast<char>(frame[0] | 0x40);
    return frame;
}

std::string subscribe(const std::string& channel, int callId) {
    return R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":")" + channel +
           R"("},"callId":)" + std::to_string(callId) + "}}";
}

std::string bigMessage() {
    json::array rows;
    for (int i = 0; i < 60; ++i) rows.push_back(json::object{{"id", i}, {"symbol", "ABC"}, {"price", 100 + i % 7}});
    return json::serialize(rows);
}
}  // namespace

TEST(Compression, AgreedOnlyWhenOfferedAndEnabled) {
    ServerProcess compressing(basicConfig(true, kCompressing)), plain(basicConfig());
    RawClient offered(compressing.frontendPort(), "permessage-deflate; client_max_window_bits");
    EXPECT_NE(offered.response.find("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                                    "client_no_context_takeover\r\n"),
              std::string::npos)
        << offered.response;
    RawClient notOffered(compressing.frontendPort(), "");
    EXPECT_EQ(notOffered.response.find("Sec-WebSocket-Extensions"), std::string::npos);
    RawClient declined(compressing.frontendPort(), "permessage-deflate; server_max_window_bits=3");
    EXPECT_NE(declined.response.find("101 Switching"), std::string::npos);
    EXPECT_EQ(declined.response.find("Sec-WebSocket-Extensions"), std::string::npos);
    RawClient off(plain.frontendPort(), "permessage-deflate");
    EXPECT_EQ(off.response.find("Sec-WebSocket-Extensions"), std::string::npos);
}

TEST(Compression, PublicationsAreCompressedAboveTheThresholdAndOnlyForAgreeingClients) {
    ServerProcess server(basicConfig(true, kCompressing));
    RawClient compressed(server.frontendPort(), "permessage-deflate"), plain(server.frontendPort(), "");
    for (RawClient* client : {&compressed, &plain}) {
        client->sendText(subscribe("p", 1));
        auto reply = client->next();
        ASSERT_TRUE(reply);
        EXPECT_EQ(reply->first, 0x81);  // a short reply stays uncompressed (threshold 100)
    }
    std::string rows = bigMessage();
    backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", "p"}, {"message", json::parse(rows)}});
    auto small = compressed.next();
    auto full = plain.next();
    ASSERT_TRUE(small && full);
    EXPECT_EQ(small->first, 0xC1);  // FIN, RSV1, text
    EXPECT_EQ(full->first, 0x81);
    EXPECT_LT(small->payload.size() * 3, full->payload.size());
    EXPECT_EQ(inflateRaw(small->payload), full->payload);
    EXPECT_EQ(json::parse(full->payload).at("message").at("message"), json::parse(rows));
}

TEST(Compression, ServerMaxWindowBitsSendsLargerMessagesUncompressed) {
    ServerProcess server(basicConfig(true, kCompressing));
    RawClient client(server.frontendPort(), "permessage-deflate; server_max_window_bits=9");
    EXPECT_NE(client.response.find("server_max_window_bits=9\r\n"), std::string::npos) << client.response;
    client.sendText(subscribe("w", 1));
    ASSERT_TRUE(client.next());
    backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", "w"}, {"message", std::string(300, 'a')}});
    backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", "w"}, {"message", std::string(600, 'a')}});
    auto fits = client.next();
    auto over = client.next();
    ASSERT_TRUE(fits && over);
    EXPECT_EQ(fits->first, 0xC1);  // <= 512 bytes: compressed, inflatable with a 512-byte window
    EXPECT_NE(inflateRaw(fits->payload).find(std::string(300, 'a')), std::string::npos);
    EXPECT_EQ(over->first, 0x81);
}

TEST(Compression, CompressedAndFragmentedCompressedMessagesAreInflated) {
    ServerProcess server(basicConfig(true, kCompressing));
    RawClient client(server.frontendPort(), "permessage-deflate");
    client.send(compressedFrame(ws::Text, deflateRaw(subscribe("a", 1))));
    auto reply = client.next();
    ASSERT_TRUE(reply);
    EXPECT_EQ(json::parse(reply->payload).at("message").at("callId"), 1);
    // One deflate stream over three frames: RSV1 on the first only, a ping between.
    std::string compressed = deflateRaw(subscribe("b", 2));
    client.send(compressedFrame(ws::Text, compressed.substr(0, 5), false) +
                ws::clientFrame(ws::Continuation, compressed.substr(5, 7), kMask, false) +
                ws::clientFrame(ws::Ping, "p", kMask) +
                ws::clientFrame(ws::Continuation, compressed.substr(12), kMask, true));
    auto pong = client.next();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->first, 0x8A);
    reply = client.next();
    ASSERT_TRUE(reply);
    EXPECT_EQ(json::parse(reply->payload).at("message").at("callId"), 2);
}

TEST(Compression, Rsv1WhereItDoesNotBelongIsAProtocolError) {
    ServerProcess server(basicConfig(true, kCompressing));
    struct Case {
        const char* what;
        std::string extensions;
        std::string bytes;
    };
    std::string text = subscribe("x", 1);
    std::vector<Case> cases = {
        {"RSV1 without the extension agreed", "", compressedFrame(ws::Text, deflateRaw(text))},
        {"RSV1 on a ping", "permessage-deflate", compressedFrame(ws::Ping, "")},
        {"RSV1 on a close", "permessage-deflate", compressedFrame(ws::Close, "")},
        {"RSV1 on a continuation", "permessage-deflate",
         ws::clientFrame(ws::Text, text.substr(0, 4), kMask, false) + compressedFrame(ws::Continuation, text.substr(4))},
    };
    for (const Case& c : cases) {
        RawClient client(server.frontendPort(), c.extensions);
        client.send(c.bytes);
        EXPECT_EQ(client.closeCode(), 1002) << c.what;
    }
    RawClient bystander(server.frontendPort(), "permessage-deflate");
    bystander.sendText(subscribe("still", 1));
    EXPECT_TRUE(bystander.next());
}

TEST(Compression, ABombIsClosedWith1009AndGarbageWith1007) {
    ServerProcess server(basicConfig(true, kCompressing));
    // 1 MB of spaces in about 1 KB, inflating 250 times past max_message_size (4096).
    RawClient bomber(server.frontendPort(), "permessage-deflate");
    std::string bomb = deflateRaw(std::string(1024 * 1024, ' '));
    ASSERT_LT(bomb.size(), 4096u);
    bomber.send(compressedFrame(ws::Text, bomb));
    EXPECT_EQ(bomber.closeCode(), 1009);
    // The same bomb in fragments.
    RawClient fragments(server.frontendPort(), "permessage-deflate");
    fragments.send(compressedFrame(ws::Text, bomb.substr(0, 100), false) +
                   ws::clientFrame(ws::Continuation, bomb.substr(100), kMask, true));
    EXPECT_EQ(fragments.closeCode(), 1009);
    RawClient garbage(server.frontendPort(), "permessage-deflate");
    garbage.send(compressedFrame(ws::Text, "\xff\xfe\xfd not deflate"));
    EXPECT_EQ(garbage.closeCode(), 1007);
    // Inflated bytes are checked as text like any other message.
    RawClient notUtf8(server.frontendPort(), "permessage-deflate");
    notUtf8.send(compressedFrame(ws::Text, deflateRaw("\xc3\x28")));
    EXPECT_EQ(notUtf8.closeCode(), 1007);
    RawClient bystander(server.frontendPort(), "permessage-deflate");
    bystander.sendText(subscribe("still", 1));
    EXPECT_TRUE(bystander.next());
}
