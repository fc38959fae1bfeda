#include "snorky/envelope.hpp"

#include <gtest/gtest.h>

#include "snorky/frame.hpp"

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
