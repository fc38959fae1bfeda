// The Redis engine's connection set-up against a peer that accepts the TCP
// connection but never answers (a Redis stalled or overloaded at start-up).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "snorky/engines/redis_broker.hpp"
#include "support/fake_client.hpp"

namespace snorky::it {

using namespace std::chrono_literals;

namespace {
// Listens on a free loopback port and never accepts: the kernel completes the
// connections (backlog), nobody reads or answers.
class SilentListener {
public:
    SilentListener() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0)
            throw std::runtime_error("cannot listen");
        socklen_t len = sizeof addr;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~SilentListener() { close(fd_); }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};
}  // namespace

// The handshake gives up while its PING is unanswered; closing the connection
// then completes that PING's handler, which must not write into the finished
// handshake's stack frame (ASan: stack-use-after-return).
TEST(RedisHandshake, AnUnansweredHandshakeIsAbandonedCleanly) {
    SilentListener silent;
    RedisBrokerOptions options;
    options.port = silent.port();
    options.password = "secret";  // AUTH then PING: two handlers left waiting
    options.connectTimeout = 200ms;
    options.reconnectMin = options.reconnectMax = 100ms;
    testing::ManualTimers timers;
    Engine engine = redisEngine(options);
    auto* redis = dynamic_cast<RedisBroker*>(engine.broker.get());
    {
        // The first attempt is made in attach(), before the constructor returns;
        // the I/O thread then retries until the node is destroyed.
        Node node(std::move(engine), timers);
        EXPECT_FALSE(redis->connected());
        EXPECT_EQ(node.broker().health().at("redis"), "down");
        EXPECT_EQ(node.metrics().engineDisconnects.load(), 1u);  // logged once, not per attempt
    }
}

}  // namespace snorky::it
