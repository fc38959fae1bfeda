#include "ws_codec.hpp"

#include <cstring>
#include <strings.h>

namespace snorky::bench {

namespace {
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455 1.3, for kKey

std::uint32_t nextMask(std::uint32_t& seed) {
    // xorshift32: masks must vary, they need not be cryptographic here.
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}
}  // namespace

std::string upgradeRequest(std::string_view host, std::uint16_t port, std::string_view path, bool deflate) {
    std::string r;
    r.reserve(200);
    r += "GET ";
    r += path;
    r += " HTTP/1.1\r\nHost: ";
    r += host;
    r += ':';
    r += std::to_string(port);
    r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    r += kKey;
    r += "\r\nSec-WebSocket-Version: 13\r\n";
    if (deflate) r += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    r += "\r\n";
    return r;
}

UpgradeResult parseUpgradeResponse(std::string_view in, std::size_t& headerBytes) {
    auto end = in.find("\r\n\r\n");
    if (end == std::string_view::npos) return in.size() > 16384 ? UpgradeResult::Refused : UpgradeResult::Incomplete;
    headerBytes = end + 4;
    std::string_view head = in.substr(0, end);
    if (head.substr(0, 12) != "HTTP/1.1 101") return UpgradeResult::Refused;
    // Header names are case-insensitive: look for the accept value itself.
    auto pos = head.find(kAccept);
    if (pos == std::string_view::npos) return UpgradeResult::Refused;
    return UpgradeResult::Accepted;
}

void appendClientFrame(std::string& out, std::uint8_t op, std::string_view payload, std::uint32_t& maskSeed) {
    std::size_t len = payload.size();
    out.push_back(static_cast<char>(0x80 | op));
    if (len < 126) {
        out.push_back(static_cast<char>(0x80 | len));
    } else if (len < 65536) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(len >> 8));
        out.push_back(static_cast<char>(len & 0xff));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xff));
    }
    std::uint32_t mask = nextMask(maskSeed);
    unsigned char key[4];
    std::memcpy(key, &mask, 4);
    out.append(reinterpret_cast<const char*>(key), 4);
    std::size_t start = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < len; ++i) out[start + i] = static_cast<char>(out[start + i] ^ key[i & 3]);
}

ParseResult parseServerFrame(std::string_view in, ServerFrame& frame) {
    if (in.size() < 2) return ParseResult::Incomplete;
    auto b0 = static_cast<unsigned char>(in[0]);
    auto b1 = static_cast<unsigned char>(in[1]);
    if (b1 & 0x80) return ParseResult::Invalid;  // servers never mask
    if (b0 & 0x30) return ParseResult::Invalid;  // RSV2/RSV3: no extension uses them
    std::uint64_t len = b1 & 0x7f;
    std::size_t header = 2;
    if (len == 126) {
        if (in.size() < 4) return ParseResult::Incomplete;
        len = (static_cast<std::uint64_t>(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
        header = 4;
    } else if (len == 127) {
        if (in.size() < 10) return ParseResult::Incomplete;
        len = 0;
        for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
        header = 10;
        if (len > (1ull << 32)) return ParseResult::Invalid;
    }
    if (in.size() < header + len) return ParseResult::Incomplete;
    frame.fin = (b0 & 0x80) != 0;
    frame.compressed = (b0 & 0x40) != 0;
    frame.opcode = b0 & 0x0f;
    frame.payload = in.substr(header, static_cast<std::size_t>(len));
    frame.size = header + static_cast<std::size_t>(len);
    return ParseResult::Frame;
}

}  // namespace snorky::bench
