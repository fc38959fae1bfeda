// The wss:// connection's own TLS driver (src/transport/tls_socket.cpp)
// against the real binary: a client made of OpenSSL over memory BIOs, so the
// test decides exactly which bytes reach the server and when: stalls and
// abrupt ends at every step of the handshake and of records, garbage instead
// of a ClientHello, big fan-out bursts to a slow reader, messages spanning
// many records both ways, a key update, close_notify on close, many clients.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "support/clients.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

struct SelfSigned {
    std::string dir;
    SelfSigned() {
        dir = (std::filesystem::temp_directory_path() / "snorky-tls-socket-XXXXXX").string();
        if (!mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
        std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                              " -subj /CN=localhost -days 2 -keyout " + dir + "/key.pem -out " + dir +
                              "/cert.pem >/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
    }
    ~SelfSigned() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    std::string listenerOptions() const {
        return "handshake_timeout = 1\nmax_queue_bytes = 32000000\nmax_message_size = 400000\ntls_cert = \"" + dir +
               "/cert.pem\"\ntls_key = \"" + dir + "/key.pem\"\n";
    }
};

std::string envelope(const std::string& command, const json::object& params) {
    return json::serialize(json::object{{"service", "pubsub"},
                                        {"message", json::object{{"command", command}, {"params", params}, {"callId", 1}}}});
}

// A masked client text frame.
std::string clientFrame(const std::string& text) {
    std::string frame(1, '\x81');
    if (text.size() < 126) {
        frame += static_cast<char>(0x80 | text.size());
    } else if (text.size() < 65536) {
        frame += '\xfe';
        frame += static_cast<char>(text.size() >> 8);
        frame += static_cast<char>(text.size() & 0xff);
    } else {
        frame += '\xff';
        for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((text.size() >> shift) & 0xff);
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(mask, 4);
    for (std::size_t i = 0; i < text.size(); ++i) frame += static_cast<char>(text[i] ^ mask[i % 4]);
    return frame;
}

// A TLS client whose ciphertext passes through the test's hands.
class RawTlsClient {
public:
    explicit RawTlsClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("connect failed");
        context_ = SSL_CTX_new(TLS_client_method());
        ssl_ = SSL_new(context_);
        SSL_set_bio(ssl_, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
        SSL_set_connect_state(ssl_);
    }
    ~RawTlsClient() {
        SSL_free(ssl_);
        SSL_CTX_free(context_);
        if (fd_ >= 0) ::close(fd_);
    }
    SSL* ssl() { return ssl_; }
    int fd() const { return fd_; }

    // Ciphertext OpenSSL produced and the test has not sent yet.
    std::string output() {
        std::string bytes;
        char buffer[16384];
        int n;
        while ((n = BIO_read(SSL_get_wbio(ssl_), buffer, sizeof buffer)) > 0) bytes.append(buffer, static_cast<std::size_t>(n));
        return bytes;
    }
    void send(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            done += static_cast<std::size_t>(n);
        }
    }
    // Moves what the server sent into OpenSSL; false on end of stream or timeout.
    bool receive(int timeoutMs = 3000) {
        pollfd poller{fd_, POLLIN, 0};
        if (::poll(&poller, 1, timeoutMs) != 1) return false;
        char buffer[65536];
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return false;
        BIO_write(SSL_get_rbio(ssl_), buffer, static_cast<int>(n));
        return true;
    }
    // The ClientHello, not sent.
    std::string hello() {
        SSL_do_handshake(ssl_);
        return output();
    }
    void handshake() {
        for (;;) {
            int ret = SSL_do_handshake(ssl_);
            send(output());
            if (ret == 1) return;
            if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ || !receive()) throw std::runtime_error("TLS handshake failed");
        }
    }
    // Plaintext sealed into records, not sent.
    std::string seal(const std::string& plain) {
        std::size_t written = 0;
        if (!plain.empty() && SSL_write_ex(ssl_, plain.data(), plain.size(), &written) != 1) throw std::runtime_error("SSL_write failed");
        return output();
    }
    static std::string upgradeRequest() {
        return "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }
    void upgrade() {
        handshake();
        send(seal(upgradeRequest()));
        while (plain_.find("\r\n\r\n") == std::string::npos)
            if (!readMore()) throw std::runtime_error("no upgrade response");
        if (plain_.rfind("HTTP/1.1 101", 0) != 0) throw std::runtime_error("upgrade refused: " + plain_);
        plain_.erase(0, plain_.find("\r\n\r\n") + 4);
    }
    void sendText(const std::string& text) { send(seal(clientFrame(text))); }
    // The next text message as JSON; nullopt on timeout or end.
    std::optional<json::value> next(int timeoutMs = 3000) {
        for (;;) {
            if (auto message = takeFrame()) {
                if (message->first == 1) return json::parse(message->second);
                if (message->first == 8) return std::nullopt;
                continue;  // pings and pongs
            }
            if (!readMore(timeoutMs)) return std::nullopt;
        }
    }
    // The close code of the server's close frame, then whether close_notify followed.
    std::pair<int, bool> awaitClose(int timeoutMs = 3000) {
        int code = -1;
        for (;;) {
            if (auto frame = takeFrame()) {
                if (frame->first == 8 && frame->second.size() >= 2)
                    code = (static_cast<unsigned char>(frame->second[0]) << 8) | static_cast<unsigned char>(frame->second[1]);
                continue;
            }
            if (!readMore(timeoutMs)) return {code, SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN};
        }
    }
    // RST instead of FIN: the server sees the connection fail at once.
    void abort() {
        linger hard{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd_);
        fd_ = -1;
    }
    // Whether the server ends the connection within the time.
    bool closedByServer(int timeoutMs) {
        char buffer[4096];
        for (;;) {
            pollfd poller{fd_, POLLIN, 0};
            if (::poll(&poller, 1, timeoutMs) != 1) return false;
            if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return true;
        }
    }

private:
    bool readMore(int timeoutMs = 3000) {
        char buffer[16384];
        for (;;) {
            std::size_t n = 0;
            if (SSL_read_ex(ssl_, buffer, sizeof buffer, &n) == 1) {
                plain_.append(buffer, n);
                return true;
            }
            if (SSL_get_error(ssl_, 0) != SSL_ERROR_WANT_READ) {
                ERR_clear_error();
                return false;
            }
            send(output());  // a key update answered
            if (!receive(timeoutMs)) return false;
        }
    }
    // The next complete server frame: opcode and payload.
    std::optional<std::pair<int, std::string>> takeFrame() {
        if (plain_.size() < 2) return std::nullopt;
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(plain_[i]); };
        std::size_t length = byte(1) & 0x7f, header = 2;
        if (length == 126) {
            if (plain_.size() < 4) return std::nullopt;
            length = (byte(2) << 8) | byte(3);
            header = 4;
        } else if (length == 127) {
            if (plain_.size() < 10) return std::nullopt;
            length = 0;
            for (int i = 2; i < 10; ++i) length = (length << 8) | byte(static_cast<std::size_t>(i));
            header = 10;
        }
        if (plain_.size() < header + length) return std::nullopt;
        std::pair<int, std::string> frame{byte(0) & 0x0f, plain_.substr(header, length)};
        plain_.erase(0, header + length);
        return frame;
    }

    int fd_ = -1;
    SSL_CTX* context_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string plain_;  // decrypted, not yet taken
};

struct TlsSocketTest : ::testing::Test {
    SelfSigned certificate;
    ServerProcess server{basicConfig(true, certificate.listenerOptions())};
    int wss() const { return server.frontendPort(); }
    long long open() { return metric(server.backendPort(), "connections_open").value_or(-1); }
    void publish(const std::string& channel, const std::string& message) {
        backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", channel}, {"message", message}});
    }
    std::unique_ptr<RawTlsClient> subscriber(const std::string& channel) {
        auto client = std::make_unique<RawTlsClient>(wss());
        client->upgrade();
        client->sendText(envelope("subscribe", {{"channel", channel}}));
        auto reply = client->next();
        if (!reply || reply->at("message").at("type") != "response") throw std::runtime_error("subscribe failed");
        return client;
    }
    // The server still serves: a fresh client subscribes and gets a message.
    void expectServing() {
        auto client = subscriber("alive");
        publish("alive", "yes");
        auto message = client->next();
        ASSERT_TRUE(message);
        EXPECT_EQ(message->at("message").at("message"), "yes");
        EXPECT_TRUE(server.running());
    }
};

}  // namespace

TEST_F(TlsSocketTest, StallsAtEveryHandshakeStepAreCutOffByTheTimeout) {
    // A whole ClientHello, then nothing: the server answered and waits for our Finished.
    RawTlsClient afterHello(wss());
    afterHello.send(afterHello.hello());
    ASSERT_TRUE(afterHello.receive());  // the server's flight arrived
    // Half a ClientHello.
    RawTlsClient halfHello(wss());
    std::string hello = halfHello.hello();
    halfHello.send(hello.substr(0, hello.size() / 2));
    // TLS done, no HTTP request.
    RawTlsClient noRequest(wss());
    noRequest.handshake();
    // Half a record of the HTTP request.
    RawTlsClient halfRequest(wss());
    halfRequest.handshake();
    std::string record = halfRequest.seal(RawTlsClient::upgradeRequest());
    halfRequest.send(record.substr(0, record.size() / 2));
    // All cut off by the handshake timeout (1 s here).
    EXPECT_TRUE(afterHello.closedByServer(4000));
    EXPECT_TRUE(halfHello.closedByServer(4000));
    EXPECT_TRUE(noRequest.closedByServer(4000));
    EXPECT_TRUE(halfRequest.closedByServer(4000));
    expectServing();
}

TEST_F(TlsSocketTest, GarbageInsteadOfAClientHelloIsClosedAtOnce) {
    const std::string garbage[] = {
        std::string("\x16\x03\x01\x00\x05hello", 10),                  // a handshake record that is no ClientHello
        std::string("\x17\x03\x03\x00\x10") + std::string(16, 'x'),  // application data before any handshake
        std::string(512, '\0'),
        "SSH-2.0-OpenSSH_9.2\r\n",
    };
    for (const std::string& bytes : garbage) {
        RawTlsClient client(wss());
        client.send(bytes);
        EXPECT_TRUE(client.closedByServer(900)) << "not closed before the handshake timeout";  // refused, not timed out
    }
    expectServing();
}

TEST_F(TlsSocketTest, AbruptDisconnectsAtEveryStepLoseNothing) {
    auto calm = subscriber("calm");
    {  // RST right after the ClientHello.
        RawTlsClient client(wss());
        client.send(client.hello());
        client.abort();
    }
    {  // RST mid-handshake, after the server's flight arrived.
        RawTlsClient client(wss());
        client.send(client.hello());
        ASSERT_TRUE(client.receive());
        client.abort();
    }
    {  // RST mid-record of the upgrade request.
        RawTlsClient client(wss());
        client.handshake();
        std::string record = client.seal(RawTlsClient::upgradeRequest());
        client.send(record.substr(0, 10));
        client.abort();
    }
    {  // Open, then RST mid-record of a frame.
        auto client = subscriber("calm");
        std::string record = client->seal(clientFrame(envelope("subscribe", {{"channel", "other"}})));
        client->send(record.substr(0, record.size() - 3));
        client->abort();
    }
    {  // Open, then a plain FIN without close_notify.
        auto client = subscriber("calm");
        ::shutdown(client->fd(), SHUT_WR);
        EXPECT_TRUE(client->closedByServer(3000));
    }
    EXPECT_TRUE(waitUntil([&] { return open() == 1; })) << open();
    publish("calm", "still here");
    auto message = calm->next();
    ASSERT_TRUE(message);
    EXPECT_EQ(message->at("message").at("message"), "still here");
    expectServing();
}

// A burst far larger than the socket buffers: the server's writes stop
// mid-record (WantWrite) and resume from a rebuilt buffer; the reader then
// gets every message, whole and in order. A second slow reader goes away
// with an RST in the middle of the same burst.
TEST_F(TlsSocketTest, BigFanOutBurstToASlowReader) {
    auto slow = subscriber("burst");
    auto leaver = subscriber("burst");
    // Neither reads until the burst is over (a tiny receive buffer is not
    // used: on loopback it makes TCP crawl on delayed ACKs).
    constexpr int kMessages = 200;  // about 12 MB: more than the socket buffers take (about 4 MB)
    for (int i = 0; i < kMessages; ++i) {
        // Sizes that do not line up with records: several frames per record and frames across records.
        publish("burst", std::to_string(i) + ":" + std::string(static_cast<std::size_t>(20000 + i * 401), 'a' + i % 26));
        if (i == kMessages / 2) leaver->abort();
    }
    for (int i = 0; i < kMessages; ++i) {
        auto message = slow->next(5000);
        ASSERT_TRUE(message) << "message " << i;
        std::string text(message->at("message").at("message").as_string());
        ASSERT_EQ(text, std::to_string(i) + ":" + std::string(static_cast<std::size_t>(20000 + i * 401), 'a' + i % 26));
    }
    EXPECT_TRUE(waitUntil([&] { return open() == 1; })) << open();
}

TEST_F(TlsSocketTest, MessagesSpanningManyRecordsBothWays) {
    auto receiver = subscriber("big");
    auto sender = subscriber("unused");
    // In: one 300 KB frame cut into many records, sent a few bytes at a time at first.
    std::string big(300 * 1024, 'z');
    std::string records = sender->seal(clientFrame(envelope("publish", {{"channel", "big"}, {"message", big}})));
    for (std::size_t i = 0; i < 64; ++i) sender->send(records.substr(i, 1));
    sender->send(records.substr(64));
    auto reply = sender->next();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->at("message").at("type"), "response") << json::serialize(*reply);
    // Out: the same message to the subscriber, across about 19 records.
    auto message = receiver->next(5000);
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->at("message").at("message").as_string() == big);
}

TEST_F(TlsSocketTest, KeyUpdateFromTheClientIsAnswered) {
    auto client = subscriber("keys");
    ASSERT_EQ(SSL_version(client->ssl()), TLS1_3_VERSION);
    for (int round = 0; round < 3; ++round) {
        ASSERT_EQ(SSL_key_update(client->ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
        client->sendText(envelope("subscribe", {{"channel", "keys-" + std::to_string(round)}}));  // carries the update
        auto reply = client->next();
        ASSERT_TRUE(reply) << "round " << round;
        EXPECT_EQ(reply->at("message").at("type"), "response");
        publish("keys", "round " + std::to_string(round));
        auto message = client->next();
        ASSERT_TRUE(message);
        EXPECT_EQ(message->at("message").at("message"), json::value("round " + std::to_string(round)));
    }
}

TEST_F(TlsSocketTest, CloseEndsWithCloseNotify) {
    auto client = subscriber("bye");
    client->send(client->seal(std::string("\x88\x82\x00\x00\x00\x00\x03\xe8", 8)));  // close 1000, zero mask
    auto [code, closeNotify] = client->awaitClose();
    EXPECT_EQ(code, 1000);
    EXPECT_TRUE(closeNotify) << "the server's close frame was not followed by close_notify";
}

TEST_F(TlsSocketTest, ManyConcurrentClientsWithFanOut) {
    constexpr int kClients = 60;
    constexpr int kMessages = 20;
    std::vector<std::unique_ptr<RawTlsClient>> clients;
    for (int i = 0; i < kClients; ++i) clients.push_back(subscriber("many"));
    for (int i = 0; i < kMessages; ++i) publish("many", "m" + std::to_string(i));
    for (auto& client : clients)
        for (int i = 0; i < kMessages; ++i) {
            auto message = client->next();
            ASSERT_TRUE(message);
            ASSERT_EQ(message->at("message").at("message"), json::value("m" + std::to_string(i)));
        }
    EXPECT_EQ(open(), kClients);
}
