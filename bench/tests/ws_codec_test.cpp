#include "ws_codec.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace snorky::bench;

namespace {

// A server frame as the server writes it: FIN, opcode, unmasked length.
std::string serverFrame(std::uint8_t op, const std::string& payload) {
    std::string out;
    out.push_back(static_cast<char>(0x80 | op));
    std::size_t len = payload.size();
    if (len < 126) {
        out.push_back(static_cast<char>(len));
    } else if (len < 65536) {
        out.push_back(static_cast<char>(126));
        out.push_back(static_cast<char>(len >> 8));
        out.push_back(static_cast<char>(len & 0xff));
    } else {
        out.push_back(static_cast<char>(127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xff));
    }
    return out + payload;
}

// Decodes a client frame the way a server must (RFC 6455 5.3).
std::string unmaskClientFrame(const std::string& frame, std::uint8_t& op) {
    op = static_cast<std::uint8_t>(frame[0]) & 0x0f;
    EXPECT_TRUE(static_cast<std::uint8_t>(frame[0]) & 0x80);
    EXPECT_TRUE(static_cast<std::uint8_t>(frame[1]) & 0x80) << "client frames must be masked";
    std::size_t len = static_cast<std::uint8_t>(frame[1]) & 0x7f, pos = 2;
    if (len == 126) {
        len = (static_cast<std::size_t>(static_cast<std::uint8_t>(frame[2])) << 8) | static_cast<std::uint8_t>(frame[3]);
        pos = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<std::uint8_t>(frame[static_cast<std::size_t>(i)]);
        pos = 10;
    }
    std::string key = frame.substr(pos, 4);
    std::string payload = frame.substr(pos + 4);
    EXPECT_EQ(payload.size(), len);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i & 3]);
    return payload;
}

}  // namespace

TEST(WsCodec, ClientFramesAreMaskedAndDecodeToThePayloadAtEveryLengthForm) {
    std::uint32_t seed = 42;
    for (std::size_t len : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
        std::string payload(len, 'a');
        for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>('a' + i % 26);
        std::string frame;
        appendClientFrame(frame, opcode::kText, payload, seed);
        std::uint8_t op = 0;
        EXPECT_EQ(unmaskClientFrame(frame, op), payload) << "length " << len;
        EXPECT_EQ(op, opcode::kText);
    }
}

TEST(WsCodec, MaskKeysVaryFromFrameToFrame) {
    std::uint32_t seed = 1;
    std::string a, b;
    appendClientFrame(a, opcode::kText, "same", seed);
    appendClientFrame(b, opcode::kText, "same", seed);
    EXPECT_NE(a.substr(2, 4), b.substr(2, 4));
}

TEST(WsCodec, ParsesServerFramesAndWaitsForIncompleteOnes) {
    for (std::size_t len : {0u, 5u, 125u, 126u, 300u, 65535u, 65536u}) {
        std::string payload(len, 'x');
        std::string wire = serverFrame(opcode::kText, payload) + serverFrame(opcode::kPing, "p");
        ServerFrame frame;
        ASSERT_EQ(parseServerFrame(wire, frame), ParseResult::Frame) << len;
        EXPECT_TRUE(frame.fin);
        EXPECT_EQ(frame.opcode, opcode::kText);
        EXPECT_EQ(frame.payload.size(), len);
        ASSERT_EQ(parseServerFrame(std::string_view(wire).substr(frame.size), frame), ParseResult::Frame);
        EXPECT_EQ(frame.opcode, opcode::kPing);
        EXPECT_EQ(frame.payload, "p");
        std::size_t first = serverFrame(opcode::kText, payload).size();
        for (std::size_t cut : {std::size_t{0}, std::size_t{1}, first - 1}) {
            if (cut >= first) continue;
            EXPECT_EQ(parseServerFrame(std::string_view(wire).substr(0, cut), frame), ParseResult::Incomplete)
                << "length " << len << " cut " << cut;
        }
    }
}

TEST(WsCodec, RefusesMaskedOrExtendedServerFrames) {
    ServerFrame frame;
    std::string masked = "\x81\x81" "abcd" "x";
    EXPECT_EQ(parseServerFrame(masked, frame), ParseResult::Invalid);
    // RSV1 marks a permessage-deflate message (the worker refuses it when it
    // did not offer --deflate); RSV2 and RSV3 belong to no extension.
    std::string rsv1 = "\xC1\x01x";
    ASSERT_EQ(parseServerFrame(rsv1, frame), ParseResult::Frame);
    EXPECT_TRUE(frame.compressed);
    ASSERT_EQ(parseServerFrame("\x81\x01x", frame), ParseResult::Frame);
    EXPECT_FALSE(frame.compressed);
    EXPECT_EQ(parseServerFrame("\xA1\x01x", frame), ParseResult::Invalid);
    EXPECT_EQ(parseServerFrame("\x91\x01x", frame), ParseResult::Invalid);
}

TEST(WsCodec, UpgradeRequestOffersDeflateOnlyWhenAsked) {
    EXPECT_EQ(upgradeRequest("127.0.0.1", 5800, "/ws").find("Sec-WebSocket-Extensions"), std::string::npos);
    std::string offer = upgradeRequest("127.0.0.1", 5800, "/ws", true);
    EXPECT_NE(offer.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), std::string::npos);
    EXPECT_EQ(offer.substr(offer.size() - 4), "\r\n\r\n");
}

TEST(WsCodec, UpgradeNeedsStatus101AndTheAcceptKeyOfOurNonce) {
    std::size_t header = 0;
    std::string ok =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
    EXPECT_EQ(parseUpgradeResponse(ok, header), UpgradeResult::Accepted);
    EXPECT_EQ(ok.substr(header), "\x81\x02hi");
    EXPECT_EQ(parseUpgradeResponse(ok.substr(0, 40), header), UpgradeResult::Incomplete);
    std::string wrongKey = "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: AAAA\r\n\r\n";
    EXPECT_EQ(parseUpgradeResponse(wrongKey, header), UpgradeResult::Refused);
    std::string refused = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(parseUpgradeResponse(refused, header), UpgradeResult::Refused);
    std::string request = upgradeRequest("127.0.0.1", 5800, "/ws");
    EXPECT_NE(request.find("GET /ws HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(request.find("Host: 127.0.0.1:5800\r\n"), std::string::npos);
    EXPECT_NE(request.find("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
    EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
}
