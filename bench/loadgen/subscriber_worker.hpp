#pragma once
// One worker process's share of the subscriber connections: connects them
// (a bounded number of handshakes at a time), subscribes each to its channel,
// then counts deliveries and their publish-to-receive latency until told to
// report. Single-threaded, one epoll loop.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "latency_histogram.hpp"

namespace snorky::bench {

// What a worker sends its parent: once when setup is over, once at the end.
// Plain bytes over a pipe (same binary on both ends).
struct WorkerCounters {
    std::uint32_t connected = 0;   // WebSocket upgrade accepted
    std::uint32_t subscribed = 0;  // subscribe answered with a response
    std::uint32_t open = 0;        // still open now
    std::uint32_t connectErrors = 0, handshakeErrors = 0, rpcErrors = 0, closedByServer = 0, protocolErrors = 0;
    std::uint32_t setupTimeouts = 0;
    std::uint64_t deliveries = 0, deliveryBytes = 0, otherFrames = 0, pings = 0;
    std::uint64_t firstDeliveryNs = 0, lastDeliveryNs = 0;
    double cpuSeconds = 0;  // the worker's own CPU time
    char firstError[160] = {};
    LatencyHistogram latency;

    std::uint64_t errors() const {
        return std::uint64_t{connectErrors} + handshakeErrors + rpcErrors + closedByServer + protocolErrors + setupTimeouts;
    }
    void merge(const WorkerCounters& other);
};

class SubscriberWorker {
public:
    SubscriberWorker(const BenchOptions& options, std::uint32_t firstIndex, std::uint32_t count);
    ~SubscriberWorker();
    // Runs until the parent writes to controlFd; reports on reportFd. Returns the exit code.
    int run(int controlFd, int reportFd);

private:
    enum class State : std::uint8_t { Idle, Connecting, Upgrading, Subscribing, Open, Dead };
    struct Connection {
        int fd = -1;
        State state = State::Idle;
        std::string in;   // bytes of an incomplete frame / HTTP response
        std::string out;  // bytes the socket did not take yet
    };

    void startNext();
    void onEvent(std::uint32_t slot, std::uint32_t events);
    void onConnected(std::uint32_t slot);
    void onReadable(std::uint32_t slot);
    // Consumes complete frames from data; returns bytes consumed or -1 if the connection died.
    long consume(std::uint32_t slot, const char* data, std::size_t size);
    // wireBytes: the payload as it came (compressed or not), counted as deliveryBytes.
    void onText(std::uint32_t slot, std::string_view payload, std::size_t wireBytes);
    void send(std::uint32_t slot, std::string bytes);
    void flush(std::uint32_t slot);
    void fail(std::uint32_t slot, std::uint32_t& counter, const std::string& why);
    void setupFinished(std::uint32_t slot);
    void noteError(const std::string& why);

    const BenchOptions& options_;
    std::uint32_t first_;
    std::vector<Connection> conns_;
    int epoll_ = -1;
    std::uint32_t nextToStart_ = 0;
    std::uint32_t inSetup_ = 0;
    std::uint32_t setupDone_ = 0;
    std::uint32_t maskSeed_ = 0x9e3779b9u;
    std::string request_;
    std::vector<char> readBuf_;
    WorkerCounters counters_;
    struct Inflater;
    std::unique_ptr<Inflater> inflater_;  // --deflate
};

}  // namespace snorky::bench
