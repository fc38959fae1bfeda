#include "snorky/core/rpc_service.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {

class Calculator : public RpcService {
public:
    Calculator() : RpcService("calc") {
        command("sum", {required("a", ParamType::Number), required("b", ParamType::Number)},
                [](Request& r) { return r.number("a") + r.number("b"); });
        command("twice", {required("n", ParamType::Integer), optional("times", ParamType::Integer, 2)},
                [](Request& r) { return r.integer("n") * r.integer("times"); });
        command("nothing", {}, [](Request&) {});
        command("fail", {}, [](Request&) -> json::value { throw RpcError("Custom failure"); });
        command("crash", {}, [](Request&) -> json::value { throw std::runtime_error("secret detail"); });
        asyncCommand("later", {}, [this](const RequestPtr& r) { pending = r; });
        asyncCommand("forget", {}, [](const RequestPtr&) {});
    }
    RequestPtr pending;
};

struct RpcTest : ::testing::Test {
    TestNode t;
    std::shared_ptr<Calculator> calc = std::make_shared<Calculator>();
    FakeClientPtr client = FakeClient::make();
    void SetUp() override { t.registry.registerService(calc); }
};

}  // namespace

TEST_F(RpcTest, SyncCommandRepliesWithDataAndCallId) {
    t.call(client, "calc", "sum", {{"a", 2}, {"b", 3.5}}, "abc");
    EXPECT_EQ(client->last(), json::parse(R"({"type":"response","callId":"abc","data":5.5})"));
    EXPECT_EQ(json::parse(client->frames.back()->payload()).at("service"), "calc");
}

TEST_F(RpcTest, ResponseOmitsCallIdWhenAbsentButErrorsCarryNull) {
    t.registry.processMessage(client, R"({"service":"calc","message":{"command":"nothing","params":{}}})");
    EXPECT_EQ(client->last(), json::parse(R"({"type":"response","data":null})"));
    t.registry.processMessage(client, R"({"service":"calc","message":{"command":"nope","params":{}}})");
    EXPECT_EQ(client->last(), json::parse(R"({"type":"error","callId":null,"message":"Unknown command"})"));
}

TEST_F(RpcTest, OptionalParamsTakeTheirDefault) {
    t.call(client, "calc", "twice", {{"n", 4}});
    EXPECT_EQ(client->last().at("data"), 8);
    t.call(client, "calc", "twice", {{"n", 4}, {"times", 3}});
    EXPECT_EQ(client->last().at("data"), 12);
}

TEST_F(RpcTest, InvalidParams) {
    for (auto params : {json::object{{"a", 1}}, json::object{{"a", 1}, {"b", "2"}},
                        json::object{{"a", 1}, {"b", 2}, {"c", 3}}}) {
        t.call(client, "calc", "sum", params, 9);
        EXPECT_EQ(client->last(), json::parse(R"({"type":"error","callId":9,"message":"Invalid params"})"));
    }
    t.call(client, "calc", "twice", {{"n", 1.5}});
    EXPECT_EQ(client->last().at("message"), "Invalid params");
}

TEST_F(RpcTest, IntegerParamsOutOfInt64RangeAreInvalidNotConverted) {
    // 1e300 and 2^63 as doubles do not fit an int64 (converting them is
    // undefined behaviour); 2^64-1 is a uint64 that does not fit either.
    for (const char* n : {"1e300", "-1e300", "9223372036854775808.0", "9223372036854775808", "18446744073709551615"}) {
        t.call(client, "calc", "twice", {{"n", json::parse(n)}, {"times", 1}});
        EXPECT_EQ(client->last().at("message"), "Invalid params") << n;
    }
    t.call(client, "calc", "twice", {{"n", json::parse("1e15")}, {"times", 1}});
    EXPECT_EQ(client->last().at("data"), 1'000'000'000'000'000);
    t.call(client, "calc", "twice", {{"n", json::parse("-9223372036854775808.0")}, {"times", 1}});
    EXPECT_EQ(client->last().at("data"), INT64_MIN);
}

TEST_F(RpcTest, CustomAndInternalErrors) {
    t.call(client, "calc", "fail", {});
    EXPECT_EQ(client->last().at("message"), "Custom failure");
    t.call(client, "calc", "crash", {});
    EXPECT_EQ(client->last().at("message"), "Internal error");
}

TEST_F(RpcTest, AsyncCommandResolvesLaterExactlyOnce) {
    t.call(client, "calc", "later", {}, 7);
    EXPECT_TRUE(client->frames.empty());
    ASSERT_TRUE(calc->pending);
    calc->pending->resolve("done");
    calc->pending->resolve("again");
    calc->pending->reject("too late");
    ASSERT_EQ(client->frames.size(), 1u);
    EXPECT_EQ(client->last(), json::parse(R"({"type":"response","callId":7,"data":"done"})"));
}

TEST_F(RpcTest, AsyncRequestDroppedUnresolvedAnswersInternalError) {
    t.call(client, "calc", "forget", {}, 3);
    ASSERT_EQ(client->frames.size(), 1u);
    EXPECT_EQ(client->last().at("message"), "Internal error");
}

TEST_F(RpcTest, MalformedRpcMessagesAreDroppedWithoutReply) {
    for (const char* text : {R"({"service":"calc","message":{"params":{}}})",
                             R"({"service":"calc","message":{"command":"sum"}})",
                             R"({"service":"calc","message":{"command":5,"params":{}}})",
                             R"({"service":"calc","message":{"command":"sum","params":[]}})",
                             R"({"service":"calc","message":"sum"})"}) {
        t.registry.processMessage(client, text);
    }
    EXPECT_TRUE(client->frames.empty());
    EXPECT_EQ(client->drops.size(), 5u);
    EXPECT_EQ(t.node.metrics().messagesDropped, 5u);
}
