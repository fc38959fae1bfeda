#pragma once
// Test doubles for services: a client that records what it was sent, timers
// and a clock driven by hand, and a node wired to the in-memory broker.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "snorky/core/client.hpp"
#include "snorky/core/clock.hpp"
#include "snorky/core/memory_broker.hpp"
#include "snorky/core/memory_cluster_state.hpp"
#include "snorky/core/node.hpp"
#include "snorky/core/service_registry.hpp"
#include "snorky/core/timers.hpp"
#include "snorky/protocol/envelope.hpp"

namespace snorky::testing {

class FakeClient : public Client {
public:
    explicit FakeClient(std::string address = "127.0.0.1:1000") : Client(std::move(address)) {}

    static std::shared_ptr<FakeClient> make(json::value identity = nullptr) {
        auto client = std::make_shared<FakeClient>();
        client->setIdentity(std::move(identity));
        return client;
    }

    void send(const FramePtr& frame) override { frames.push_back(frame); }
    void onDropped(DropReason reason) override { drops.push_back(reason); }
    void disconnect(std::uint16_t code, std::string_view reason) override {
        disconnects.emplace_back(code, std::string(reason));
    }

    // Every envelope received so far, parsed.
    std::vector<json::value> envelopes() const {
        std::vector<json::value> out;
        for (auto& f : frames) out.push_back(json::parse(f->payload()));
        return out;
    }
    // The "message" parts, parsed; clears them when `take` is true.
    std::vector<json::value> messages(bool take = true) {
        std::vector<json::value> out;
        for (auto& f : frames) out.push_back(json::parse(f->payload()).as_object().at("message"));
        if (take) frames.clear();
        return out;
    }
    // The last message received (must exist).
    json::value last() const { return json::parse(frames.back()->payload()).as_object().at("message"); }

    std::vector<FramePtr> frames;
    std::vector<DropReason> drops;
    std::vector<std::pair<std::uint16_t, std::string>> disconnects;  // what disconnect() was asked
};
using FakeClientPtr = std::shared_ptr<FakeClient>;

// Timers and the clock they keep, both moved by hand: advance() moves time
// and fires what is due, each timer seeing the clock at its own due time.
class ManualTimers : public Timers, public Clock {
public:
    Handle schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
        Handle h = ++last_;
        pending_.emplace(h, Entry{now_ + delay, std::move(fn)});
        return h;
    }
    void cancel(Handle h) override { pending_.erase(h); }
    // Moves time forward, firing due timers in order (timers they schedule
    // fire too when due before the end).
    void advance(std::chrono::milliseconds by) {
        const std::chrono::milliseconds end = now_ + by;
        while (true) {
            auto due = pending_.end();
            for (auto it = pending_.begin(); it != pending_.end(); ++it)
                if (it->second.at <= end && (due == pending_.end() || it->second.at < due->second.at)) due = it;
            if (due == pending_.end()) break;
            now_ = std::max(now_, due->second.at);
            auto fn = std::move(due->second.fn);
            pending_.erase(due);
            fn();
        }
        now_ = end;
    }
    std::size_t pendingCount() const { return pending_.size(); }

    // Time since the start, and the calendar time it started at.
    std::chrono::milliseconds elapsed() const { return now_; }
    void startWallClockAt(std::chrono::system_clock::time_point start) { wallStart_ = start; }
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::time_point(now_); }
    std::chrono::system_clock::time_point wallNow() const override { return wallStart_ + now_; }

private:
    struct Entry {
        std::chrono::milliseconds at;
        std::function<void()> fn;
    };
    std::chrono::milliseconds now_{0};
    std::chrono::system_clock::time_point wallStart_{std::chrono::milliseconds(1'700'000'000'000)};  // 2023-11-14
    Handle last_ = 0;
    std::map<Handle, Entry> pending_;
};

// A node with the in-memory engine (or the parts given), hand-driven timers
// that are also its clock, plus a registry.
struct TestNode {
    explicit TestNode(Engine engine = Engine::memory()) : node(std::move(engine), timers, timers) {}

    ManualTimers timers;
    Node node;
    ServiceRegistry registry{"test", node};

    // Sends an RPC call the way a transport would and returns nothing; read
    // the reply from the client.
    void call(const ClientPtr& client, std::string_view service, std::string_view command, json::object params,
              json::value callId = 1) {
        json::object message{{"command", command}, {"params", std::move(params)}, {"callId", std::move(callId)}};
        registry.processMessage(client, serializeEnvelope(service, message));
    }
    void connect(const ClientPtr& client) { registry.clientConnected(client); }
    void disconnect(const ClientPtr& client) { registry.clientDisconnected(client); }
};

}  // namespace snorky::testing
