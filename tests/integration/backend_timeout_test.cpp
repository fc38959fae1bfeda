// The backend's answers when a service takes its time: 504 after the request
// timeout, and a graceful shutdown that waits for requests still in flight.
// The server runs in-process here (the C++ API), with a service that keeps
// its requests until the test resolves them.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "snorky/core/rpc_service.hpp"
#include "snorky/transport/server.hpp"
#include "support/clients.hpp"
#include "support/probes.hpp"

using namespace snorky::it;

namespace {
class Holding : public snorky::RpcService {
public:
    Holding() : RpcService("holding") {
        asyncCommand("wait", {}, [this](const snorky::RequestPtr& r) { held.push_back(r); });
    }
    std::vector<snorky::RequestPtr> held;
};

struct InProcess {
    snorky::Server server{1};
    std::shared_ptr<Holding> holding = std::make_shared<Holding>();
    int port = 0;
    explicit InProcess(std::chrono::seconds requestTimeout) {
        auto& backend = server.registry("backend");
        backend.registerService(holding);
        server.listenBackend(backend, {.address = "127.0.0.1", .port = 0, .key = "swordfish", .requestTimeout = requestTimeout});
        port = server.endpoints().at(0).port;
        server.start();
    }
    ~InProcess() {
        server.stop();
        server.wait();
    }
    std::size_t heldCount() {
        std::lock_guard guard(server.node().serviceLock());
        return holding->held.size();
    }
};

const std::string kWait = R"({"service":"holding","message":{"command":"wait","params":{},"callId":1}})";
}  // namespace

TEST(BackendTimeout, AServiceThatNeverAnswersGets504) {
    InProcess snorky(std::chrono::seconds(1));
    auto started = std::chrono::steady_clock::now();
    HttpResponse reply = httpPost(snorky.port, "/backend", kWait, {{"X-Backend-Key", "swordfish"}});
    EXPECT_EQ(reply.status, 504);
    EXPECT_EQ(reply.json(), json::parse(R"({"error":"Service did not answer in time"})"));
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
    // A late answer after the 504 goes nowhere and breaks nothing.
    {
        std::lock_guard guard(snorky.server.node().serviceLock());
        snorky.holding->held.at(0)->resolve("late");
    }
}

TEST(BackendTimeout, ShutdownWaitsForRequestsInFlight) {
    auto snorky = std::make_unique<InProcess>(std::chrono::seconds(30));
    auto reply = std::async(std::launch::async, [&] {
        return httpPost(snorky->port, "/backend", kWait, {{"X-Backend-Key", "swordfish"}});
    });
    ASSERT_TRUE(waitUntil([&] { return snorky->heldCount() > 0; }));
    snorky->server.stop();  // graceful: the in-flight request still gets its answer
    std::thread shutdown([&] { snorky->server.wait(); });
    // A negative check: shutting down neither answers nor cuts the request.
    EXPECT_EQ(reply.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
    {
        std::lock_guard guard(snorky->server.node().serviceLock());
        snorky->holding->held.at(0)->resolve("done");
    }
    HttpResponse answer = reply.get();
    shutdown.join();
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.json().at("message"), json::parse(R"({"type":"response","callId":1,"data":"done"})"));
}
