#pragma once
// The client half of WebSocket (RFC 6455), just what the generator needs:
// the upgrade request, masked client frames, and parsing server frames.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace snorky::bench {

// GET <path> upgrade request with a fixed key (the RFC's sample nonce): the
// generator only checks the server's answer, it needs no secrecy.
// `deflate`: offer permessage-deflate.
std::string upgradeRequest(std::string_view host, std::uint16_t port, std::string_view path, bool deflate = false);

enum class UpgradeResult { Incomplete, Accepted, Refused };
// Looks at the start of `in`; on Accepted, `headerBytes` is the length of the
// HTTP response (frames may follow in the same buffer).
UpgradeResult parseUpgradeResponse(std::string_view in, std::size_t& headerBytes);

// Appends one masked client frame (FIN set) to `out`. `maskSeed` advances.
void appendClientFrame(std::string& out, std::uint8_t opcode, std::string_view payload, std::uint32_t& maskSeed);

struct ServerFrame {
    bool fin = false;
    bool compressed = false;  // RSV1: permessage-deflate
    std::uint8_t opcode = 0;
    std::string_view payload;  // points into the parsed buffer
    std::size_t size = 0;      // header + payload bytes consumed
};
enum class ParseResult { Incomplete, Frame, Invalid };
// Parses the first frame at the start of `in` (server frames are unmasked;
// a masked one is accepted and reported as Invalid to be noticed).
ParseResult parseServerFrame(std::string_view in, ServerFrame& frame);

namespace opcode {
inline constexpr std::uint8_t kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10;
}

}  // namespace snorky::bench
