// The WebSocket frame decoder (src/protocol/ws_codec.cpp), driven the way
// WsSession::consume drives it: headers one after another, each payload
// unmasked in place once it is complete, a trailing partial frame left alone.
// Checks the header against the RFC's rules and against clientFrame(), and
// that unmasking in two pieces equals unmasking at once.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "snorky/protocol/utf8.hpp"
#include "snorky/protocol/ws_codec.hpp"

using namespace snorky;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> buffer(data, data + size);
    std::size_t pos = 0;
    while (pos < size) {
        ws::FrameHeader header;
        auto result = ws::parseClientHeader(buffer.data() + pos, size - pos, header);
        if (result != ws::ParseResult::Ok) break;
        FUZZ_CHECK(header.headerLength >= 6 && header.headerLength <= 14);
        FUZZ_CHECK(header.headerLength <= size - pos);
        FUZZ_CHECK(header.opcode <= 2 || (header.opcode >= 8 && header.opcode <= 10));
        if (header.opcode & 0x8) FUZZ_CHECK(header.fin && header.payloadLength <= 125);
        FUZZ_CHECK(header.payloadLength >> 63 == 0);
        if (size - pos - header.headerLength < header.payloadLength) break;  // wait for the rest

        std::size_t length = static_cast<std::size_t>(header.payloadLength);
        std::uint8_t* payload = buffer.data() + pos + header.headerLength;
        std::vector<std::uint8_t> pieces(payload, payload + length);
        ws::unmask(payload, length, header.mask);
        std::size_t split = length ? data[pos] % (length + 1) : 0;
        ws::unmask(pieces.data(), split, header.mask, 0);
        ws::unmask(pieces.data() + split, length - split, header.mask, split);
        FUZZ_CHECK(length == 0 || std::memcmp(pieces.data(), payload, length) == 0);

        // The same frame written by the client-side encoder parses the same.
        std::string_view body(reinterpret_cast<const char*>(payload), length);
        std::string again = ws::clientFrame(header.opcode, body, header.mask, header.fin);
        ws::FrameHeader reparsed;
        FUZZ_CHECK(ws::parseClientHeader(reinterpret_cast<const std::uint8_t*>(again.data()), again.size(), reparsed) ==
                   ws::ParseResult::Ok);
        FUZZ_CHECK(reparsed.fin == header.fin && reparsed.opcode == header.opcode &&
                   reparsed.payloadLength == header.payloadLength && reparsed.headerLength == header.headerLength &&
                   std::memcmp(reparsed.mask, header.mask, 4) == 0);
        FUZZ_CHECK(again.size() == reparsed.headerLength + length);
        ws::unmask(reinterpret_cast<std::uint8_t*>(again.data() + reparsed.headerLength), length, reparsed.mask);
        FUZZ_CHECK(again.compare(reparsed.headerLength, length, body) == 0);

        if (header.opcode == ws::Close) {
            // The answer to a peer's close: its code only when a peer may send it.
            std::uint16_t reply = ws::closeReply(body);
            FUZZ_CHECK(reply == ws::Normal || reply == ws::ProtocolError || (reply >= 1000 && reply <= 1003) ||
                       (reply >= 1007 && reply <= 1014) || (reply >= 3000 && reply <= 4999));
            if (length == 1) FUZZ_CHECK(reply == ws::ProtocolError);
            if (length >= 2 && !isValidUtf8(body.substr(2))) FUZZ_CHECK(reply == ws::ProtocolError);
        }
        if (header.opcode == ws::Text) isValidUtf8(body);
        if (header.opcode == ws::Close && length >= 2) {
            auto code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
            std::string echo = ws::closePayload(code, body.substr(2));
            FUZZ_CHECK(echo.size() >= 2 && echo.size() <= 125);
            FUZZ_CHECK(static_cast<std::uint8_t>(echo[0]) == payload[0] && static_cast<std::uint8_t>(echo[1]) == payload[1]);
        }
        pos += header.headerLength + length;
    }
    return 0;
}
