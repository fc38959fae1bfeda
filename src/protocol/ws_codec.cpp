#include "snorky/protocol/ws_codec.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "snorky/protocol/utf8.hpp"

namespace snorky::ws {

ParseResult parseClientHeader(const std::uint8_t* data, std::size_t size, FrameHeader& out, bool deflate) {
    if (size < 2) return ParseResult::NeedMore;
    out.fin = (data[0] & 0x80) != 0;
    out.opcode = data[0] & 0x0f;
    out.compressed = (data[0] & 0x40) != 0;
    if (data[0] & 0x30) return ParseResult::Invalid;  // RSV2, RSV3: no extension defines them
    if (out.compressed && (!deflate || out.opcode == Continuation || (out.opcode & 0x8)))
        return ParseResult::Invalid;  // RSV1 without permessage-deflate, or where RFC 7692 forbids it
    if (!(data[1] & 0x80)) return ParseResult::Invalid;  // clients must mask
    std::uint64_t length = data[1] & 0x7f;
    std::size_t pos = 2;
    if (length == 126) {
        if (size < 4) return ParseResult::NeedMore;
        length = (std::uint64_t{data[2]} << 8) | data[3];
        if (length < 126) return ParseResult::Invalid;  // not minimal
        pos = 4;
    } else if (length == 127) {
        if (size < 10) return ParseResult::NeedMore;
        length = 0;
        for (int i = 2; i < 10; ++i) length = (length << 8) | data[i];
        if (length >> 63 || length <= 0xffff) return ParseResult::Invalid;
        pos = 10;
    }
    bool control = out.opcode & 0x8;
    if (control && (length > 125 || !out.fin)) return ParseResult::Invalid;
    switch (out.opcode) {
        case Continuation: case Text: case Binary: case Close: case Ping: case Pong: break;
        default: return ParseResult::Invalid;
    }
    if (size < pos + 4) return ParseResult::NeedMore;
    for (int i = 0; i < 4; ++i) out.mask[i] = data[pos + i];
    out.headerLength = pos + 4;
    out.payloadLength = length;
    return ParseResult::Ok;
}

void unmask(std::uint8_t* data, std::size_t size, const std::uint8_t mask[4], std::uint64_t offset) {
    std::size_t i = 0;
    // Word-at-a-time over the aligned middle: this runs over every inbound byte.
    std::uint8_t rotated[8];
    for (int k = 0; k < 8; ++k) rotated[k] = mask[(offset + k) & 3];
    std::uint64_t wordMask;
    std::memcpy(&wordMask, rotated, 8);
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= wordMask;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i) data[i] ^= mask[(offset + i) & 3];
}

std::string acceptKey(std::string_view clientKey) {
    static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input(clientKey);
    input += kGuid;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(n));
}

std::string closePayload(std::uint16_t code, std::string_view reason) {
    std::string out;
    out += static_cast<char>(code >> 8);
    out += static_cast<char>(code & 0xff);
    out += reason.substr(0, 123);
    return out;
}

std::uint16_t closeReply(std::string_view payload) {
    if (payload.empty()) return Normal;
    if (payload.size() == 1) return ProtocolError;
    auto code = static_cast<std::uint16_t>((std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]));
    bool allowed = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    if (!allowed || !isValidUtf8(payload.substr(2))) return ProtocolError;
    return code;
}

std::string clientFrame(std::uint8_t opcode, std::string_view payload, const std::uint8_t mask[4], bool fin) {
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0) | opcode);
    std::uint64_t length = payload.size();
    if (length < 126) {
        out += static_cast<char>(0x80 | length);
    } else if (length <= 0xffff) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(length >> 8);
        out += static_cast<char>(length & 0xff);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
    }
    out.append(reinterpret_cast<const char*>(mask), 4);
    std::size_t start = out.size();
    out += payload;
    unmask(reinterpret_cast<std::uint8_t*>(out.data() + start), payload.size(), mask);
    return out;
}

}  // namespace snorky::ws
