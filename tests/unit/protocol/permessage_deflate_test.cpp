// permessage-deflate: negotiation of offers, and messages compressed and
// inflated as RFC 7692 describes (checked against zlib used directly).
#include "snorky/protocol/permessage_deflate.hpp"

#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/ws_codec.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

using namespace snorky::ws;

namespace {
// What a client with context takeover would do: one raw deflate stream kept
// across messages, each ended by a sync flush with the 4-byte tail removed.
struct ClientDeflater {
    z_stream z{};
    explicit ClientDeflater(int bits = 15) { deflateInit2(&z, 6, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY); }
    ~ClientDeflater() { deflateEnd(&z); }
    std::string message(std::string_view text, bool final = false) {
        std::string out(text.size() + 64, '\0');
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
        z.avail_in = static_cast<uInt>(text.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        EXPECT_NE(deflate(&z, final ? Z_FINISH : Z_SYNC_FLUSH), Z_STREAM_ERROR);
        out.resize(out.size() - z.avail_out);
        if (!final) out.resize(out.size() - 4);
        return out;
    }
};

std::string inflateRaw(std::string compressed, int bits = 15) {
    compressed.append("\x00\x00\xff\xff", 4);
    z_stream z{};
    inflateInit2(&z, -bits);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(compressed.data());
    z.avail_in = static_cast<uInt>(compressed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&z, Z_SYNC_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << rc;
    out.resize(out.size() - z.avail_out);
    inflateEnd(&z);
    return out;
}

std::string json(std::size_t size) {
    std::string s = R"({"service":"pubsub","message":{"type":"message","channel":"prices","data":[)";
    std::mt19937 random(7);
    while (s.size() + 40 < size) s += R"({"symbol":"ABC","price":)" + std::to_string(random() % 10000) + "},";
    s += "0]}}";
    return s;
}
}  // namespace

TEST(PermessageDeflate, AcceptsTheOffersOfChromiumAndWs) {
    for (const char* offer : {"permessage-deflate; client_max_window_bits",
                              "permessage-deflate", "x-webkit-deflate-frame, permessage-deflate"}) {
        auto a = negotiateDeflate(offer);
        EXPECT_TRUE(a.accepted) << offer;
        EXPECT_EQ(a.response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover") << offer;
        EXPECT_EQ(a.maxCompressedPayload, SIZE_MAX);
    }
}

TEST(PermessageDeflate, EchoesServerMaxWindowBitsAndLimitsCompressedPayloads) {
    auto a = negotiateDeflate("permessage-deflate; server_max_window_bits=10; client_no_context_takeover");
    ASSERT_TRUE(a.accepted);
    EXPECT_EQ(a.response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                          "server_max_window_bits=10");
    EXPECT_EQ(a.maxCompressedPayload, 1024u);
    auto quoted = negotiateDeflate(R"(permessage-deflate; server_max_window_bits="9")");
    ASSERT_TRUE(quoted.accepted);
    EXPECT_EQ(quoted.maxCompressedPayload, 512u);
}

TEST(PermessageDeflate, DeclinesOffersItCannotHonourAndTakesTheNextOne) {
    for (const char* offer : {"permessage-deflate; server_max_window_bits",       // value required
                              "permessage-deflate; server_max_window_bits=7",     // out of range
                              "permessage-deflate; server_max_window_bits=16",
                              "permessage-deflate; server_max_window_bits=010",   // leading zero
                              "permessage-deflate; client_max_window_bits=abc",
                              "permessage-deflate; server_no_context_takeover=1", // takes no value
                              "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                              "permessage-deflate; mystery", "permessage-deflate;", "deflate-frame", ""}) {
        EXPECT_FALSE(negotiateDeflate(offer).accepted) << offer;
    }
    auto second = negotiateDeflate("permessage-deflate; mystery=1, permessage-deflate; server_max_window_bits=12");
    ASSERT_TRUE(second.accepted);
    EXPECT_EQ(second.maxCompressedPayload, 4096u);
}

TEST(PermessageDeflate, CompressedMessagesInflateWithPlainZlib) {
    std::string payload = json(2000);
    std::string compressed;
    ASSERT_TRUE(deflateMessage(payload, compressed));
    EXPECT_LT(compressed.size(), payload.size() / 2);
    EXPECT_EQ(inflateRaw(compressed), payload);
    // No context is carried over: the same message compresses the same way again.
    std::string again;
    ASSERT_TRUE(deflateMessage(payload, again));
    EXPECT_EQ(again, compressed);
}

TEST(PermessageDeflate, AMessageNoLongerThanTheClientWindowInflatesWithThatWindow) {
    std::string payload = json(500);
    ASSERT_LE(payload.size(), 512u);
    std::string compressed;
    ASSERT_TRUE(deflateMessage(payload, compressed));
    EXPECT_EQ(inflateRaw(compressed, 9), payload);
}

TEST(PermessageDeflate, LeavesIncompressiblePayloadsAlone) {
    std::string noise;
    std::mt19937 random(1);
    for (int i = 0; i < 300; ++i) noise += static_cast<char>(random());
    std::string out = "kept";
    EXPECT_FALSE(deflateMessage(noise, out));
    EXPECT_FALSE(deflateMessage("", out));
    EXPECT_EQ(out, "kept");
}

TEST(PermessageDeflate, InflatesClientMessages) {
    ClientDeflater client;
    std::string first = json(3000);
    std::string out = "x";
    ASSERT_EQ(inflateMessage(client.message(first), 64 * 1024, out), InflateResult::Ok);
    EXPECT_EQ(out, "x" + first);
    // A final block (BFINAL) is a valid message too.
    ClientDeflater finishing;
    out.clear();
    ASSERT_EQ(inflateMessage(finishing.message("hello", true), 100, out), InflateResult::Ok);
    EXPECT_EQ(out, "hello");
    // The empty message: a client sends a single 0x00 byte for it.
    out.clear();
    ASSERT_EQ(inflateMessage(std::string_view("\x00", 1), 100, out), InflateResult::Ok);
    EXPECT_EQ(out, "");
}

TEST(PermessageDeflate, ABombStopsAtTheLimitWithoutAllocatingItsSize) {
    // 2 MB of zeros compress to about 2 KB.
    std::string zeros(2 * 1024 * 1024, '\0');
    ClientDeflater client;
    std::string bomb = client.message(zeros);
    ASSERT_LT(bomb.size(), 20000u);
    std::string out;
    EXPECT_EQ(inflateMessage(bomb, 64 * 1024, out), InflateResult::TooBig);
    EXPECT_TRUE(out.empty());
    EXPECT_LT(out.capacity(), 256u * 1024);  // never grew towards 2 MB
    // Exactly at the limit is fine; one byte over is not.
    ClientDeflater exact;
    ASSERT_EQ(inflateMessage(exact.message(std::string(1000, 'a')), 1000, out), InflateResult::Ok);
    EXPECT_EQ(out.size(), 1000u);
    out.clear();
    ClientDeflater over;
    EXPECT_EQ(inflateMessage(over.message(std::string(1001, 'a')), 1000, out), InflateResult::TooBig);
}

TEST(PermessageDeflate, RefusesGarbageAndReferencesToAPreviousMessage) {
    std::string out;
    EXPECT_EQ(inflateMessage("\xff\xff\xff\xff garbage", 1000, out), InflateResult::Invalid);
    EXPECT_TRUE(out.empty());
    // A client that kept its context although told not to: its second message
    // refers back into the first, which this side never keeps.
    ClientDeflater client;
    std::string text = json(1000);
    ASSERT_EQ(inflateMessage(client.message(text), 64 * 1024, out), InflateResult::Ok);
    out.clear();
    EXPECT_EQ(inflateMessage(client.message(text), 64 * 1024, out), InflateResult::Invalid);
    // Bytes after a final block.
    ClientDeflater finishing;
    std::string trailing = finishing.message("hello", true) + "junk";
    out.clear();
    EXPECT_EQ(inflateMessage(trailing, 100, out), InflateResult::Invalid);
    // The inflater is reset after a failure: the next message is fine.
    ClientDeflater fresh;
    out.clear();
    EXPECT_EQ(inflateMessage(fresh.message("ok"), 100, out), InflateResult::Ok);
    EXPECT_EQ(out, "ok");
}

TEST(PermessageDeflate, AFrameHasOneSharedCompressedTwin) {
    std::string payload = json(2000);
    auto frame = snorky::Frame::text(payload);
    auto compressed = frame->compressed();
    ASSERT_TRUE(compressed);
    EXPECT_EQ(frame->compressed(), compressed);  // built once, then the same pointer
    EXPECT_EQ(static_cast<std::uint8_t>(compressed->wire()[0]), 0xC1);  // FIN, RSV1, text
    EXPECT_EQ(compressed->opcode(), Text);
    EXPECT_EQ(inflateRaw(std::string(compressed->payload())), payload);
    EXPECT_EQ(compressed->wire().size(), compressed->payload().size() + 4);  // 126: 2-byte length
    // Control frames and payloads that would not shrink have none.
    EXPECT_FALSE(snorky::Frame::control(Ping, std::string(200, 'a'))->compressed());
    EXPECT_FALSE(snorky::Frame::text("{}")->compressed());
}
