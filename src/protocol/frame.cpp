#include "snorky/protocol/frame.hpp"

#include "snorky/protocol/envelope.hpp"
#include "snorky/protocol/permessage_deflate.hpp"

namespace snorky {

std::shared_ptr<const Frame> Frame::build(std::uint8_t opcode, std::string buf) {
    // buf holds kMaxHeader spare bytes, then the payload. The header is written
    // right-aligned into the spare bytes so header and payload are contiguous.
    const std::uint64_t length = buf.size() - kMaxHeader;
    std::uint8_t header[kMaxHeader];
    std::size_t size = 0;
    header[size++] = static_cast<std::uint8_t>(0x80 | opcode);  // FIN (+ RSV1 when compressed) + opcode, unmasked
    if (length < 126) {
        header[size++] = static_cast<std::uint8_t>(length);
    } else if (length <= 0xffff) {
        header[size++] = 126;
        header[size++] = static_cast<std::uint8_t>(length >> 8);
        header[size++] = static_cast<std::uint8_t>(length);
    } else {
        header[size++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8) header[size++] = static_cast<std::uint8_t>(length >> shift);
    }
    auto frame = std::shared_ptr<Frame>(new Frame());
    frame->start_ = static_cast<std::uint8_t>(kMaxHeader - size);
    std::copy(header, header + size, buf.begin() + frame->start_);
    frame->buf_ = std::move(buf);
    return frame;
}

std::shared_ptr<const Frame> Frame::text(std::string_view payload) {
    return control(0x1, payload);
}

std::shared_ptr<const Frame> Frame::control(std::uint8_t opcode, std::string_view payload) {
    std::string buf(kMaxHeader, '\0');
    buf.append(payload);
    return build(opcode, std::move(buf));
}

std::shared_ptr<const Frame> Frame::envelope(std::string_view service, const json::value& message) {
    std::string buf(kMaxHeader, '\0');
    appendEnvelope(service, message, buf);
    return build(0x1, std::move(buf));
}

std::shared_ptr<const Frame> Frame::compressed() const {
    std::call_once(compressOnce_, [this] {
        if (opcode() != 0x1) return;
        std::string buf(kMaxHeader, '\0');
        if (ws::deflateMessage(payload(), buf)) compressed_ = build(0x40 | 0x1, std::move(buf));  // RSV1: compressed
    });
    return compressed_;
}

}  // namespace snorky
