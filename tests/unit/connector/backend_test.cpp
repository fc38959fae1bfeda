#include "snorky/connector/backend.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;
using namespace snorky::connector;

namespace {
// Records what the Backend sent and answers a canned reply.
struct ScriptedTransport : Transport {
    json::value reply;
    std::vector<json::value> sent;
    json::value send(const json::value& envelope) override {
        sent.push_back(envelope);
        return reply;
    }
};

struct BackendCallTest : ::testing::Test {
    ScriptedTransport transport;
    Backend backend{transport};
    void answer(const char* replyJson) { transport.reply = json::parse(replyJson); }
};
}  // namespace

TEST_F(BackendCallTest, SendsTheEnvelopeAndReturnsData) {
    answer(R"({"service":"pubsub_backend","message":{"type":"response","data":{"n":[1,2]}}})");
    json::value data = backend.call("pubsub_backend", "publish", {{"channel", "news"}, {"message", "hi"}});
    EXPECT_EQ(data, json::parse(R"({"n":[1,2]})"));
    ASSERT_EQ(transport.sent.size(), 1u);
    EXPECT_EQ(transport.sent[0], json::parse(R"({"service":"pubsub_backend",
        "message":{"command":"publish","params":{"channel":"news","message":"hi"}}})"));
}

TEST_F(BackendCallTest, NullDataAndEmptyParams) {
    answer(R"({"service":"s","message":{"type":"response","data":null}})");
    EXPECT_EQ(backend.call("s", "ping"), nullptr);
    EXPECT_EQ(transport.sent[0].at("message").at("params"), json::object());
}

TEST_F(BackendCallTest, ErrorReplyThrowsSnorkyErrorWithTheExactMessage) {
    answer(R"({"service":"s","message":{"type":"error","callId":null,"message":"Unknown command"}})");
    try {
        backend.call("s", "nope");
        FAIL() << "no exception";
    } catch (const SnorkyError& e) {
        EXPECT_STREQ(e.what(), "Unknown command");
    }
}

TEST_F(BackendCallTest, MalformedRepliesAreTransportErrors) {
    for (const char* reply : {
             R"([1,2])",
             R"({"message":{"type":"response","data":1}})",
             R"({"service":"other","message":{"type":"response","data":1}})",
             R"({"service":"s","message":"text"})",
             R"({"service":"s"})",
             R"({"service":"s","message":{"data":1}})",
             R"({"service":"s","message":{"type":"response"}})",
             R"({"service":"s","message":{"type":"error"}})",
             R"({"service":"s","message":{"type":"message","channel":"x"}})",
         }) {
        answer(reply);
        try {
            backend.call("s", "c");
            ADD_FAILURE() << "no exception for " << reply;
        } catch (const TransportError& e) {
            EXPECT_EQ(e.kind(), TransportError::Kind::BadReply) << reply;
            EXPECT_NE(std::string(e.what()).find("unexpected reply"), std::string::npos) << e.what();
        } catch (const SnorkyError& e) {
            ADD_FAILURE() << "SnorkyError for " << reply;
        }
    }
}

TEST_F(BackendCallTest, RawSendReturnsTheWholeReply) {
    answer(R"({"service":"s","message":{"type":"note"}})");
    json::value envelope = json::parse(R"({"service":"s","message":{"anything":true}})");
    EXPECT_EQ(backend.send(envelope), transport.reply);
    EXPECT_EQ(transport.sent[0], envelope);
}
