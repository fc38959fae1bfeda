#include "snorky/protocol/envelope.hpp"

#include <gtest/gtest.h>

#include "snorky/protocol/frame.hpp"

#include <limits>

using namespace snorky;

TEST(Envelope, ParsesServiceAndMessage) {
    auto parsed = parseEnvelope(R"({"service":"pubsub","message":{"command":"x"}})");
    auto* envelope = std::get_if<Envelope>(&parsed);
    ASSERT_NE(envelope, nullptr);
    EXPECT_EQ(envelope->service, "pubsub");
    EXPECT_EQ(envelope->message, json::parse(R"({"command":"x"})"));
}

TEST(Envelope, RefusesWhatIsNotAnEnvelope) {
    EXPECT_EQ(std::get<DropReason>(parseEnvelope("{nope")), DropReason::InvalidJson);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope("")), DropReason::InvalidJson);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope("42")), DropReason::NotAnObject);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope("null")), DropReason::NotAnObject);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope("[1]")), DropReason::NotAnObject);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope(R"({"message":1})")), DropReason::MalformedEnvelope);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope(R"({"service":"a"})")), DropReason::MalformedEnvelope);
    EXPECT_EQ(std::get<DropReason>(parseEnvelope(R"({"service":5,"message":1})")), DropReason::MalformedEnvelope);
}

TEST(Envelope, SerializesServiceFirst) {
    EXPECT_EQ(serializeEnvelope("a\"b", json::parse("[1,2]")), R"({"service":"a\"b","message":[1,2]})");
}

TEST(Frame, SmallTextFrameHasTwoByteHeader) {
    auto frame = Frame::text("hello");
    ASSERT_EQ(frame->wire().size(), 7u);
    EXPECT_EQ(static_cast<unsigned char>(frame->wire()[0]), 0x81);
    EXPECT_EQ(static_cast<unsigned char>(frame->wire()[1]), 5);
    EXPECT_EQ(frame->payload(), "hello");
    EXPECT_EQ(frame->opcode(), 1);
}

TEST(Frame, MediumAndLargeLengthsUseExtendedHeaders) {
    auto medium = Frame::text(std::string(300, 'x'));
    ASSERT_EQ(medium->wire().size(), 304u);
    EXPECT_EQ(static_cast<unsigned char>(medium->wire()[1]), 126);
    EXPECT_EQ(static_cast<unsigned char>(medium->wire()[2]), 1);
    EXPECT_EQ(static_cast<unsigned char>(medium->wire()[3]), 44);
    auto large = Frame::text(std::string(70000, 'y'));
    ASSERT_EQ(large->wire().size(), 70010u);
    EXPECT_EQ(static_cast<unsigned char>(large->wire()[1]), 127);
    EXPECT_EQ(large->payload().size(), 70000u);
}

TEST(Frame, EnvelopeFrameCarriesTheEnvelope) {
    auto frame = Frame::envelope("pubsub", json::parse(R"({"type":"message"})"));
    EXPECT_EQ(frame->payload(), R"({"service":"pubsub","message":{"type":"message"}})");
}

TEST(Envelope, NumbersBeyondDoubleRangeAreRefused) {
    // Boost.JSON parses these as infinity, which has no JSON text: passed on,
    // they would reach every subscriber as a frame no JSON parser accepts.
    for (std::string text : {std::string(R"({"service":"pubsub","message":1e400})"),
                             std::string(R"({"service":"pubsub","message":{"params":{"message":[1,-1e400]}}})"),
                             R"({"service":"pubsub","message":{"channel":)" + ("1" + std::string(400, '0')) + "}}",
                             std::string(R"({"service":"pubsub","message":{},"extra":1E999})")}) {
        auto parsed = parseEnvelope(text);
        ASSERT_TRUE(std::holds_alternative<DropReason>(parsed)) << text;
        EXPECT_EQ(std::get<DropReason>(parsed), DropReason::NumberOutOfRange) << text;
    }
    // The largest doubles are fine.
    EXPECT_TRUE(std::holds_alternative<Envelope>(parseEnvelope(R"({"service":"a","message":[1.7976931348623157e308,-1e-400]})")));
}

TEST(Envelope, SerializedEnvelopesNeverCarryNonFiniteNumbers) {
    json::object message{{"n", std::numeric_limits<double>::infinity()}, {"ok", 1.5}};
    std::string expected = R"({"service":"s","message":{"n":null,"ok":1.5E0}})";
    EXPECT_EQ(serializeEnvelope("s", message), expected);
    EXPECT_EQ(Frame::envelope("s", message)->payload(), expected);
}
