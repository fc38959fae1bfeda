#pragma once
// A private redis-server for tests: started on a free port with no
// persistence, killed on destruction. Tests that need Redis call
// RedisProcess::available() and GTEST_SKIP only when the binary is missing.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace snorky::it {

class RedisProcess {
public:
    // Path of redis-server (PATH, then /usr/bin, /usr/sbin), or "" when missing.
    static std::string binary();
    static bool available() { return !binary().empty(); }

    // Starts redis-server on `port` (0: a free one) and waits until it answers.
    explicit RedisProcess(int port = 0);
    ~RedisProcess();
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    int port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

    void kill9();  // abrupt: connections drop, data is gone (no persistence)
    void stop();   // SIGTERM and wait
    void start();  // again, on the same port

    // One command on a fresh connection; the reply as text (integers in
    // decimal, arrays as their elements joined by '\n'). Throws on failure.
    std::string command(const std::vector<std::string>& argv) const;
    // Subscribers of a channel across all nodes (PUBSUB NUMSUB).
    long long subscribers(const std::string& channel) const;
    // Waits until `channel` has exactly `count` subscribers.
    bool waitSubscribers(const std::string& channel, long long count,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;

private:
    std::string dir_;
    int port_;
    pid_t pid_ = -1;
};

}  // namespace snorky::it
