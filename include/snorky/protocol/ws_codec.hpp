#pragma once
// WebSocket wire format (RFC 6455) for the server side: pure functions, no I/O.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace snorky::ws {

enum Opcode : std::uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// Close codes the server sends.
enum CloseCode : std::uint16_t {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    Unsupported = 1003,  // binary frames
    InvalidPayload = 1007,  // a text message that is not UTF-8
    PolicyViolation = 1008,
    TooBig = 1009,
    InternalError = 1011,
};

struct FrameHeader {
    bool fin = false;
    bool compressed = false;  // RSV1: the first frame of a permessage-deflate message
    std::uint8_t opcode = 0;
    std::uint64_t payloadLength = 0;
    std::size_t headerLength = 0;
    std::uint8_t mask[4] = {0, 0, 0, 0};
};

enum class ParseResult { Ok, NeedMore, Invalid };

// Reads one client frame header. Client frames must be masked, must not set
// RSV bits and control frames must be short and final; anything else is
// Invalid (close with ProtocolError). With permessage-deflate negotiated
// (`deflate`), RSV1 may mark the first frame of a text or binary message as
// compressed, never a control frame or a continuation (RFC 7692 6.1).
ParseResult parseClientHeader(const std::uint8_t* data, std::size_t size, FrameHeader& out, bool deflate = false);

// XORs the payload with the mask in place; `offset` is the payload position
// of data[0] (for payloads unmasked in pieces).
void unmask(std::uint8_t* data, std::size_t size, const std::uint8_t mask[4], std::uint64_t offset = 0);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string acceptKey(std::string_view clientKey);

// The payload of a close frame: 2-byte code then a UTF-8 reason (<= 123 bytes).
std::string closePayload(std::uint16_t code, std::string_view reason);

// The code to answer a peer's close frame with (RFC 6455 5.5.1, 7.4.1): its
// own code echoed when a peer may send it (1000-1003, 1007-1014, 3000-4999),
// Normal when it sent none, ProtocolError for a 1-byte payload, any other code
// (1004-1006, 1015-2999...) or a reason that is not UTF-8.
std::uint16_t closeReply(std::string_view payload);

// Client-side helpers (tests and the load generator): a masked frame.
std::string clientFrame(std::uint8_t opcode, std::string_view payload, const std::uint8_t mask[4], bool fin = true);

}  // namespace snorky::ws
