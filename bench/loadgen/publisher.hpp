#pragma once
// Publishes at a fixed rate (or as fast as answered) through the backend HTTP
// API (keep-alive, X-Backend-Key) or as a WebSocket client, stamping each
// message with its send time so subscribers can measure latency.
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "latency_histogram.hpp"

namespace snorky::bench {

struct PublishResult {
    std::uint64_t sent = 0, ok = 0, errors = 0, late = 0;
    std::uint64_t expectedDeliveries = 0;  // subscribers of the channels of the accepted publishes
    std::uint64_t startNs = 0, endNs = 0;  // first send, last answer
    LatencyHistogram roundTrip;            // request to answer
    std::string firstError;
};

class Publisher {
public:
    Publisher(const BenchOptions& options, std::vector<std::uint32_t> subscribersPerChannel);
    ~Publisher();
    // Opens the publishing connections (and upgrades them for ws). False with `error` on failure.
    bool open(std::string& error);
    PublishResult run();

private:
    struct Pending {
        std::uint64_t sentNs;
        std::uint32_t channel;
    };
    struct Connection {
        int fd = -1;
        std::string in, out;
        std::deque<Pending> pending;
        bool dead = false;
    };

    std::string requestFor(std::uint64_t seq, std::uint32_t channel, std::uint64_t nowNs);
    void sendOne(Connection& c, std::uint64_t seq, std::uint64_t nowNs);
    void flush(Connection& c);
    void onReadable(Connection& c);
    // Consumes complete answers; false when the connection must be dropped.
    bool consume(Connection& c);
    void answered(Connection& c, bool ok, const std::string& detail);
    void drop(Connection& c, const std::string& why);
    std::uint32_t pickChannel(std::uint64_t seq);

    const BenchOptions& options_;
    std::vector<std::uint32_t> subscribers_;
    std::vector<Connection> conns_;
    int epoll_ = -1;
    std::mt19937_64 random_;
    std::uint32_t maskSeed_ = 0x12345678u;
    std::string padding_;
    std::string httpHead_;
    PublishResult result_;
};

}  // namespace snorky::bench
