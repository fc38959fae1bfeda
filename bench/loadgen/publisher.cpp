#include "publisher.hpp"

#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include "net_util.hpp"
#include "ws_codec.hpp"

namespace snorky::bench {

namespace {
constexpr std::string_view kError = "\"type\":\"error\"";

bool contains(std::string_view haystack, std::string_view needle) {
    return memmem(haystack.data(), haystack.size(), needle.data(), needle.size()) != nullptr;
}

// Case-insensitive header lookup in an HTTP response head.
bool headerValue(std::string_view head, std::string_view name, std::string_view& value) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        std::size_t start = pos + 2;
        std::size_t end = head.find("\r\n", start);
        std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (line.size() > name.size() && line[name.size()] == ':' && strncasecmp(line.data(), name.data(), name.size()) == 0) {
            value = line.substr(name.size() + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return true;
        }
        pos = end;
    }
    return false;
}
}  // namespace

Publisher::Publisher(const BenchOptions& options, std::vector<std::uint32_t> subscribersPerChannel)
    : options_(options), subscribers_(std::move(subscribersPerChannel)), random_(options.seed),
      padding_("\"" + std::string(options.payload, 'x') + "\"") {  // a JSON string, or rows:
    if (options.jsonPayload) {
        // Rows like a price feed's, varied so that they compress like real data.
        std::mt19937 rows(static_cast<std::uint32_t>(options.seed));
        static const char* symbols[] = {"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA", "META", "ORCL"};
        padding_ = "[";
        while (padding_.size() < options.payload) {
            if (padding_.size() > 1) padding_ += ',';
            padding_ += "{\"id\":" + std::to_string(rows() % 100000) + ",\"sym\":\"" + symbols[rows() % 8] +
                        "\",\"px\":" + std::to_string(100 + rows() % 900) + "." + std::to_string(10 + rows() % 90) +
                        ",\"qty\":" + std::to_string(rows() % 5000) + ",\"side\":\"" + (rows() % 2 ? "buy" : "sell") + "\"}";
        }
        padding_ += "]";
    }
    httpHead_ = "POST " + options.backendPath + " HTTP/1.1\r\nHost: " + options.host + ":" +
                std::to_string(options.backendPort) + "\r\nX-Backend-Key: " + options.backendKey +
                "\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ";
}

Publisher::~Publisher() {
    for (auto& c : conns_)
        if (c.fd >= 0) close(c.fd);
    if (epoll_ >= 0) close(epoll_);
}

bool Publisher::open(std::string& error) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    bool ws = options_.publishVia == "ws";
    auto target = ipv4Address(options_.host, ws ? options_.wsPort : options_.backendPort);
    conns_.resize(options_.publishers);
    for (std::uint32_t i = 0; i < options_.publishers; ++i) {
        Connection& c = conns_[i];
        // Publishers come from 127.0.0.254, away from the subscribers' addresses.
        c.fd = startConnect(loopbackSource(253, 254), target);
        if (c.fd < 0) {
            error = std::string("publisher connect: ") + std::strerror(errno);
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    }
    // Wait for every connect (and WebSocket upgrade) with a 10 s budget.
    std::uint64_t deadline = nowNs() + 10'000'000'000ull;
    for (auto& c : conns_) {
        for (;;) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                error = std::string("publisher connect: ") + std::strerror(err);
                return false;
            }
            sockaddr_in peer{};
            socklen_t plen = sizeof peer;
            if (getpeername(c.fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) break;
            if (nowNs() > deadline) {
                error = "publisher connect timed out";
                return false;
            }
            timespec pause{0, 1'000'000};
            nanosleep(&pause, nullptr);
        }
        if (!ws) continue;
        c.out = upgradeRequest(options_.host, options_.wsPort, options_.wsPath);
        flush(c);
        for (;;) {
            char buf[4096];
            ssize_t n = recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) c.in.append(buf, static_cast<std::size_t>(n));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                error = "publisher upgrade: connection closed";
                return false;
            }
            std::size_t header = 0;
            auto r = parseUpgradeResponse(c.in, header);
            if (r == UpgradeResult::Accepted) {
                c.in.erase(0, header);
                break;
            }
            if (r == UpgradeResult::Refused || nowNs() > deadline) {
                error = "publisher upgrade refused: " + c.in.substr(0, c.in.find('\r'));
                return false;
            }
            timespec pause{0, 1'000'000};
            nanosleep(&pause, nullptr);
        }
    }
    return true;
}

std::uint32_t Publisher::pickChannel(std::uint64_t seq) {
    auto channels = static_cast<std::uint32_t>(subscribers_.empty() ? 1 : subscribers_.size());
    if (options_.pick == "random") return static_cast<std::uint32_t>(random_() % channels);
    return static_cast<std::uint32_t>(seq % channels);
}

std::string Publisher::requestFor(std::uint64_t seq, std::uint32_t channel, std::uint64_t now) {
    // The stamp goes first in the message so receivers find it early.
    std::string params = "{\"channel\":\"" + channelName(channel) + "\",\"message\":{\"bt\":" + std::to_string(now) +
                         ",\"s\":" + std::to_string(seq) + ",\"p\":" + padding_ + "}}";
    if (options_.publishVia == "ws") {
        std::string body = "{\"service\":\"" + options_.service + "\",\"message\":{\"command\":\"publish\",\"params\":" +
                           params + ",\"callId\":" + std::to_string(seq) + "}}";
        std::string frame;
        appendClientFrame(frame, opcode::kText, body, maskSeed_);
        return frame;
    }
    std::string body = "{\"service\":\"" + options_.backendService +
                       "\",\"message\":{\"command\":\"publish\",\"params\":" + params + "}}";
    return httpHead_ + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void Publisher::sendOne(Connection& c, std::uint64_t seq, std::uint64_t now) {
    std::uint32_t channel = pickChannel(seq);
    c.out += requestFor(seq, channel, now);
    c.pending.push_back({now, channel});
    ++result_.sent;
    flush(c);
}

void Publisher::flush(Connection& c) {
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) {
            drop(c, std::string("publisher send: ") + std::strerror(errno));
            return;
        }
        c.out.erase(0, static_cast<std::size_t>(n));
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Publisher::drop(Connection& c, const std::string& why) {
    if (result_.firstError.empty()) result_.firstError = why;
    result_.errors += c.pending.size();
    c.pending.clear();
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    c.dead = true;
}

void Publisher::answered(Connection& c, bool ok, const std::string& detail) {
    if (c.pending.empty()) {
        if (result_.firstError.empty()) result_.firstError = "answer without a request: " + detail;
        ++result_.errors;
        return;
    }
    Pending p = c.pending.front();
    c.pending.pop_front();
    std::uint64_t now = nowNs();
    result_.roundTrip.record(now - p.sentNs);
    result_.endNs = now;
    if (ok) {
        ++result_.ok;
        if (p.channel < subscribers_.size()) result_.expectedDeliveries += subscribers_[p.channel];
    } else {
        ++result_.errors;
        if (result_.firstError.empty()) result_.firstError = detail;
    }
}

void Publisher::onReadable(Connection& c) {
    char buf[65536];
    for (;;) {
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            drop(c, n == 0 ? "publisher connection closed by the server" : std::string("publisher recv: ") + std::strerror(errno));
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        if (!consume(c)) return;
        if (static_cast<std::size_t>(n) < sizeof buf) return;
    }
}

bool Publisher::consume(Connection& c) {
    std::size_t pos = 0;
    bool ws = options_.publishVia == "ws";
    while (pos < c.in.size()) {
        std::string_view rest(c.in.data() + pos, c.in.size() - pos);
        if (ws) {
            ServerFrame frame;
            auto r = parseServerFrame(rest, frame);
            if (r == ParseResult::Incomplete) break;
            if (r == ParseResult::Invalid || !frame.fin) {
                drop(c, "publisher: invalid frame from the server");
                return false;
            }
            pos += frame.size;
            if (frame.opcode == opcode::kPing) {
                appendClientFrame(c.out, opcode::kPong, frame.payload, maskSeed_);
                flush(c);
            } else if (frame.opcode == opcode::kClose) {
                drop(c, "publisher: close frame from the server");
                return false;
            } else if (frame.opcode == opcode::kText) {
                bool error = contains(frame.payload, kError);
                answered(c, !error, std::string(frame.payload.substr(0, 160)));
            }
            continue;
        }
        auto headEnd = rest.find("\r\n\r\n");
        if (headEnd == std::string_view::npos) break;
        std::string_view head = rest.substr(0, headEnd);
        std::string_view lengthText;
        std::size_t length = 0;
        if (headerValue(head, "Content-Length", lengthText)) length = std::stoul(std::string(lengthText));
        std::string_view chunked;
        if (headerValue(head, "Transfer-Encoding", chunked)) {
            drop(c, "publisher: chunked answers are not supported");
            return false;
        }
        if (rest.size() < headEnd + 4 + length) break;
        std::string_view body = rest.substr(headEnd + 4, length);
        bool ok = head.substr(0, 12) == "HTTP/1.1 200" && !contains(body, kError);
        answered(c, ok, std::string(head.substr(0, head.find('\r'))) + " " + std::string(body.substr(0, 160)));
        pos += headEnd + 4 + length;
    }
    c.in.erase(0, pos);
    return true;
}

PublishResult Publisher::run() {
    const bool unpaced = options_.rate <= 0;
    const double interval = unpaced ? 0 : 1e9 / options_.rate;
    const std::uint64_t start = nowNs();
    const std::uint64_t stop = start + static_cast<std::uint64_t>(options_.duration * 1e9);
    result_.startNs = start;
    std::uint64_t seq = 0;
    std::vector<epoll_event> events(64);
    auto anyPending = [&] {
        for (auto& c : conns_)
            if (!c.dead && !c.pending.empty()) return true;
        return false;
    };
    std::size_t next = 0;  // round robin over connections
    for (;;) {
        std::uint64_t now = nowNs();
        bool sending = now < stop;
        if (sending) {
            // Publishes due by now; a free connection (fewer than --inflight answers pending) takes each.
            std::uint64_t due = unpaced ? ~0ull : static_cast<std::uint64_t>(static_cast<double>(now - start) / interval) + 1;
            while (seq < due) {
                Connection* free = nullptr;
                for (std::size_t k = 0; k < conns_.size() && !free; ++k) {
                    Connection& c = conns_[(next + k) % conns_.size()];
                    if (!c.dead && c.pending.size() < options_.inflight) free = &c;
                }
                if (!free) break;
                next = static_cast<std::size_t>(free - conns_.data()) + 1;
                if (!unpaced && now - (start + static_cast<std::uint64_t>(static_cast<double>(seq) * interval)) > 1'000'000)
                    ++result_.late;  // more than 1 ms behind schedule
                sendOne(*free, seq++, now);
            }
        } else if (!anyPending() || now > stop + 10'000'000'000ull) {
            break;
        }
        bool allDead = true;
        for (auto& c : conns_) allDead = allDead && c.dead;
        if (allDead) break;
        // Sleep until the next publish is due, or an answer arrives.
        std::uint64_t wake = sending ? stop : stop + 10'000'000'000ull;
        if (sending && !unpaced) wake = std::min(wake, start + static_cast<std::uint64_t>(static_cast<double>(seq) * interval));
        timespec timeout{};
        std::uint64_t waitNs = wake > now ? wake - now : 0;
        timeout.tv_sec = static_cast<time_t>(waitNs / 1'000'000'000ull);
        timeout.tv_nsec = static_cast<long>(waitNs % 1'000'000'000ull);
        int n = epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; ++i) {
            Connection& c = conns_[events[static_cast<std::size_t>(i)].data.u64];
            if (c.dead) continue;
            if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) flush(c);
            if (!c.dead && (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) onReadable(c);
        }
    }
    for (auto& c : conns_) {
        if (!c.pending.empty()) {
            result_.errors += c.pending.size();
            if (result_.firstError.empty()) result_.firstError = "publishes left unanswered";
        }
    }
    return result_;
}

}  // namespace snorky::bench
