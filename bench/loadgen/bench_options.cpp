#include "bench_options.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace snorky::bench {

namespace {

// Waits for the server's ready file and takes the first websocket and backend ports.
void applyReadyFile(BenchOptions& o) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string text;
    for (;;) {
        std::ifstream in(o.readyFile);
        if (in) {
            std::stringstream ss;
            ss << in.rdbuf();
            text = ss.str();
            boost::system::error_code ec;
            auto doc = boost::json::parse(text, ec);
            if (!ec && doc.is_object() && doc.as_object().contains("listeners")) {
                bool ws = false, backend = false;
                for (const auto& l : doc.at("listeners").as_array()) {
                    const auto& type = l.at("type").as_string();
                    auto port = static_cast<std::uint16_t>(l.at("port").to_number<int>());
                    if (type == "websocket" && !ws) o.wsPort = port, ws = true;
                    if (type == "backend" && !backend) o.backendPort = port, backend = true;
                }
                // The server writes its pid there too: measure it unless told otherwise.
                if (o.serverPid == 0 && doc.as_object().contains("pid"))
                    o.serverPid = static_cast<pid_t>(doc.at("pid").to_number<std::int64_t>());
                return;
            }
        }
        if (std::chrono::steady_clock::now() > deadline) {
            std::cerr << "snorky-bench: no usable ready file at " << o.readyFile << "\n";
            std::exit(2);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

BenchOptions parseOptions(int argc, char** argv) {
    BenchOptions o;
    CLI::App app{"snorky-bench: WebSocket load generator for Snorky (loopback only)"};
    app.add_option("--host", o.host, "server address (127.x only)")->capture_default_str();
    app.add_option("--ws-port", o.wsPort, "WebSocket listener port")->capture_default_str();
    app.add_option("--ws-path", o.wsPath)->capture_default_str();
    app.add_option("--backend-port", o.backendPort, "backend HTTP listener port")->capture_default_str();
    app.add_option("--backend-path", o.backendPath)->capture_default_str();
    app.add_option("--backend-key", o.backendKey, "X-Backend-Key (default: env SNORKY_BACKEND_KEY)");
    app.add_option("--ready-file", o.readyFile, "server ready file: take the ports (and the pid, for --server-pid) from it; waits up to 30 s");
    app.add_option("--service", o.service, "frontend PubSub service name")->capture_default_str();
    app.add_option("--backend-service", o.backendService, "backend PubSub service name")->capture_default_str();
    app.add_option("-c,--connections", o.connections, "subscriber connections")->capture_default_str();
    app.add_option("--channels", o.channels, "channels; client i subscribes to bench-<i % channels>; 0 = none")
        ->capture_default_str();
    app.add_option("--procs", o.procs, "worker processes (a process may hold < 20,000 files); 0 = auto")
        ->capture_default_str();
    app.add_option("--source-addrs", o.sourceAddrs, "bind sockets to 127.0.0.1 .. 127.0.0.N")
        ->check(CLI::Range(1, 254))->capture_default_str();
    app.add_option("--connect-concurrency", o.connectConcurrency, "handshakes in flight per process")
        ->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--setup-timeout", o.setupTimeout, "seconds allowed to connect and subscribe")->capture_default_str();
    app.add_option("--hold", o.hold, "seconds to hold the connections idle (RSS sampled) before publishing")
        ->capture_default_str();
    app.add_option("--rate", o.rate, "publishes per second in total; 0 = as fast as answered")->capture_default_str();
    app.add_option("-d,--duration", o.duration, "seconds of publishing; 0 = no publishing")->capture_default_str();
    app.add_option("--publish-via", o.publishVia, "http (backend API) or ws (client publish)")
        ->check(CLI::IsMember({"http", "ws"}))->capture_default_str();
    app.add_option("--publishers", o.publishers, "publishing connections")->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--inflight", o.inflight, "requests in flight per publishing connection (pipelined)")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    app.add_option("--pick", o.pick, "channel per publish: rr or random")->check(CLI::IsMember({"rr", "random"}))
        ->capture_default_str();
    app.add_option("--payload", o.payload, "padding bytes per published message")->capture_default_str();
    app.add_flag("--json-payload", o.jsonPayload, "padding as an array of JSON rows (realistic to compress)");
    app.add_flag("--deflate", o.deflate, "subscribers offer permessage-deflate (RFC 7692)");
    app.add_flag("--recover", o.recover, "subscribers subscribe with recover: true (history offsets on messages)");
    app.add_option("--drain", o.drain, "seconds to wait for deliveries after publishing")->capture_default_str();
    app.add_option("--seed", o.seed, "random seed")->capture_default_str();
    app.add_option("--server-pid", o.serverPid, "read this process's CPU time and RSS from /proc");
    app.add_option("--floor-ns", o.floorNs, "send_floor's ns per send: CPU per delivery as a multiple of it");
    app.add_option("--floor-softirq-ns", o.floorSoftirqNs, "send_floor's softirq ns per send");
    app.add_flag("--check", o.check, "exit 1 unless every connection subscribed, deliveries > 0, no errors");
    app.add_option("--label", o.label, "name printed with the results");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    if (o.backendKey.empty()) {
        if (const char* key = std::getenv("SNORKY_BACKEND_KEY")) o.backendKey = key;
    }
    if (!o.readyFile.empty()) applyReadyFile(o);
    if (o.procs == 0) o.procs = std::max<std::uint32_t>(1, (o.connections + 14999) / 15000);
    if (o.connections / o.procs > 19000) {
        std::cerr << "snorky-bench: " << o.connections / o.procs
                  << " connections per process exceed the 20,000 open files a process may hold; raise --procs\n";
        std::exit(2);
    }
    return o;
}

std::vector<std::uint32_t> subscribersPerChannel(const BenchOptions& o) {
    std::vector<std::uint32_t> counts(o.channels, 0);
    if (o.channels == 0) return counts;
    for (std::uint32_t c = 0; c < o.channels; ++c)
        counts[c] = o.connections / o.channels + (c < o.connections % o.channels ? 1 : 0);
    return counts;
}

std::string channelName(std::uint32_t channel) { return "bench-" + std::to_string(channel); }

}  // namespace snorky::bench
