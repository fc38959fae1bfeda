#include "snorky/connector/http_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "snorky/connector/backend.hpp"
#include "support/fake_http_server.hpp"
#include "support/wait_until.hpp"

namespace json = boost::json;
using namespace snorky::connector;
using snorky::testing::FakeHttpServer;
using snorky::testing::FakeReply;
using namespace std::chrono_literals;

namespace {

const json::value kEnvelope = json::parse(R"({"service":"s","message":{"command":"c","params":{}}})");

// A port nobody listens on: bound once by us, then released.
std::uint16_t closedPort() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

TransportError sendExpectingError(HttpTransport& transport) {
    try {
        transport.send(kEnvelope);
    } catch (const TransportError& e) {
        return e;
    }
    ADD_FAILURE() << "no TransportError";
    return TransportError(TransportError::Kind::Io, "none");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(HttpTransportTest, SendsEnvelopeWithKeyAndHeaders) {
    FakeHttpServer server;
    HttpTransport transport(server.url("/backend?v=1"), "swordfish");
    EXPECT_EQ(transport.send(kEnvelope), json::parse(FakeReply{}.body));
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].target, "/backend?v=1");
    EXPECT_EQ(requests[0].backendKey, "swordfish");
    EXPECT_EQ(requests[0].contentType, "application/json");
    EXPECT_EQ(requests[0].accept, "application/json");
    EXPECT_EQ(json::parse(requests[0].body), kEnvelope);
}

TEST(HttpTransportTest, ManyCallsShareOneKeptAliveConnection) {
    FakeHttpServer server;
    HttpTransport transport(server.url(), "k");
    for (int i = 0; i < 20; ++i) transport.send(kEnvelope);
    EXPECT_EQ(server.requests().size(), 20u);
    EXPECT_EQ(server.accepts(), 1);
    EXPECT_EQ(transport.connectionsOpened(), 1u);
}

TEST(HttpTransportTest, ReconnectsWhenTheServerClosedTheIdleConnection) {
    // The server closes after every reply without announcing it, as an idle
    // timeout or a restart does.
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.closeAfter = true;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    for (int i = 0; i < 3; ++i) {
        transport.send(kEnvelope);
        // The close has arrived (the point: detected before the next send).
        ASSERT_TRUE(snorky::testing::waitUntil([&] { return snorky::testing::tcpPeerClosed(transport.localPort()); }));
    }
    EXPECT_EQ(server.accepts(), 3);
    EXPECT_EQ(server.requests().size(), 3u);  // detected before sending: nothing sent twice
}

TEST(HttpTransportTest, RetriesOnceWhenAReusedConnectionDiesBeforeAnyReply) {
    // Second request: the server drops the connection without a byte of reply
    // (the race of an idle close against our send). The request is sent again
    // on a fresh connection.
    int calls = 0;
    FakeHttpServer server([&calls](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        if (++calls == 2) reply.mode = FakeReply::Mode::CloseWithoutReply;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    transport.send(kEnvelope);
    EXPECT_NO_THROW(transport.send(kEnvelope));
    EXPECT_EQ(server.accepts(), 2);
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[1].connection, 1);
    EXPECT_EQ(requests[2].connection, 2);
}

TEST(HttpTransportTest, NoRetryOnAFreshConnection) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.mode = FakeReply::Mode::CloseWithoutReply;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Io);
    EXPECT_TRUE(contains(error.what(), "before any reply")) << error.what();
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpTransportTest, NeverResendsOnceAReplyStarted) {
    int calls = 0;
    FakeHttpServer server([&calls](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        if (++calls == 2) reply.mode = FakeReply::Mode::PartialThenClose;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    transport.send(kEnvelope);
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Io);
    EXPECT_TRUE(contains(error.what(), "while reading the reply")) << error.what();
    EXPECT_EQ(server.requests().size(), 2u);
    // The transport is usable again afterwards.
    EXPECT_NO_THROW(transport.send(kEnvelope));
    EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpTransportTest, ConnectionCloseHeaderIsHonoured) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.announceClose = true;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    transport.send(kEnvelope);
    EXPECT_EQ(transport.localPort(), 0);  // closed right after the reply
    transport.send(kEnvelope);
    EXPECT_EQ(server.accepts(), 2);
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(HttpTransportTest, Non200StatusCarriesCodeAndBody) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.status = 401;
        reply.body = R"({"error":"Invalid API key"})";
        return reply;
    });
    HttpTransport transport(server.url(), "wrong");
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::HttpStatus);
    EXPECT_EQ(error.status(), 401);
    EXPECT_EQ(error.body(), R"({"error":"Invalid API key"})");
    EXPECT_TRUE(contains(error.what(), "401")) << error.what();
    EXPECT_TRUE(contains(error.what(), "Invalid API key")) << error.what();
    EXPECT_FALSE(contains(error.what(), "wrong")) << "the key leaked: " << error.what();
}

TEST(HttpTransportTest, NonJsonBodyIsABadReply) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.body = "<html>proxy error</html>";
        reply.contentType = "text/html";
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::BadReply);
    EXPECT_EQ(error.body(), "<html>proxy error</html>");
    EXPECT_TRUE(contains(error.what(), "non-JSON")) << error.what();
    EXPECT_TRUE(contains(error.what(), "proxy error")) << error.what();
}

TEST(HttpTransportTest, OversizedReplyIsRefused) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.body = "\"" + std::string(5000, 'x') + "\"";
        return reply;
    });
    HttpTransportOptions options;
    options.maxReplyBytes = 1000;
    HttpTransport transport(server.url(), "k", options);
    EXPECT_EQ(sendExpectingError(transport).kind(), TransportError::Kind::BadReply);
}

TEST(HttpTransportTest, RequestTimeout) {
    FakeHttpServer server([](const snorky::testing::FakeRequest&) {
        FakeReply reply;
        reply.mode = FakeReply::Mode::Silent;
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    transport.setRequestTimeout(200ms);
    auto start = std::chrono::steady_clock::now();
    TransportError error = sendExpectingError(transport);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(error.kind(), TransportError::Kind::Timeout);
    EXPECT_TRUE(contains(error.what(), "200 ms")) << error.what();
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 2s);
    EXPECT_EQ(server.requests().size(), 1u);  // a timeout is never retried
}

TEST(HttpTransportTest, ConnectionRefused) {
    HttpTransport transport("http://127.0.0.1:" + std::to_string(closedPort()) + "/backend", "k");
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect);
    EXPECT_EQ(error.status(), 0);
    EXPECT_TRUE(contains(error.what(), "cannot connect to http://127.0.0.1:")) << error.what();
    EXPECT_TRUE(contains(error.what(), "refused")) << error.what();
}

TEST(HttpTransportTest, ConnectTimeout) {
    // A listener that never accepts, its backlog filled: Linux drops further
    // SYNs, so connecting hangs until our timeout.
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen(0);
    // Plain non-blocking sockets: Asio's connect() would wait for these.
    std::vector<int> fillers;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(acceptor.local_endpoint().port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 4; ++i) {
        fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        ::connect(fillers.back(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
    // The first filler is established, so the accept queue (backlog 0) is full.
    pollfd established{fillers[0], POLLOUT, 0};
    ASSERT_EQ(::poll(&established, 1, 5000), 1);
    HttpTransportOptions options;
    options.connectTimeout = 300ms;
    HttpTransport transport("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/b", "k", options);
    auto start = std::chrono::steady_clock::now();
    TransportError error = sendExpectingError(transport);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(error.kind(), TransportError::Kind::Timeout) << error.what();
    EXPECT_TRUE(contains(error.what(), "timed out after 300 ms")) << error.what();
    EXPECT_GE(elapsed, 290ms);
    EXPECT_LT(elapsed, 2s);
    for (int fd : fillers) ::close(fd);
}

TEST(HttpTransportTest, UnresolvableHost) {
    HttpTransport transport("http://no-such-host.invalid/backend", "k");
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect);
    EXPECT_TRUE(contains(error.what(), "no-such-host.invalid")) << error.what();
}

TEST(HttpTransportTest, HttpsToAPlainServerFailsTheHandshake) {
    FakeHttpServer server;
    HttpTransportOptions options;
    options.connectTimeout = 2s;
    HttpTransport transport("https://127.0.0.1:" + std::to_string(server.port()) + "/backend", "k", options);
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect);
    EXPECT_TRUE(contains(error.what(), "TLS handshake")) << error.what();
}

TEST(HttpTransportTest, BadUrlOrKeyIsRejectedUpFront) {
    EXPECT_THROW(HttpTransport("ws://h/ws", "k"), std::invalid_argument);
    EXPECT_THROW(HttpTransport("http://h/b", "k\r\nX-Evil: 1"), std::invalid_argument);
}

TEST(HttpTransportTest, BackendOverHttpReturnsDataAndServiceErrors) {
    FakeHttpServer server([](const snorky::testing::FakeRequest& request) {
        FakeReply reply;
        auto command = json::parse(request.body).at("message").at("command");
        reply.body = command == "ok" ? R"({"service":"s","message":{"type":"response","data":[1]}})"
                                     : R"({"service":"s","message":{"type":"error","callId":null,"message":"Unknown command"}})";
        return reply;
    });
    HttpTransport transport(server.url(), "k");
    Backend backend(transport);
    EXPECT_EQ(backend.call("s", "ok"), json::parse("[1]"));
    EXPECT_THROW(backend.call("s", "nope"), SnorkyError);
    EXPECT_EQ(backend.call("s", "ok"), json::parse("[1]"));
    EXPECT_EQ(server.accepts(), 1);  // a service error keeps the connection
}

namespace {
struct HttpsTransportTest : ::testing::Test {
    static snorky::testing::TestCertificate& certificate() {
        static snorky::testing::TestCertificate cert = snorky::testing::TestCertificate::make();
        return cert;
    }
    HttpTransportOptions trusting() {
        HttpTransportOptions options;
        options.caFile = certificate().certFile;
        options.connectTimeout = 3s;
        return options;
    }
};
}  // namespace

TEST_F(HttpsTransportTest, VerifiedCertificateKeepAliveAndReconnect) {
    int calls = 0;
    FakeHttpServer server(
        [&calls](const snorky::testing::FakeRequest&) {
            FakeReply reply;
            reply.closeAfter = ++calls == 5;  // the server drops the connection once
            return reply;
        },
        &certificate());
    HttpTransport transport(server.httpsUrl(), "swordfish", trusting());
    for (int i = 0; i < 8; ++i) EXPECT_EQ(transport.send(kEnvelope), json::parse(FakeReply{}.body)) << i;
    EXPECT_EQ(server.accepts(), 2);
    EXPECT_EQ(transport.connectionsOpened(), 2u);
    auto requests = server.requests();
    ASSERT_GE(requests.size(), 8u);
    EXPECT_EQ(requests[0].backendKey, "swordfish");
    EXPECT_EQ(server.failedHandshakes(), 0);
}

TEST_F(HttpsTransportTest, UntrustedCertificateIsRefused) {
    FakeHttpServer server(nullptr, &certificate());
    HttpTransportOptions options;
    options.connectTimeout = 3s;
    HttpTransport transport(server.httpsUrl(), "k", options);  // system trust store only
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect);
    EXPECT_TRUE(contains(error.what(), "TLS handshake")) << error.what();
    EXPECT_TRUE(contains(error.what(), "certificate verify failed")) << error.what();
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpsTransportTest, HostNameMustMatchTheCertificate) {
    FakeHttpServer server(nullptr, &certificate());
    HttpTransport transport(server.httpsUrl("127.0.0.1"), "k", trusting());  // cert names only "localhost"
    TransportError error = sendExpectingError(transport);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect);
    EXPECT_TRUE(contains(error.what(), "TLS handshake")) << error.what();
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpsTransportTest, VerificationCanBeTurnedOff) {
    FakeHttpServer server(nullptr, &certificate());
    HttpTransportOptions options;
    options.verifyPeer = false;
    HttpTransport transport(server.httpsUrl("127.0.0.1"), "k", options);
    EXPECT_NO_THROW(transport.send(kEnvelope));
}
