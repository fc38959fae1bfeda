#pragma once
// Everything one snorky-bench run is told on its command line.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace snorky::bench {

struct BenchOptions {
    // Where the server listens (loopback only).
    std::string host = "127.0.0.1";
    std::uint16_t wsPort = 5800;
    std::string wsPath = "/ws";
    std::uint16_t backendPort = 5801;
    std::string backendPath = "/backend";
    std::string backendKey;  // default: env SNORKY_BACKEND_KEY
    std::string readyFile;   // the server's --ready-file: ports are read from it
    std::string service = "pubsub";
    std::string backendService = "pubsub_backend";

    // Subscribers.
    std::uint32_t connections = 100;
    std::uint32_t channels = 1;  // client i subscribes to channel "bench-<i % channels>"; 0 = no subscription
    std::uint32_t procs = 0;     // worker processes holding the connections; 0 = one per 15,000
    std::uint32_t sourceAddrs = 16;          // spread over 127.0.0.1 .. 127.0.0.<n>
    std::uint32_t connectConcurrency = 256;  // per process, connections in handshake at once
    double setupTimeout = 120;

    // Phases after setup: hold (idle, memory sampled), then publish.
    double hold = 0;
    double rate = 10;        // publishes per second in total; 0 = as fast as the server answers
    double duration = 5;     // seconds of publishing; 0 = none
    std::string publishVia = "http";  // http (backend API, keep-alive) or ws (client publish)
    std::uint32_t publishers = 2;     // publishing connections
    std::uint32_t inflight = 1;       // requests in flight per publishing connection
    std::string pick = "rr";          // channel choice per publish: rr (round robin) or random
    std::uint32_t payload = 16;       // padding bytes in each published message
    bool jsonPayload = false;         // the padding as JSON rows (compresses like real data), not 'x's
    bool deflate = false;             // subscribers offer permessage-deflate and inflate what comes compressed
    bool recover = false;             // subscribers subscribe with `recover` (history: messages carry offsets)
    double drain = 2;                 // seconds to wait for deliveries after the last publish
    std::uint64_t seed = 1;

    // Reporting.
    pid_t serverPid = 0;   // read CPU and RSS of this process
    double floorNs = 0;         // send_floor's task CPU per send: CPU per delivery is printed as a multiple of it
    double floorSoftirqNs = 0;  // send_floor's softirq per send (for the CPU + softirq comparison)
    bool check = false;    // exit 1 unless all connections set up, deliveries > 0 and no errors
    std::string label;

    std::uint32_t totalPublishers() const { return publishers; }
};

// Parses argv (exits on --help or errors) and resolves the ready file.
BenchOptions parseOptions(int argc, char** argv);

// Subscribers of each channel, from the i % channels assignment.
std::vector<std::uint32_t> subscribersPerChannel(const BenchOptions& options);

std::string channelName(std::uint32_t channel);

}  // namespace snorky::bench
