#include "snorky/core/service_registry.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
class Recorder : public Service {
public:
    using Service::Service;
    void onMessage(const ClientPtr& c, json::value m) override {
        received.push_back(m);
        send(c, json::value{{"echo", m}});
    }
    void onConnect(const ClientPtr&) override { ++connects; }
    void onDisconnect(const ClientPtr&) override { ++disconnects; }
    std::vector<json::value> received;
    int connects = 0, disconnects = 0;
};
}  // namespace

TEST(ServiceRegistry, DispatchesByNameAndWrapsReplies) {
    TestNode t;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    t.registry.registerService(a);
    t.registry.registerService(b);
    auto client = FakeClient::make();
    t.registry.processMessage(client, R"({"service":"b","message":[1]})");
    EXPECT_TRUE(a->received.empty());
    ASSERT_EQ(b->received.size(), 1u);
    EXPECT_EQ(json::parse(client->frames.back()->payload()), json::parse(R"({"service":"b","message":{"echo":[1]}})"));
}

TEST(ServiceRegistry, RefusesDuplicateNamesAndUnregisters) {
    TestNode t;
    t.registry.registerService(std::make_shared<Recorder>("a"));
    EXPECT_THROW(t.registry.registerService(std::make_shared<Recorder>("a")), std::invalid_argument);
    EXPECT_TRUE(t.registry.unregisterService("a"));
    EXPECT_FALSE(t.registry.unregisterService("a"));
    EXPECT_EQ(t.registry.find("a"), nullptr);
}

TEST(ServiceRegistry, DropsUnknownServicesAndBadEnvelopes) {
    TestNode t;
    t.registry.registerService(std::make_shared<Recorder>("a"));
    auto client = FakeClient::make();
    t.registry.processMessage(client, R"({"service":"zzz","message":{}})");
    t.registry.processMessage(client, "not json");
    t.registry.processMessage(client, "42");
    t.registry.processMessage(client, R"({"service":"a"})");
    EXPECT_TRUE(client->frames.empty());
    ASSERT_EQ(client->drops.size(), 4u);
    EXPECT_EQ(client->drops[0], DropReason::UnknownService);
    EXPECT_EQ(client->drops[1], DropReason::InvalidJson);
    EXPECT_EQ(client->drops[2], DropReason::NotAnObject);
    EXPECT_EQ(client->drops[3], DropReason::MalformedEnvelope);
}

TEST(ServiceRegistry, TellsEveryServiceAboutConnectsAndDisconnects) {
    TestNode t;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    t.registry.registerService(a);
    t.registry.registerService(b);
    auto client = FakeClient::make();
    t.connect(client);
    t.disconnect(client);
    EXPECT_EQ(a->connects + b->connects, 2);
    EXPECT_EQ(a->disconnects + b->disconnects, 2);
}
