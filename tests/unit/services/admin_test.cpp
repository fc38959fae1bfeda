#include "snorky/services/admin.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
using Closed = std::vector<std::pair<std::uint16_t, std::string>>;

struct AdminTest : ::testing::Test {
    TestNode t;
    std::shared_ptr<AdminService> admin = std::make_shared<AdminService>("admin");
    std::shared_ptr<AdminBackend> backend = std::make_shared<AdminBackend>("admin_backend", *admin);
    FakeClientPtr phone = FakeClient::make(json::parse(R"({"id":42})")),
                  laptop = FakeClient::make(json::parse(R"({"id":42})")),
                  other = FakeClient::make(json::parse(R"({"id":43})")), anonymous = FakeClient::make(),
                  server = FakeClient::make();
    void SetUp() override {
        t.registry.registerService(admin);
        t.registry.registerService(backend);
        for (const auto& c : {phone, laptop, other, anonymous}) t.connect(c);
    }
    json::value kick(json::object params) {
        t.call(server, "admin_backend", "disconnect", std::move(params));
        json::value reply = server->last();
        return reply.at("type") == "error" ? reply.at("message") : reply.at("data");
    }
};
}  // namespace

TEST_F(AdminTest, ClosesEveryConnectionOfTheIdentityAndNoOther) {
    EXPECT_EQ(kick({{"identity", json::parse(R"({"id":42})")}, {"reason", "Account suspended"}}), nullptr);
    EXPECT_EQ(phone->disconnects, (Closed{{4001, "Account suspended"}}));
    EXPECT_EQ(laptop->disconnects, (Closed{{4001, "Account suspended"}}));
    EXPECT_TRUE(other->disconnects.empty());
    EXPECT_TRUE(anonymous->disconnects.empty());
}

TEST_F(AdminTest, DefaultReasonAndTheReconnectCode) {
    kick({{"identity", json::parse(R"({"id":43})")}, {"reconnect", true}});
    EXPECT_EQ(other->disconnects, (Closed{{4000, "Disconnected by the server"}}));
}

TEST_F(AdminTest, GoneConnectionsAreForgotten) {
    t.disconnect(phone);
    EXPECT_EQ(admin->connectionCount(), 3u);
    kick({{"identity", json::parse(R"({"id":42})")}});
    EXPECT_TRUE(phone->disconnects.empty());
    EXPECT_EQ(laptop->disconnects.size(), 1u);
}

TEST_F(AdminTest, BadRequestsAreRefused) {
    EXPECT_EQ(kick({{"identity", nullptr}}), "Invalid identity");  // anonymous is nobody in particular
    EXPECT_EQ(kick({{"identity", 42}, {"reason", std::string(124, 'x')}}), "Invalid reason");
    EXPECT_EQ(kick({{"identity", 42}, {"reason", 7}}), "Invalid params");
    EXPECT_TRUE(anonymous->disconnects.empty());
    // Clients have no command at all on the frontend half.
    t.call(phone, "admin", "disconnect", {{"identity", 43}});
    EXPECT_EQ(phone->last().at("message"), "Unknown command");
    EXPECT_TRUE(other->disconnects.empty());
}
