#include "subscriber_worker.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "net_util.hpp"
#include "ws_codec.hpp"

namespace snorky::bench {

namespace {
constexpr std::uint64_t kControlSlot = ~0ull;
constexpr std::string_view kStampKey = "\"bt\":";  // publish time, ns of CLOCK_MONOTONIC
constexpr std::string_view kResponse = "\"type\":\"response\"";
constexpr std::string_view kError = "\"type\":\"error\"";

bool contains(std::string_view haystack, std::string_view needle) {
    return memmem(haystack.data(), haystack.size(), needle.data(), needle.size()) != nullptr;
}

double ownCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}
}  // namespace

void WorkerCounters::merge(const WorkerCounters& o) {
    connected += o.connected;
    subscribed += o.subscribed;
    open += o.open;
    connectErrors += o.connectErrors;
    handshakeErrors += o.handshakeErrors;
    rpcErrors += o.rpcErrors;
    closedByServer += o.closedByServer;
    protocolErrors += o.protocolErrors;
    setupTimeouts += o.setupTimeouts;
    deliveries += o.deliveries;
    deliveryBytes += o.deliveryBytes;
    otherFrames += o.otherFrames;
    pings += o.pings;
    if (o.firstDeliveryNs && (!firstDeliveryNs || o.firstDeliveryNs < firstDeliveryNs)) firstDeliveryNs = o.firstDeliveryNs;
    lastDeliveryNs = std::max(lastDeliveryNs, o.lastDeliveryNs);
    cpuSeconds += o.cpuSeconds;
    if (!firstError[0] && o.firstError[0]) std::memcpy(firstError, o.firstError, sizeof firstError);
    latency.merge(o.latency);
}

// permessage-deflate as a client that agreed to no context takeover: one
// raw inflate stream, reset after each message.
struct SubscriberWorker::Inflater {
    z_stream z{};
    std::string out;
    Inflater() { inflateInit2(&z, -15); }
    ~Inflater() { inflateEnd(&z); }
    bool inflate(std::string_view in) {
        static const unsigned char tail[4] = {0, 0, 0xff, 0xff};
        out.resize(std::max<std::size_t>(out.size(), 64 * 1024));
        std::size_t produced = 0;
        bool ok = true;
        for (std::string_view part : {in, std::string_view(reinterpret_cast<const char*>(tail), 4)}) {
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
            z.avail_in = static_cast<uInt>(part.size());
            while (ok && z.avail_in > 0) {
                if (produced == out.size()) out.resize(out.size() * 2);
                z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
                z.avail_out = static_cast<uInt>(out.size() - produced);
                int rc = ::inflate(&z, Z_SYNC_FLUSH);
                produced = out.size() - z.avail_out;
                ok = rc == Z_OK || rc == Z_STREAM_END || (rc == Z_BUF_ERROR && z.avail_out > 0);
            }
        }
        inflateReset(&z);
        out.resize(produced);
        return ok;
    }
};

SubscriberWorker::SubscriberWorker(const BenchOptions& options, std::uint32_t firstIndex, std::uint32_t count)
    : options_(options), first_(firstIndex), conns_(count), readBuf_(256 * 1024) {
    request_ = upgradeRequest(options.host, options.wsPort, options.wsPath, options.deflate);
    if (options.deflate) inflater_ = std::make_unique<Inflater>();
}

SubscriberWorker::~SubscriberWorker() = default;

void SubscriberWorker::noteError(const std::string& why) {
    if (!counters_.firstError[0]) std::snprintf(counters_.firstError, sizeof counters_.firstError, "%s", why.c_str());
}

void SubscriberWorker::startNext() {
    std::uint32_t slot = nextToStart_++;
    ++inSetup_;
    auto target = ipv4Address(options_.host, options_.wsPort);
    int fd = startConnect(loopbackSource(first_ + slot, options_.sourceAddrs), target);
    if (fd < 0) {
        fail(slot, counters_.connectErrors, std::string("connect: ") + std::strerror(errno));
        return;
    }
    conns_[slot].fd = fd;
    conns_[slot].state = State::Connecting;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = slot;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
}

void SubscriberWorker::setupFinished(std::uint32_t slot) {
    --inSetup_;
    ++setupDone_;
}

void SubscriberWorker::fail(std::uint32_t slot, std::uint32_t& counter, const std::string& why) {
    Connection& c = conns_[slot];
    ++counter;
    noteError(why);
    bool inSetup = c.state != State::Open;
    if (c.fd >= 0) close(c.fd);  // close() also removes it from the epoll set
    c.fd = -1;
    if (inSetup && c.state != State::Dead) setupFinished(slot);
    c.state = State::Dead;
    std::string().swap(c.in);
    std::string().swap(c.out);
}

void SubscriberWorker::send(std::uint32_t slot, std::string bytes) {
    Connection& c = conns_[slot];
    if (c.out.empty()) c.out = std::move(bytes);
    else c.out += bytes;
    flush(slot);
}

void SubscriberWorker::flush(std::uint32_t slot) {
    Connection& c = conns_[slot];
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) {
            fail(slot, counters_.closedByServer, std::string("send: ") + std::strerror(errno));
            return;
        }
        c.out.erase(0, static_cast<std::size_t>(n));
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
    ev.data.u64 = slot;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    if (c.out.empty()) std::string().swap(c.out);
}

void SubscriberWorker::onConnected(std::uint32_t slot) {
    Connection& c = conns_[slot];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        fail(slot, counters_.connectErrors, std::string("connect: ") + std::strerror(err));
        return;
    }
    c.state = State::Upgrading;
    send(slot, request_);
}

void SubscriberWorker::onEvent(std::uint32_t slot, std::uint32_t events) {
    Connection& c = conns_[slot];
    if (c.state == State::Connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) onConnected(slot);
        return;
    }
    if (c.state == State::Dead) return;
    if (events & EPOLLOUT) flush(slot);
    if (c.state != State::Dead && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) onReadable(slot);
}

void SubscriberWorker::onReadable(std::uint32_t slot) {
    Connection& c = conns_[slot];
    for (;;) {
        ssize_t n = ::recv(c.fd, readBuf_.data(), readBuf_.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            bool upgrading = c.state == State::Upgrading;
            std::string why = n == 0 ? "connection closed by the server" : std::string("recv: ") + std::strerror(errno);
            fail(slot, upgrading ? counters_.handshakeErrors : counters_.closedByServer, why);
            return;
        }
        std::size_t got = static_cast<std::size_t>(n);
        if (c.in.empty()) {
            // Fast path: parse straight from the read buffer, keep only a partial tail.
            long used = consume(slot, readBuf_.data(), got);
            if (used < 0) return;
            if (static_cast<std::size_t>(used) < got) conns_[slot].in.assign(readBuf_.data() + used, got - static_cast<std::size_t>(used));
        } else {
            c.in.append(readBuf_.data(), got);
            long used = consume(slot, c.in.data(), c.in.size());
            if (used < 0) return;
            conns_[slot].in.erase(0, static_cast<std::size_t>(used));
            if (conns_[slot].in.empty()) std::string().swap(conns_[slot].in);
        }
        if (got < readBuf_.size()) return;  // drained (level-triggered: more wakes us again)
    }
}

long SubscriberWorker::consume(std::uint32_t slot, const char* data, std::size_t size) {
    std::size_t pos = 0;
    if (conns_[slot].state == State::Upgrading) {
        std::size_t header = 0;
        switch (parseUpgradeResponse(std::string_view(data, size), header)) {
        case UpgradeResult::Incomplete:
            return 0;
        case UpgradeResult::Refused: {
            std::string_view line(data, std::min<std::size_t>(size, std::string_view(data, size).find('\r')));
            fail(slot, counters_.handshakeErrors, "upgrade refused: " + std::string(line.substr(0, 100)));
            return -1;
        }
        case UpgradeResult::Accepted:
            break;
        }
        pos = header;
        ++counters_.connected;
        if (options_.channels == 0) {
            conns_[slot].state = State::Open;
            setupFinished(slot);
        } else {
            conns_[slot].state = State::Subscribing;
            std::string body = "{\"service\":\"" + options_.service +
                               "\",\"message\":{\"command\":\"subscribe\",\"params\":{\"channel\":\"" +
                               channelName((first_ + slot) % options_.channels) + "\"" +
                               (options_.recover ? ",\"recover\":true" : "") + "},\"callId\":1}}";
            std::string frame;
            appendClientFrame(frame, opcode::kText, body, maskSeed_);
            send(slot, std::move(frame));
            if (conns_[slot].state == State::Dead) return -1;
        }
    }
    while (pos < size) {
        ServerFrame frame;
        auto result = parseServerFrame(std::string_view(data + pos, size - pos), frame);
        if (result == ParseResult::Incomplete) break;
        if (result == ParseResult::Invalid || !frame.fin) {
            fail(slot, counters_.protocolErrors, "invalid or fragmented frame from the server");
            return -1;
        }
        pos += frame.size;
        switch (frame.opcode) {
        case opcode::kText:
            if (frame.compressed) {
                if (!inflater_ || !inflater_->inflate(frame.payload)) {
                    fail(slot, counters_.protocolErrors, "compressed frame that does not inflate");
                    return -1;
                }
                onText(slot, inflater_->out, frame.payload.size());
            } else {
                onText(slot, frame.payload, frame.payload.size());
            }
            if (conns_[slot].state == State::Dead) return -1;
            break;
        case opcode::kPing: {
            ++counters_.pings;
            std::string pong;
            appendClientFrame(pong, opcode::kPong, frame.payload, maskSeed_);
            send(slot, std::move(pong));
            if (conns_[slot].state == State::Dead) return -1;
            break;
        }
        case opcode::kClose: {
            std::string code = frame.payload.size() >= 2
                                   ? std::to_string((static_cast<unsigned char>(frame.payload[0]) << 8) |
                                                    static_cast<unsigned char>(frame.payload[1]))
                                   : "none";
            fail(slot, counters_.closedByServer, "close frame from the server, code " + code);
            return -1;
        }
        case opcode::kPong:
            break;
        default:
            fail(slot, counters_.protocolErrors, "unexpected opcode " + std::to_string(frame.opcode));
            return -1;
        }
    }
    return static_cast<long>(pos);
}

void SubscriberWorker::onText(std::uint32_t slot, std::string_view payload, std::size_t wireBytes) {
    // Deliveries first: they are nearly every frame once publishing starts.
    if (auto* stamp = static_cast<const char*>(memmem(payload.data(), payload.size(), kStampKey.data(), kStampKey.size()))) {
        std::uint64_t now = nowNs();
        std::uint64_t sent = 0;
        const char* digits = stamp + kStampKey.size();
        auto [end, ec] = std::from_chars(digits, payload.data() + payload.size(), sent);
        if (ec == std::errc()) {
            ++counters_.deliveries;
            counters_.deliveryBytes += wireBytes;
            counters_.latency.record(now > sent ? now - sent : 0);
            if (!counters_.firstDeliveryNs) counters_.firstDeliveryNs = now;
            counters_.lastDeliveryNs = now;
            return;
        }
    }
    Connection& c = conns_[slot];
    if (c.state == State::Subscribing) {
        if (contains(payload, kResponse)) {
            ++counters_.subscribed;
            c.state = State::Open;
            setupFinished(slot);
            return;
        }
        if (contains(payload, kError)) {
            fail(slot, counters_.rpcErrors, "subscribe failed: " + std::string(payload.substr(0, 120)));
            return;
        }
    }
    if (contains(payload, kError)) {
        ++counters_.rpcErrors;
        noteError("error from the server: " + std::string(payload.substr(0, 120)));
        return;
    }
    ++counters_.otherFrames;
}

int SubscriberWorker::run(int controlFd, int reportFd) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kControlSlot;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, controlFd, &ev);

    std::vector<epoll_event> events(1024);
    auto total = static_cast<std::uint32_t>(conns_.size());
    std::uint64_t deadline = nowNs() + static_cast<std::uint64_t>(options_.setupTimeout * 1e9);
    bool ready = false;
    for (;;) {
        if (!ready) {
            while (inSetup_ < options_.connectConcurrency && nextToStart_ < total) startNext();
            if (setupDone_ == total || nowNs() > deadline) {
                for (std::uint32_t slot = 0; slot < total; ++slot) {
                    if (conns_[slot].state == State::Idle) {
                        ++counters_.setupTimeouts;
                        conns_[slot].state = State::Dead;
                    } else if (conns_[slot].state != State::Open && conns_[slot].state != State::Dead) {
                        fail(slot, counters_.setupTimeouts, "setup timed out");
                    }
                }
                ready = true;
                counters_.open = static_cast<std::uint32_t>(
                    std::count_if(conns_.begin(), conns_.end(), [](const Connection& c) { return c.state == State::Open; }));
                counters_.cpuSeconds = ownCpuSeconds();
                if (!writeAll(reportFd, &counters_, sizeof counters_)) return 1;
            }
        }
        int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), ready ? -1 : 100);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; ++i) {
            if (events[static_cast<std::size_t>(i)].data.u64 == kControlSlot) {
                counters_.open = static_cast<std::uint32_t>(
                    std::count_if(conns_.begin(), conns_.end(), [](const Connection& c) { return c.state == State::Open; }));
                counters_.cpuSeconds = ownCpuSeconds();
                bool ok = writeAll(reportFd, &counters_, sizeof counters_);
                return ok ? 0 : 1;
            }
            onEvent(static_cast<std::uint32_t>(events[static_cast<std::size_t>(i)].data.u64),
                    events[static_cast<std::size_t>(i)].events);
        }
    }
}

}  // namespace snorky::bench
