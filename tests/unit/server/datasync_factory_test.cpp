#include <gtest/gtest.h>

#include <map>

#include "server/service_factory.hpp"
#include "snorky/services/datasync/datasync_service.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {

struct Built : ServiceLookup {
    std::map<std::string, ServicePtr> services;
    Service& service(const std::string& name, const Options& context) override {
        auto it = services.find(name);
        if (it == services.end()) context.fail("no service named '" + name + "'");
        return *it->second;
    }
    ServicePtr build(const std::string& type, const std::string& name, const char* options) {
        Options o(json::parse(options).as_object(), "test.toml: service '" + name + "'");
        ServicePtr s = ServiceFactory::builtin().build(type, name, o, *this);
        services[name] = s;
        return s;
    }
    std::string error(const std::string& type, const char* options) {
        try {
            build(type, "bad", options);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }
};

}  // namespace

TEST(DataSyncFactory, BuildsServiceWithDealersAndBackend) {
    Built built;
    auto service = built.build("datasync", "datasync", R"({
        "acquire_timeout": 0.25, "max_buffered_deltas": 5, "max_items_per_subscription": 6,
        "max_subscriptions_per_client": 7, "max_pending_subscriptions": 8,
        "dealer": [{"name": "all", "model": "task", "kind": "broadcast"},
                   {"name": "byOwner", "model": "task", "kind": "simple", "key": "owner.id"},
                   {"name": "tasks", "model": "task", "kind": "filter"}]})");
    auto& datasync = dynamic_cast<DataSyncService&>(*service);
    EXPECT_EQ(datasync.options().acquireTimeout, std::chrono::milliseconds(250));
    EXPECT_EQ(datasync.options().maxBufferedDeltas, 5u);
    EXPECT_EQ(datasync.options().maxItemsPerSubscription, 6u);
    EXPECT_EQ(datasync.options().maxSubscriptionsPerClient, 7u);
    EXPECT_EQ(datasync.options().maxPendingSubscriptions, 8u);
    EXPECT_NE(dynamic_cast<datasync::BroadcastDealer*>(datasync.findDealer("all")), nullptr);
    auto* simple = dynamic_cast<datasync::SimpleDealer*>(datasync.findDealer("byOwner"));
    ASSERT_NE(simple, nullptr);
    EXPECT_EQ(simple->keyPath(), "owner.id");
    EXPECT_NE(dynamic_cast<datasync::FilterDealer*>(datasync.findDealer("tasks")), nullptr);
    auto backend = built.build("datasync_backend", "datasync_backend", R"({"datasync": "datasync"})");
    EXPECT_NE(dynamic_cast<DataSyncBackend*>(backend.get()), nullptr);
}

TEST(DataSyncFactory, DefaultsAreDocumentedValues) {
    Built built;
    auto service = built.build("datasync", "d", R"({"dealer": [{"name": "a", "model": "m", "kind": "filter"}]})");
    const auto& options = dynamic_cast<DataSyncService&>(*service).options();
    EXPECT_EQ(options.acquireTimeout, std::chrono::seconds(120));
    EXPECT_EQ(options.maxBufferedDeltas, 1000u);
}

TEST(DataSyncFactory, ClearErrors) {
    Built built;
    auto has = [](const std::string& error, const char* part) {
        return error.find(part) != std::string::npos ? ::testing::AssertionSuccess()
                                                     : ::testing::AssertionFailure() << error;
    };
    EXPECT_TRUE(has(built.error("datasync", "{}"), "needs dealers"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": {"name": "a"}})"), "must be an array of tables"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"model": "m", "kind": "filter"}]})"),
                    "dealer #1: option 'name' is required"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"name": "a", "kind": "filter"}]})"), "'model' is required"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"name": "a", "model": "m", "kind": "fancy"}]})"),
                    "kind must be \"broadcast\", \"simple\" or \"filter\""));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"name": "a", "model": "m", "kind": "simple"}]})"),
                    "option 'key' is required"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"name": "a", "model": "m", "kind": "filter", "key": "x"}]})"),
                    "unknown option 'key'"));
    EXPECT_TRUE(has(built.error("datasync", R"({"dealer": [{"name": "a", "model": "m", "kind": "filter"},
                                                           {"name": "a", "model": "n", "kind": "broadcast"}]})"),
                    "two dealers are named 'a'"));
    EXPECT_TRUE(has(built.error("datasync", R"({"acquire_timeout": 0, "dealer": [{"name": "a", "model": "m", "kind": "filter"}]})"),
                    "acquire_timeout"));
    EXPECT_TRUE(has(built.error("datasync", R"({"max_buffered_deltas": 0, "dealer": [{"name": "a", "model": "m", "kind": "filter"}]})"),
                    "max_buffered_deltas"));
    EXPECT_TRUE(has(built.error("datasync", R"({"bogus": 1, "dealer": [{"name": "a", "model": "m", "kind": "filter"}]})"),
                    "unknown option 'bogus'"));
    EXPECT_TRUE(has(built.error("datasync_backend", R"({"datasync": "missing"})"), "no service named 'missing'"));
    built.build("pubsub", "ps", "{}");
    EXPECT_TRUE(has(built.error("datasync_backend", R"({"datasync": "ps"})"), "is not a datasync service"));
}
