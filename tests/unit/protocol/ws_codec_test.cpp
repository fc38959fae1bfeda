#include "snorky/protocol/ws_codec.hpp"

#include <gtest/gtest.h>

using namespace snorky::ws;

namespace {
const std::uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
const std::uint8_t* bytes(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }
}  // namespace

TEST(WsCodec, AcceptKeyMatchesTheRfcExample) {
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsCodec, ParsesMaskedFramesOfEveryLengthClass) {
    for (std::size_t length : {0u, 5u, 125u, 126u, 300u, 65535u, 65536u, 100000u}) {
        std::string payload(length, 'a');
        std::string frame = clientFrame(Text, payload, kMask);
        FrameHeader h;
        ASSERT_EQ(parseClientHeader(bytes(frame), frame.size(), h), ParseResult::Ok) << length;
        EXPECT_EQ(h.payloadLength, length);
        EXPECT_EQ(h.headerLength + length, frame.size());
        EXPECT_TRUE(h.fin);
        EXPECT_EQ(h.opcode, Text);
        std::string body = frame.substr(h.headerLength);
        unmask(reinterpret_cast<std::uint8_t*>(body.data()), body.size(), h.mask);
        EXPECT_EQ(body, payload);
        // Every prefix of the header asks for more bytes.
        for (std::size_t cut = 0; cut < h.headerLength; ++cut)
            EXPECT_EQ(parseClientHeader(bytes(frame), cut, h), ParseResult::NeedMore) << cut;
    }
}

TEST(WsCodec, UnmaskInPiecesEqualsUnmaskAtOnce) {
    std::string data = "The quick brown fox jumps over the lazy dog";
    std::string whole = data, pieces = data;
    unmask(reinterpret_cast<std::uint8_t*>(whole.data()), whole.size(), kMask);
    unmask(reinterpret_cast<std::uint8_t*>(pieces.data()), 7, kMask, 0);
    unmask(reinterpret_cast<std::uint8_t*>(pieces.data() + 7), pieces.size() - 7, kMask, 7);
    EXPECT_EQ(whole, pieces);
}

TEST(WsCodec, RefusesUnmaskedReservedAndBadControlFrames) {
    FrameHeader h;
    const std::uint8_t unmasked[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    EXPECT_EQ(parseClientHeader(unmasked, sizeof unmasked, h), ParseResult::Invalid);
    std::string rsv = clientFrame(Text, "x", kMask);
    rsv[0] = static_cast<char>(rsv[0] | 0x40);
    EXPECT_EQ(parseClientHeader(bytes(rsv), rsv.size(), h), ParseResult::Invalid);
    std::string longPing = clientFrame(Ping, std::string(126, 'p'), kMask);
    EXPECT_EQ(parseClientHeader(bytes(longPing), longPing.size(), h), ParseResult::Invalid);
    std::string fragmentedClose = clientFrame(Close, "", kMask, false);
    EXPECT_EQ(parseClientHeader(bytes(fragmentedClose), fragmentedClose.size(), h), ParseResult::Invalid);
    std::string badOpcode = clientFrame(0x3, "", kMask);
    EXPECT_EQ(parseClientHeader(bytes(badOpcode), badOpcode.size(), h), ParseResult::Invalid);
}

TEST(WsCodec, ClosePayloadCarriesCodeAndReason) {
    std::string p = closePayload(1009, "too big");
    ASSERT_EQ(p.size(), 9u);
    EXPECT_EQ(static_cast<std::uint8_t>(p[0]), 0x03);
    EXPECT_EQ(static_cast<std::uint8_t>(p[1]), 0xf1);
    EXPECT_EQ(p.substr(2), "too big");
}

TEST(WsCodec, CloseRepliesEchoValidCodesAndRefuseTheRest) {
    auto payload = [](int code, std::string reason = "") {
        return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)} + reason;
    };
    EXPECT_EQ(closeReply(""), Normal);  // no code given
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
        EXPECT_EQ(closeReply(payload(code, "bye")), code) << code;
    // Reserved or never sent on the wire (1005, 1006, 1015), unassigned, or out of range.
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535})
        EXPECT_EQ(closeReply(payload(code)), ProtocolError) << code;
    EXPECT_EQ(closeReply(std::string(1, '\x03')), ProtocolError);  // a 1-byte payload
    EXPECT_EQ(closeReply(payload(1000, "caf\xc3\xa9")), 1000);
    EXPECT_EQ(closeReply(payload(1000, "\xff")), ProtocolError);    // reason not UTF-8
    EXPECT_EQ(closeReply(payload(1000, "\xed\xa0\x80")), ProtocolError);
}

TEST(WsCodec, Rsv1MarksTheFirstFrameOfACompressedMessageOnlyWhenDeflateIsAgreed) {
    auto withBits = [](std::uint8_t opcode, bool fin, std::uint8_t bits) {
        std::string frame = clientFrame(opcode, "x", kMask, fin);
        frame[0] = static_cast<char>(frame[0] | bits);
        return frame;
    };
    FrameHeader h;
    std::string text = withBits(Text, true, 0x40);
    ASSERT_EQ(parseClientHeader(bytes(text), text.size(), h, true), ParseResult::Ok);
    EXPECT_TRUE(h.compressed);
    std::string first = withBits(Text, false, 0x40);
    ASSERT_EQ(parseClientHeader(bytes(first), first.size(), h, true), ParseResult::Ok);
    EXPECT_TRUE(h.compressed);
    EXPECT_FALSE(h.fin);
    std::string plain = clientFrame(Text, "x", kMask);
    ASSERT_EQ(parseClientHeader(bytes(plain), plain.size(), h, true), ParseResult::Ok);
    EXPECT_FALSE(h.compressed);
    // Not agreed: RSV1 is a protocol error, as before.
    EXPECT_EQ(parseClientHeader(bytes(text), text.size(), h, false), ParseResult::Invalid);
    // Never on a continuation or a control frame (RFC 7692 6.1), never RSV2/RSV3.
    for (auto frame : {withBits(Continuation, true, 0x40), withBits(Ping, true, 0x40), withBits(Close, true, 0x40),
                       withBits(Pong, true, 0x40), withBits(Text, true, 0x20), withBits(Text, true, 0x10),
                       withBits(Text, true, 0x60)})
        EXPECT_EQ(parseClientHeader(bytes(frame), frame.size(), h, true), ParseResult::Invalid);
}
