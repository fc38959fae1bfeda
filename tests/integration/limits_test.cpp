// Abuse limits of the WebSocket listener over real sockets: the inbound rate
// limit (error reply, then 1008), the per-address connection cap (with
// X-Forwarded-For from trusted proxies) and the cap on handshakes in progress.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

std::string upgradeRequest(const std::string& extraHeaders = "") {
    return "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
}

std::uint64_t metric(const ServerProcess& server, const std::string& name) {
    std::string body = httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    std::string key = "\n" + name + " ";
    auto at = body.find(key);
    if (at == std::string::npos) throw std::runtime_error("no metric " + name + " in\n" + body);
    return std::stoull(body.substr(at + key.size()));
}

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// A plain TCP connection for the things a well-behaved client never does:
// half-sent requests, abrupt resets.
class RawSocket {
public:
    explicit RawSocket(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("connect failed");
    }
    ~RawSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    void send(const std::string& bytes) { (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
    // Reads what has arrived; false once the server closed (EOF or reset).
    bool open() {
        char buf[4096];
        for (;;) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                received_.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
    }
    // Waits for the end of an HTTP response head.
    bool waitResponse(std::chrono::milliseconds timeout = 3000ms) {
        return eventually([this] { return !open() || received_.find("\r\n\r\n") != std::string::npos; }, timeout) &&
               received_.find("\r\n\r\n") != std::string::npos;
    }
    const std::string& received() const { return received_; }
    // Closes with an RST instead of a FIN.
    void reset() {
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd_);
        fd_ = -1;
    }
    void close() {
        ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
    std::string received_;
};

std::string subscribe(int i, bool withCallId = true) {
    std::string call = R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":"c)" +
                       std::to_string(i) + R"("})";
    if (withCallId) call += R"(,"callId":)" + std::to_string(i);
    return call + "}}";
}

// The upgrade answer for a raw request with these headers: status line and body.
std::string rawUpgrade(int port, const std::string& headers = "") {
    return rawExchange(port, upgradeRequest(headers), 3000ms);
}

}  // namespace

// ---------------------------------------------------------------- rate limit

TEST(RateLimit, MessagesOverTheLimitAreAnsweredRateLimitedAndNotProcessed) {
    ServerProcess server(basicConfig(true, "rate_limit = 1\nrate_burst = 5\nrate_limit_disconnect = 0\n"));
    WsClient client(server.frontendPort());
    constexpr int kCalls = 20;
    for (int i = 0; i < kCalls; ++i) client.sendText(subscribe(i));
    int responses = 0, refused = 0;
    for (int i = 0; i < kCalls; ++i) {
        json::value reply = client.expectMessage();
        int callId = static_cast<int>(reply.at("callId").as_int64());
        if (reply.at("type") == "response") {
            ++responses;
        } else {
            EXPECT_EQ(reply, json::parse(R"({"type":"error","callId":)" + std::to_string(callId) +
                                         R"(,"message":"Rate limited"})"));
            ++refused;
        }
    }
    // The burst, plus one more for each tick of the server's one-second clock
    // during the volley (none or one unless the machine is very busy).
    EXPECT_GE(responses, 5);
    EXPECT_LE(responses, 7);
    EXPECT_EQ(responses + refused, kCalls);
    EXPECT_EQ(metric(server, "snorky_rate_limited_total"), static_cast<std::uint64_t>(refused));

    // Without a callId: the error carries null; unknown services and bad JSON stay unanswered.
    client.sendText(subscribe(100, false));
    client.sendText(R"({"service":"nope","message":{"command":"x","params":{},"callId":1}})");
    client.sendText("not json");
    json::value reply = client.expectMessage();
    if (reply.at("type") == "error") {
        EXPECT_EQ(reply, json::parse(R"({"type":"error","callId":null,"message":"Rate limited"})"));
    }
    EXPECT_TRUE(client.silentFor());

    // The bucket refills: a later call goes through on the same connection.
    int n = 1000;
    EXPECT_TRUE(eventually([&] { return client.request("pubsub", "subscribe", {{"channel", "later" + std::to_string(++n)}}).at("type") == "response"; }));
    EXPECT_EQ(metric(server, "snorky_rate_limit_disconnects_total"), 0u);
}

TEST(RateLimit, SustainedAbuseIsDisconnectedWith1008AndOthersAreServed) {
    ServerProcess server(basicConfig(true, "rate_limit = 1\nrate_burst = 1\nrate_limit_disconnect = 10\n"));
    WsClient bystander(server.frontendPort());
    WsClient abuser(server.frontendPort());
    for (int i = 0; i < 50; ++i) abuser.sendText(subscribe(i));
    std::optional<int> code;
    std::vector<json::value> replies;
    // Replies arrive first, then the close.
    for (int i = 0; i < 60 && !code; ++i) {
        if (auto message = abuser.receive(3000ms)) replies.push_back(*message);
        else code = abuser.waitClosed(3000ms);
    }
    EXPECT_EQ(code, 1008);
    EXPECT_EQ(metric(server, "snorky_rate_limit_disconnects_total"), 1u);
    // The 10th refusal closes: nothing after it is counted or processed.
    EXPECT_EQ(metric(server, "snorky_rate_limited_total"), 10u);
    EXPECT_GE(replies.size(), 10u);  // 1-2 responses, 9 errors
    EXPECT_EQ(bystander.request("pubsub", "subscribe", {{"channel", "fine"}}).at("type"), "response");
    EXPECT_NE(server.logs().find("refused within 10 s over rate_limit 1/s"), std::string::npos) << server.logs();
}

TEST(RateLimit, TheDefaultLetsAnOrdinaryBurstThroughAndZeroTurnsItOff) {
    {
        ServerProcess server(basicConfig(true));
        WsClient client(server.frontendPort());
        for (int i = 0; i < 150; ++i) client.sendText(subscribe(i));
        for (int i = 0; i < 150; ++i) ASSERT_EQ(client.expectMessage().at("type"), "response") << i;
        EXPECT_EQ(metric(server, "snorky_rate_limited_total"), 0u);
    }
    ServerProcess server(basicConfig(true, "rate_limit = 0\n"));
    WsClient client(server.frontendPort());
    for (int i = 0; i < 2000; ++i)  // publish: 2000 subscriptions would pass max_channels_per_client
        client.sendText(R"({"service":"pubsub","message":{"command":"publish","params":{"channel":"nobody","message":1},"callId":1}})");
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(client.expectMessage().at("type"), "response") << i;
    EXPECT_EQ(metric(server, "snorky_rate_limited_total"), 0u);
}

// ---------------------------------------------------------------- per address

TEST(ConnectionsPerIp, OverTheCapTheUpgradeIsRefusedWith429) {
    ServerProcess server(basicConfig(true, "max_connections_per_ip = 3\n"));
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<WsClient>(server.frontendPort()));
    std::string answer = rawUpgrade(server.frontendPort());
    EXPECT_EQ(answer.rfind("HTTP/1.1 429 ", 0), 0u) << answer;
    EXPECT_NE(answer.find("Content-Type: application/json"), std::string::npos) << answer;
    EXPECT_NE(answer.find(R"({"error":"Too many connections from this address"})"), std::string::npos) << answer;
    EXPECT_EQ(metric(server, "snorky_connections_per_ip_refused_total"), 1u);
    EXPECT_NE(server.logs().find("max_connections_per_ip"), std::string::npos);
    for (auto& c : clients) EXPECT_EQ(c->request("pubsub", "subscribe", {{"channel", "x"}}).at("type"), "response");

    clients.pop_back();  // closed: its place is free again
    EXPECT_TRUE(eventually([&] { return upgradeStatus(server.frontendPort(), "/ws") == 101; }));
}

TEST(ConnectionsPerIp, EveryKindOfDisconnectGivesThePlaceBack) {
    constexpr int kCap = 4;
    ServerProcess server(basicConfig(true, "max_connections_per_ip = " + std::to_string(kCap) +
                                               "\nhandshake_timeout = 1\nping_interval = 1\nidle_timeout = 1\n"));
    const int port = server.frontendPort();
    std::mt19937 random(11);
    std::vector<std::unique_ptr<RawSocket>> lingering;  // half-sent requests left to time out
    std::vector<std::unique_ptr<RawSocket>> silent;     // upgraded, never answer a ping
    int accepted = 0;
    for (int round = 0; round < 300; ++round) {
        switch (random() % 7) {
            case 6:  // upgraded, then silent: the idle timeout ends it (two at most: they hold places)
                if (silent.size() < 2) {
                    silent.push_back(std::make_unique<RawSocket>(port));
                    silent.back()->send(upgradeRequest());
                    ASSERT_TRUE(silent.back()->waitResponse()) << silent.back()->received();
                    ++accepted;
                }
                break;
            // A 429 now and then is fair: the server may not have seen the
            // previous reset yet. Only the end state is checked.
            case 0:  // a normal client, closed properly
                try {
                    WsClient client(port);
                    client.close();
                    ++accepted;
                } catch (const std::exception&) {
                }
                break;
            case 1:  // upgraded, then reset
            case 2: {
                RawSocket s(port);
                s.send(upgradeRequest());
                ASSERT_TRUE(s.waitResponse()) << s.received();
                if (s.received().rfind("HTTP/1.1 101", 0) == 0) ++accepted;
                s.reset();
                break;
            }
            case 3: {  // upgrade request, gone before reading the answer
                RawSocket s(port);
                s.send(upgradeRequest());
                s.reset();
                break;
            }
            case 4: {  // half a request, reset
                RawSocket s(port);
                s.send("GET /ws HTTP/1.1\r\nHost: x\r\n");
                s.reset();
                break;
            }
            case 5:  // half a request, left open: the handshake timeout ends it
                if (lingering.size() < 20) {
                    lingering.push_back(std::make_unique<RawSocket>(port));
                    lingering.back()->send("GET /ws HTTP/1.1\r\nHost: x\r\n");
                }
                break;
        }
    }
    EXPECT_GT(accepted, 50);
    // Every connection has ended (the lingering ones by timeout).
    EXPECT_TRUE(eventually([&] {
        for (auto& s : lingering)
            if (s->open()) return false;
        for (auto& s : silent)
            if (s->open()) return false;
        return true;
    }, 10000ms));
    EXPECT_EQ(silent.size(), 2u);
    EXPECT_TRUE(eventually([&] { return metric(server, "snorky_connections_open") == 0; }))
        << httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    // The full cap is available again, and not one more.
    std::vector<std::unique_ptr<WsClient>> clients;
    EXPECT_TRUE(eventually([&] {
        try {
            while (clients.size() < kCap) clients.push_back(std::make_unique<WsClient>(port));
            return true;
        } catch (const std::exception&) {
            return false;
        }
    })) << clients.size() << " of " << kCap;
    std::uint64_t refused = metric(server, "snorky_connections_per_ip_refused_total");
    EXPECT_EQ(upgradeStatus(port, "/ws"), 429);
    EXPECT_EQ(metric(server, "snorky_connections_per_ip_refused_total"), refused + 1);
}

TEST(ConnectionsPerIp, ForwardedForIsBelievedOnlyFromTrustedProxies) {
    ServerProcess server(basicConfig(true, "max_connections_per_ip = 1\ntrusted_proxies = [\"127.0.0.1\"]\n"));
    const int port = server.frontendPort();
    WsClient a(port, "/ws", {{"X-Forwarded-For", "1.2.3.4"}});
    EXPECT_EQ(upgradeStatus(port, "/ws", {{"X-Forwarded-For", "1.2.3.4"}}), 429);
    // The right-most untrusted entry is the client; what it wrote before is ignored.
    WsClient b(port, "/ws", {{"X-Forwarded-For", "1.2.3.4, 5.6.7.8"}});
    EXPECT_EQ(upgradeStatus(port, "/ws", {{"X-Forwarded-For", "9.9.9.9, 5.6.7.8"}}), 429);
    WsClient proxyItself(port);  // no header: the proxy's own address
    EXPECT_EQ(metric(server, "snorky_connections_per_ip_refused_total"), 2u);
    // The Client reports that address: logs show it.
    EXPECT_NE(server.logs().find("refusing a connection from 1.2.3.4:"), std::string::npos) << server.logs();
    a.sendText("not json");
    EXPECT_TRUE(eventually([&] { return server.logs().find("dropped message from 1.2.3.4:") != std::string::npos; }))
        << server.logs();
}

TEST(ConnectionsPerIp, ForwardedForFromAnUntrustedPeerIsIgnored) {
    ServerProcess server(basicConfig(true, "max_connections_per_ip = 1\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n"));
    const int port = server.frontendPort();
    WsClient a(port, "/ws", {{"X-Forwarded-For", "1.2.3.4"}});
    EXPECT_EQ(upgradeStatus(port, "/ws", {{"X-Forwarded-For", "5.6.7.8"}}), 429);  // both are 127.0.0.1
    a.sendText("not json");
    EXPECT_TRUE(eventually([&] { return server.logs().find("dropped message from 127.0.0.1:") != std::string::npos; }))
        << server.logs();
}

// ---------------------------------------------------------------- handshakes

TEST(Handshakes, PastTheCapNewConnectionsAreClosedUntilTheHalfOpenOnesTimeOut) {
    constexpr int kMax = 8, kExtra = 5;
    ServerProcess server(basicConfig(true, "max_handshakes = " + std::to_string(kMax) + "\nhandshake_timeout = 3\n"));
    const int port = server.frontendPort();
    auto started = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<RawSocket>> sockets;
    for (int i = 0; i < kMax + kExtra; ++i) {
        sockets.push_back(std::make_unique<RawSocket>(port));
        sockets.back()->send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n");  // never finished
    }
    auto closedCount = [&] {
        int closed = 0;
        for (auto& s : sockets)
            if (!s->open()) ++closed;
        return closed;
    };
    EXPECT_TRUE(eventually([&] { return metric(server, "snorky_handshakes_refused_total") == kExtra; }, 2500ms))
        << httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    EXPECT_TRUE(eventually([&] { return closedCount() == kExtra; }, 2500ms)) << closedCount();
    if (std::chrono::steady_clock::now() - started < 2800ms) {
        EXPECT_EQ(closedCount(), kExtra);  // the first kMax are still waiting for their timeout
        EXPECT_THROW(WsClient{port}, std::exception);  // no room for anyone yet
    }
    EXPECT_NE(server.logs().find("max_handshakes"), std::string::npos) << server.logs();
    // The half-open ones time out, and a normal client gets in again.
    EXPECT_TRUE(eventually([&] { return closedCount() == kMax + kExtra; }, 8000ms)) << closedCount();
    WsClient client(port);
    EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", "x"}}).at("type"), "response");
}
