// TLS on the listeners (wss:// and https://) against the real binary: a test
// CA (root, intermediate, leaf chain) made with the openssl tool, clients
// that trust only the root, plain and TLS listeners side by side, refused
// handshakes, and certificate reload on SIGHUP.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "snorky/connector/backend.hpp"
#include "snorky/connector/http_transport.hpp"
#include "support/clients.hpp"
#include "support/run_program.hpp"
#include "support/server_process.hpp"
#include "support/wait_until.hpp"

using namespace snorky::it;
using snorky::testing::waitUntil;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

void sh(const std::string& script) {
    std::string command = "bash -c '" + script + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << script;
}

// A root CA, an intermediate, and leaves signed by the intermediate; the
// server's certificate file is the leaf followed by the intermediate.
struct TestPki {
    std::string dir;
    std::string ca() const { return dir + "/root.pem"; }
    std::string cert() const { return dir + "/server.pem"; }
    std::string key() const { return dir + "/server.key"; }

    TestPki() {
        dir = (std::filesystem::temp_directory_path() / "snorky-pki-XXXXXX").string();
        if (!mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
        const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        sh("cd " + dir + " && printf \"basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n\" > ca.ext"
           " && printf \"subjectAltName=DNS:localhost,IP:127.0.0.1\\n\" > leaf.ext"
           " && openssl req -x509 " + ec + " -subj /CN=snorky-test-root -days 2 -keyout root.key -out root.pem"
           " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
           " && openssl req " + ec + " -subj /CN=snorky-test-intermediate -keyout inter.key -out inter.csr"
           " && openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -set_serial 2 -days 2"
           " -extfile ca.ext -out inter.pem");
        makeLeaf("leaf-1");
        install("leaf-1");
    }
    ~TestPki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    void makeLeaf(const std::string& name) {
        sh("cd " + dir + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
           " -keyout " + name + ".key -out " + name + ".csr && openssl x509 -req -in " + name +
           ".csr -CA inter.pem -CAkey inter.key -set_serial $RANDOM -days 2 -extfile leaf.ext -out " + name +
           ".crt && cat " + name + ".crt inter.pem > " + name + ".chain");
    }
    // Puts a leaf in place as the server's files (renamed in, as a deploy would).
    void install(const std::string& name) {
        std::filesystem::copy_file(dir + "/" + name + ".chain", cert() + ".new",
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::copy_file(dir + "/" + name + ".key", key() + ".new",
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::rename(cert() + ".new", cert());
        std::filesystem::rename(key() + ".new", key());
    }
};

std::string tlsConfig(const TestPki& pki, const std::string& extraServer = "") {
    return R"(
[server]
threads = 2
log_level = "info"
)" + extraServer + R"(
[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
handshake_timeout = 1
tls_cert = ")" + pki.cert() + R"("
tls_key = ")" + pki.key() + R"("

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "swordfish"
request_read_timeout = 1
tls_cert = ")" + pki.cert() + R"("
tls_key = ")" + pki.key() + R"("

[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
)";
}

ssl::context clientContext(const std::string& caFile) {
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(caFile);
    context.set_verify_mode(ssl::verify_peer);
    return context;
}

// A wss:// client trusting the test root; it checks the host name.
class WssClient {
public:
    WssClient(int port, const std::string& caFile) : context_(clientContext(caFile)), ws_(ioc_, context_) {
        beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
        beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), "localhost");
        ws_.next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
        ws_.next_layer().handshake(ssl::stream_base::client);
        ws_.handshake("localhost", "/ws");
        beast::get_lowest_layer(ws_).expires_never();
    }
    // The common name of the certificate the server presented.
    std::string peerName() {
        X509* cert = SSL_get1_peer_certificate(ws_.next_layer().native_handle());
        char name[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
        X509_free(cert);
        return name;
    }
    int protocolVersion() { return SSL_version(ws_.next_layer().native_handle()); }
    json::value request(const std::string& command, json::object params) {
        json::object message{{"command", command}, {"params", params}, {"callId", 1}};
        ws_.write(asio::buffer(json::serialize(json::object{{"service", "pubsub"}, {"message", message}})));
        return expect();
    }
    json::value expect() {
        beast::flat_buffer buffer;
        beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(3));
        ws_.read(buffer);
        beast::get_lowest_layer(ws_).expires_never();
        return json::parse(beast::buffers_to_string(buffer.data()));
    }

private:
    asio::io_context ioc_;
    ssl::context context_;
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
};

// Connects over TCP, writes `bytes` and reads until the server closes;
// true when it closed within `within`.
bool closedAfterSending(int port, const std::string& bytes, std::chrono::milliseconds within) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    if (!bytes.empty()) asio::write(stream.socket(), asio::buffer(bytes));
    stream.expires_after(within);
    char buffer[4096];
    beast::error_code ec;
    while (!ec) stream.read_some(asio::buffer(buffer), ec);
    return ec != beast::error::timeout;
}

json::value publish(snorky::connector::Backend& backend, const std::string& channel, const std::string& message) {
    return backend.call("pubsub_backend", "publish", {{"channel", channel}, {"message", message}});
}

struct TlsTest : ::testing::Test {
    TestPki pki;
    ServerProcess server{tlsConfig(pki)};
    int wssPort() const { return server.port(0); }
    int wsPort() const { return server.port(1); }
    std::string httpsUrl() const { return "https://localhost:" + std::to_string(server.backendPort()) + "/backend"; }
    snorky::connector::HttpTransport transport{httpsUrl(), kKey, {.caFile = pki.ca()}};
    snorky::connector::Backend backend{transport};
};

}  // namespace

TEST_F(TlsTest, WssAndPlainListenersSideBySideWithHttpsBackend) {
    WssClient secure(wssPort(), pki.ca());
    EXPECT_EQ(secure.peerName(), "leaf-1");
    EXPECT_GE(secure.protocolVersion(), TLS1_2_VERSION);
    EXPECT_EQ(secure.request("subscribe", {{"channel", "news"}}).at("message").at("type"), "response");
    WsClient plain(wsPort());
    plain.request("pubsub", "subscribe", {{"channel", "news"}});

    publish(backend, "news", "over https");  // the C++ connector, verifying the chain up to the root
    EXPECT_EQ(secure.expect().at("message").at("message"), "over https");
    EXPECT_EQ(plain.expectMessage().at("message"), "over https");
    // A large message crosses several TLS records.
    std::string big(200 * 1024, 'x');
    publish(backend, "news", big);
    EXPECT_TRUE(secure.expect().at("message").at("message").as_string() == big);
    EXPECT_EQ(transport.connectionsOpened(), 1u);  // kept alive over TLS
}

TEST_F(TlsTest, SnorkyCallOverHttps) {
    WssClient secure(wssPort(), pki.ca());
    secure.request("subscribe", {{"channel", "cli"}});
    ProgramResult run = runProgram(SNORKY_CALL_BINARY,
                                   {"--url", httpsUrl(), "--key", kKey, "pubsub_backend", "publish", "channel=cli", "message=hi"},
                                   {{"SSL_CERT_FILE", pki.ca()}, {"SNORKY_BACKEND_URL", ""}, {"SNORKY_BACKEND_KEY", ""}});
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(secure.expect().at("message").at("message"), "hi");
    // Without the test root the certificate is refused (verification is on).
    ProgramResult untrusted = runProgram(SNORKY_CALL_BINARY,
                                         {"--url", httpsUrl(), "--key", kKey, "pubsub_backend", "publish", "channel=cli", "message=x"},
                                         {{"SSL_CERT_FILE", "/dev/null"}, {"SNORKY_BACKEND_URL", ""}, {"SNORKY_BACKEND_KEY", ""}});
    EXPECT_NE(untrusted.exitCode, 0);
}

TEST_F(TlsTest, OldProtocolVersionsAreRefused) {
    for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
        asio::io_context ioc;
        ssl::context context(ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(context.native_handle(), version);
        SSL_CTX_set_max_proto_version(context.native_handle(), version);
        SSL_CTX_set_security_level(context.native_handle(), 0);  // let this client offer them at all
        SSL_CTX_set_cipher_list(context.native_handle(), "ALL:@SECLEVEL=0");
        ssl::stream<tcp::socket> stream(ioc, context);
        stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(wssPort())));
        beast::error_code ec;
        stream.handshake(ssl::stream_base::client, ec);
        EXPECT_TRUE(ec) << "TLS version " << version << " was accepted";
        // Refused by the server (its alert), not by this client's own settings.
        EXPECT_NE(ec.message().find("alert protocol version"), std::string::npos) << ec.message();
    }
    // TLS 1.2 exactly is accepted.
    asio::io_context ioc;
    ssl::context context = clientContext(pki.ca());
    SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION);
    ssl::stream<tcp::socket> stream(ioc, context);
    stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(wssPort())));
    beast::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(SSL_version(stream.native_handle()), TLS1_2_VERSION);
}

TEST_F(TlsTest, RefusedHandshakesLoseNothing) {
    WssClient subscriber(wssPort(), pki.ca());
    subscriber.request("subscribe", {{"channel", "calm"}});
    const std::string plainHttp = "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n";
    // Plain HTTP and garbage are not a ClientHello: closed at once.
    EXPECT_TRUE(closedAfterSending(wssPort(), plainHttp, std::chrono::milliseconds(3000)));
    EXPECT_TRUE(closedAfterSending(wssPort(), std::string(3000, '\x16'), std::chrono::milliseconds(3000)));
    EXPECT_TRUE(closedAfterSending(server.backendPort(), "POST /backend HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
                                   std::chrono::milliseconds(3000)));
    // A ClientHello that stops halfway (a TLS record header announcing more
    // than comes): cut off by the handshake timeout (1 s here), on both kinds.
    const std::string halfHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    EXPECT_TRUE(closedAfterSending(wssPort(), halfHello, std::chrono::milliseconds(4000)));
    EXPECT_TRUE(closedAfterSending(server.backendPort(), halfHello, std::chrono::milliseconds(4000)));
    // A peer that connects and says nothing at all.
    EXPECT_TRUE(closedAfterSending(wssPort(), "", std::chrono::milliseconds(4000)));

    // Nothing was lost: the subscriber still gets messages, new clients connect.
    publish(backend, "calm", "still here");
    EXPECT_EQ(subscriber.expect().at("message").at("message"), "still here");
    WssClient later(wssPort(), pki.ca());
    EXPECT_EQ(later.request("subscribe", {{"channel", "calm"}}).at("message").at("type"), "response");
    EXPECT_TRUE(server.running());
}

TEST_F(TlsTest, SighupReloadsTheCertificateForNewConnectionsOnly) {
    WssClient before(wssPort(), pki.ca());
    before.request("subscribe", {{"channel", "reload"}});
    ASSERT_EQ(before.peerName(), "leaf-1");

    pki.makeLeaf("leaf-2");
    pki.install("leaf-2");
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    ASSERT_TRUE(waitUntil([&] {
        auto logs = server.logs();
        std::size_t first = logs.find("reloaded the certificate");
        return first != std::string::npos && logs.find("reloaded the certificate", first + 1) != std::string::npos;
    })) << server.logs();  // both TLS listeners

    WssClient after(wssPort(), pki.ca());
    EXPECT_EQ(after.peerName(), "leaf-2");
    // The open connection keeps its session and still receives.
    snorky::connector::HttpTransport fresh(httpsUrl(), kKey, {.caFile = pki.ca()});
    snorky::connector::Backend freshBackend(fresh);
    publish(freshBackend, "reload", "after reload");
    EXPECT_EQ(before.expect().at("message").at("message"), "after reload");

    // A broken file: the reload is refused as a whole (the new config would
    // not start), the current certificate stays, file and reason are logged.
    { std::ofstream(pki.cert()) << "not a certificate"; }
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    ASSERT_TRUE(waitUntil([&] {
        return server.logs().find("keeping the running config: " + server.dir() + "/snorky.toml:") != std::string::npos;
    })) << server.logs();
    EXPECT_NE(server.logs().find("tls_cert '" + pki.cert() + "': no start line"), std::string::npos) << server.logs();
    WssClient stillWorking(wssPort(), pki.ca());
    EXPECT_EQ(stillWorking.peerName(), "leaf-2");
    EXPECT_TRUE(server.running());
}

TEST(TlsConfig, MistakesAreReportedWithFileAndLine) {
    TestPki pki;
    auto check = [&](const std::string& listenerTls, const std::string& expected) {
        std::string config = "[[listener]]\ntype = \"websocket\"\nregistry = \"frontend\"\nport = 0\n" + listenerTls;
        std::string path = writeTempFile("snorky.toml", config);
        CommandResult result = runSnorky({"--config", path, "--check"});
        EXPECT_EQ(result.exitCode, 78) << result.output;
        EXPECT_NE(result.output.find(path + ":1: listener (websocket)"), std::string::npos) << result.output;
        EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
    };
    check("tls_cert = \"" + pki.cert() + "\"\n", "tls_cert and tls_key go together");
    check("tls_cert = \"/nonexistent.pem\"\ntls_key = \"" + pki.key() + "\"\n", "tls_cert '/nonexistent.pem'");
    check("tls_cert = \"" + pki.cert() + "\"\ntls_key = \"" + pki.dir + "/inter.key\"\n",
          "tls_key '" + pki.dir + "/inter.key': key values mismatch");
}
