// snorky-bench: opens N WebSocket connections to a Snorky server (split over
// worker processes), subscribes them to channels, publishes at a set rate and
// reports deliveries/s, publish-to-receive latency, errors, and the server's
// CPU time and memory read from /proc/<pid>. Bounded in count and time.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <poll.h>
#include <thread>

#include "bench_options.hpp"
#include "net_util.hpp"
#include "process_stats.hpp"
#include "publisher.hpp"
#include "subscriber_worker.hpp"

using namespace snorky::bench;

namespace {

struct Worker {
    pid_t pid = -1;
    int controlFd = -1;  // parent -> worker: "report now"
    int reportFd = -1;   // worker -> parent: counters
};

std::optional<ProcessStats> serverStats(const BenchOptions& o) {
    if (o.serverPid <= 0) return std::nullopt;
    return readProcessStats(o.serverPid);
}

double ownCpuSeconds(int who) {
    rusage usage{};
    getrusage(who, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::vector<Worker> startWorkers(const BenchOptions& o) {
    std::vector<Worker> workers;
    std::uint32_t first = 0;
    for (std::uint32_t p = 0; p < o.procs; ++p) {
        std::uint32_t share = o.connections / o.procs + (p < o.connections % o.procs ? 1 : 0);
        int control[2], report[2];
        if (pipe2(control, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
            perror("pipe");
            std::exit(2);
        }
        std::cout.flush();
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            std::exit(2);
        }
        if (pid == 0) {
            close(control[1]);
            close(report[0]);
            for (auto& w : workers) close(w.controlFd), close(w.reportFd);
            SubscriberWorker worker(o, first, share);
            _exit(worker.run(control[0], report[1]));
        }
        close(control[0]);
        close(report[1]);
        workers.push_back({pid, control[1], report[0]});
        first += share;
    }
    return workers;
}

// Reads one WorkerCounters from every worker (each arrives when that worker is ready).
std::optional<WorkerCounters> collect(std::vector<Worker>& workers, double timeoutSeconds) {
    WorkerCounters total;
    std::uint64_t deadline = nowNs() + static_cast<std::uint64_t>(timeoutSeconds * 1e9);
    for (auto& w : workers) {
        pollfd pfd{w.reportFd, POLLIN, 0};
        std::uint64_t now = nowNs();
        int waitMs = now < deadline ? static_cast<int>((deadline - now) / 1'000'000) : 0;
        if (poll(&pfd, 1, waitMs) != 1) return std::nullopt;
        auto counters = std::make_unique<WorkerCounters>();
        if (!readAll(w.reportFd, counters.get(), sizeof *counters)) return std::nullopt;
        total.merge(*counters);
    }
    return total;
}

// Machine-wide softirq seconds (the 7th figure of /proc/stat's cpu line).
double machineSoftirqSeconds() {
    std::FILE* f = std::fopen("/proc/stat", "r");
    unsigned long long v[7] = {};
    if (!f) return 0;
    if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
        v[6] = 0;
    std::fclose(f);
    return static_cast<double>(v[6]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Kernel memory of every TCP socket on the machine (/proc/net/sockstat "TCP: ... mem <pages>").
long tcpKernelBytes() {
    std::FILE* f = std::fopen("/proc/net/sockstat", "r");
    if (!f) return 0;
    char line[256];
    long pages = 0;
    while (std::fgets(line, sizeof line, f)) {
        if (const char* mem = std::strstr(line, "TCP:") ? std::strstr(line, " mem ") : nullptr) pages = std::atol(mem + 5);
    }
    std::fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

// Kernel slab memory of the machine (/proc/meminfo "Slab:"): socket, inode and
// epoll structures of every connection live there, outside any process's RSS.
long slabBytes() {
    std::FILE* f = std::fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    long kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "Slab:", 5) == 0) kib = std::atol(line + 5);
    std::fclose(f);
    return kib * 1024;
}

double mib(long bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
    BenchOptions o = parseOptions(argc, argv);
    long fileLimit = raiseFileLimit();
    boost::json::object result;
    result["label"] = o.label;
    result["connections"] = o.connections;
    result["channels"] = o.channels;
    result["procs"] = o.procs;
    std::printf("snorky-bench %s: %u connections over %u channel(s) in %u process(es) (open-file limit %ld), ws port %u, backend port %u\n",
                o.label.c_str(), o.connections, o.channels, o.procs, fileLimit, o.wsPort, o.backendPort);

    auto before = serverStats(o);
    if (o.serverPid > 0 && !before) {
        std::fprintf(stderr, "snorky-bench: cannot read /proc/%d\n", o.serverPid);
        return 2;
    }
    long tcpBefore = tcpKernelBytes();
    long slabBefore = slabBytes();
    std::uint64_t setupStart = nowNs();
    auto workers = startWorkers(o);
    auto ready = collect(workers, o.setupTimeout + 30);
    if (!ready) {
        std::fprintf(stderr, "snorky-bench: a worker did not finish setup\n");
        for (auto& w : workers) kill(w.pid, SIGKILL);
        return 2;
    }
    double setupSeconds = static_cast<double>(nowNs() - setupStart) / 1e9;
    auto afterSetup = serverStats(o);
    std::printf("setup: %u connected, %u subscribed, %u open, %llu errors in %.2f s (%.0f connections/s)\n",
                ready->connected, ready->subscribed, ready->open, static_cast<unsigned long long>(ready->errors()),
                setupSeconds, ready->connected / std::max(setupSeconds, 1e-9));
    if (ready->firstError[0]) std::printf("  first error: %s\n", ready->firstError);
    result["connected"] = ready->connected;
    result["subscribed"] = ready->subscribed;
    result["setup_seconds"] = setupSeconds;
    if (before && afterSetup) {
        long growth = afterSetup->rssBytes - before->rssBytes;
        double perConn = ready->open ? static_cast<double>(growth) / ready->open : 0;
        std::printf("server memory: RSS %.1f MiB before, %.1f MiB with %u connections: %.0f bytes per connection\n",
                    mib(before->rssBytes), mib(afterSetup->rssBytes), ready->open, perConn);
        result["rss_before"] = before->rssBytes;
        result["rss_connected"] = afterSetup->rssBytes;
        result["bytes_per_connection"] = perConn;
    }
    if (ready->open > 0) {
        // Both ends of every connection live on this machine: this is per pair.
        double tcpPerConn = static_cast<double>(tcpKernelBytes() - tcpBefore) / ready->open;
        double slabPerConn = static_cast<double>(slabBytes() - slabBefore) / ready->open;
        std::printf("kernel memory (machine-wide, both ends of each connection): TCP buffers %.0f bytes, slab %.0f bytes per connection\n",
                    tcpPerConn, slabPerConn);
        result["kernel_tcp_bytes_per_connection"] = tcpPerConn;
        result["kernel_slab_bytes_per_connection"] = slabPerConn;
    }

    // Hold: idle connections, memory sampled every second.
    if (o.hold > 0) {
        auto holdStart = serverStats(o);
        long peak = holdStart ? holdStart->rssBytes : 0;
        std::uint64_t end = nowNs() + static_cast<std::uint64_t>(o.hold * 1e9);
        while (nowNs() < end) {
            std::uint64_t left = end - nowNs();
            std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::uint64_t>(left, 1'000'000'000ull)));
            if (auto s = serverStats(o)) peak = std::max(peak, s->rssBytes);
        }
        auto holdEnd = serverStats(o);
        if (holdStart && holdEnd) {
            long growth = holdEnd->rssBytes - holdStart->rssBytes;
            std::printf("hold %.0f s idle: RSS %.1f -> %.1f MiB (growth %ld bytes, peak %.1f MiB), server CPU %.3f s\n",
                        o.hold, mib(holdStart->rssBytes), mib(holdEnd->rssBytes), growth, mib(peak),
                        holdEnd->cpuSeconds - holdStart->cpuSeconds);
            result["hold_seconds"] = o.hold;
            result["rss_hold_growth"] = growth;
            result["rss_hold_peak"] = peak;
            result["hold_cpu_seconds"] = holdEnd->cpuSeconds - holdStart->cpuSeconds;
        }
    }

    PublishResult published;
    std::optional<ProcessStats> publishStart, publishEnd;
    std::uint64_t windowStartNs = 0, windowEndNs = 0;
    double softirqStart = 0, softirqEnd = 0;
    if (o.duration > 0) {
        Publisher publisher(o, subscribersPerChannel(o));
        std::string error;
        if (!publisher.open(error)) {
            std::fprintf(stderr, "snorky-bench: %s\n", error.c_str());
            for (auto& w : workers) kill(w.pid, SIGKILL);
            return 2;
        }
        publishStart = serverStats(o);
        softirqStart = machineSoftirqSeconds();
        windowStartNs = nowNs();
        published = publisher.run();
        std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<std::uint64_t>(o.drain * 1e9)));
        publishEnd = serverStats(o);
        softirqEnd = machineSoftirqSeconds();
        windowEndNs = nowNs();
    }

    // Ask every worker for its final counters.
    for (auto& w : workers) {
        char go = 'R';
        writeAll(w.controlFd, &go, 1);
    }
    auto final = collect(workers, 60);
    for (auto& w : workers) {
        int status = 0;
        waitpid(w.pid, &status, 0);
    }
    if (!final) {
        std::fprintf(stderr, "snorky-bench: a worker did not report\n");
        return 2;
    }

    std::uint64_t errors = final->errors() + published.errors;
    if (o.duration > 0) {
        double publishSeconds = static_cast<double>(published.endNs - published.startNs) / 1e9;
        std::uint64_t deliverEnd = std::max(final->lastDeliveryNs, published.endNs);
        double deliverSeconds = static_cast<double>(deliverEnd - published.startNs) / 1e9;
        double deliveriesPerSecond = deliverSeconds > 0 ? static_cast<double>(final->deliveries) / deliverSeconds : 0;
        std::printf("publish via %s: %llu sent, %llu ok, %llu errors, %llu late (>1 ms behind schedule), %.0f publishes/s over %.2f s\n",
                    o.publishVia.c_str(), static_cast<unsigned long long>(published.sent),
                    static_cast<unsigned long long>(published.ok), static_cast<unsigned long long>(published.errors),
                    static_cast<unsigned long long>(published.late),
                    publishSeconds > 0 ? static_cast<double>(published.ok) / publishSeconds : 0, publishSeconds);
        std::printf("  publish round trip ms: p50 %.3f p99 %.3f max %.3f\n", ms(published.roundTrip.percentile(0.5)),
                    ms(published.roundTrip.percentile(0.99)), ms(published.roundTrip.max()));
        if (!published.firstError.empty()) std::printf("  first publish error: %s\n", published.firstError.c_str());
        std::printf("deliveries: %llu of %llu expected (%.2f%%), %.0f deliveries/s, %.1f bytes each\n",
                    static_cast<unsigned long long>(final->deliveries),
                    static_cast<unsigned long long>(published.expectedDeliveries),
                    published.expectedDeliveries ? 100.0 * static_cast<double>(final->deliveries) / static_cast<double>(published.expectedDeliveries) : 0.0,
                    deliveriesPerSecond,
                    final->deliveries ? static_cast<double>(final->deliveryBytes) / static_cast<double>(final->deliveries) : 0.0);
        const auto& h = final->latency;
        std::printf("latency ms: p50 %.3f p90 %.3f p99 %.3f max %.3f mean %.3f\n", ms(h.percentile(0.5)),
                    ms(h.percentile(0.9)), ms(h.percentile(0.99)), ms(h.max()), h.mean() / 1e6);
        result["publish_via"] = o.publishVia;
        result["rate"] = o.rate;
        result["duration"] = o.duration;
        result["publishes_sent"] = published.sent;
        result["publishes_ok"] = published.ok;
        result["publishes_per_second"] = publishSeconds > 0 ? static_cast<double>(published.ok) / publishSeconds : 0;
        result["publish_rtt_p50_ms"] = ms(published.roundTrip.percentile(0.5));
        result["publish_rtt_p99_ms"] = ms(published.roundTrip.percentile(0.99));
        result["late"] = published.late;
        result["deliveries"] = final->deliveries;
        result["expected_deliveries"] = published.expectedDeliveries;
        result["deliveries_per_second"] = deliveriesPerSecond;
        result["frame_bytes"] = final->deliveries ? static_cast<double>(final->deliveryBytes) / static_cast<double>(final->deliveries) : 0.0;
        result["latency_p50_ms"] = ms(h.percentile(0.5));
        result["latency_p90_ms"] = ms(h.percentile(0.9));
        result["latency_p99_ms"] = ms(h.percentile(0.99));
        result["latency_max_ms"] = ms(h.max());
        if (publishStart && publishEnd && final->deliveries > 0) {
            double cpu = publishEnd->cpuSeconds - publishStart->cpuSeconds;
            double nsPerDelivery = cpu * 1e9 / static_cast<double>(final->deliveries);
            std::printf("server CPU: %.3f s (user %.3f, sys %.3f) for %llu deliveries: %.0f ns per delivery",
                        cpu, publishEnd->userSeconds - publishStart->userSeconds,
                        publishEnd->systemSeconds - publishStart->systemSeconds,
                        static_cast<unsigned long long>(final->deliveries), nsPerDelivery);
            if (o.floorNs > 0) std::printf(" = %.2fx the floor (%.0f ns)", nsPerDelivery / o.floorNs, o.floorNs);
            double window = static_cast<double>(windowEndNs - windowStartNs) / 1e9;
            std::printf("; %.0f%% of one core over the %.1f s window; RSS %.1f MiB\n", 100.0 * cpu / window, window,
                        mib(publishEnd->rssBytes));
            // Loopback runs the receiving side's TCP work in softirq context, which
            // IRQ time accounting charges to no process: shown apart (machine-wide).
            double softNs = (softirqEnd - softirqStart) * 1e9 / static_cast<double>(final->deliveries);
            std::printf("  machine softirq: %.0f ns per delivery; server CPU + softirq %.0f ns per delivery", softNs,
                        nsPerDelivery + softNs);
            if (o.floorSoftirqNs > 0)
                std::printf(" = %.2fx the floor's (%.0f ns)", (nsPerDelivery + softNs) / (o.floorNs + o.floorSoftirqNs),
                            o.floorNs + o.floorSoftirqNs);
            std::printf("\n");
            result["softirq_ns_per_delivery"] = softNs;
            result["server_cpu_percent"] = 100.0 * cpu / window;
            result["server_cpu_seconds"] = cpu;
            result["server_ns_per_delivery"] = nsPerDelivery;
            if (o.floorNs > 0) {
                result["floor_ns"] = o.floorNs;
                result["floor_multiple"] = nsPerDelivery / o.floorNs;
                result["floor_softirq_ns"] = o.floorSoftirqNs;
            }
            result["rss_after_publish"] = publishEnd->rssBytes;
        }
    }
    double generatorCpu = ownCpuSeconds(RUSAGE_SELF) + ownCpuSeconds(RUSAGE_CHILDREN);
    std::printf("errors: %llu (connect %u, handshake %u, rpc %u, closed by server %u, protocol %u, setup timeout %u, publish %llu); generator CPU %.2f s\n",
                static_cast<unsigned long long>(errors), final->connectErrors, final->handshakeErrors, final->rpcErrors,
                final->closedByServer, final->protocolErrors, final->setupTimeouts,
                static_cast<unsigned long long>(published.errors), generatorCpu);
    if (final->firstError[0]) std::printf("  first error: %s\n", final->firstError);
    result["errors"] = errors;
    result["generator_cpu_seconds"] = generatorCpu;
    std::printf("RESULT %s\n", boost::json::serialize(result).c_str());

    if (o.check) {
        bool ok = errors == 0 && ready->open == o.connections && (o.duration <= 0 || final->deliveries > 0);
        if (o.duration > 0 && final->deliveries != published.expectedDeliveries) ok = false;
        std::printf("check: %s\n", ok ? "passed" : "FAILED");
        return ok ? 0 : 1;
    }
    return 0;
}
