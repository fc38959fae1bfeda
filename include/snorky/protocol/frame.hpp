#pragma once
// A Frame is one server-to-client message, serialized once and shared by every
// recipient. Its bytes are already a complete WebSocket text frame, so fan-out
// writes the same buffer to every socket with no per-subscriber work.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"

namespace snorky {

class Frame {
public:
    // Largest WebSocket header a server frame can need (2 + 8 bytes).
    static constexpr std::size_t kMaxHeader = 10;

    // Wraps a UTF-8 payload in a text frame (opcode 1) or any other opcode.
    static std::shared_ptr<const Frame> text(std::string_view payload);
    static std::shared_ptr<const Frame> control(std::uint8_t opcode, std::string_view payload);
    // {"service": service, "message": message}, serialized once.
    static std::shared_ptr<const Frame> envelope(std::string_view service, const json::value& message);

    // The whole WebSocket frame, header included.
    std::string_view wire() const { return std::string_view(buf_).substr(start_); }
    // The message itself (what an HTTP backend reply carries).
    std::string_view payload() const { return std::string_view(buf_).substr(kMaxHeader); }
    std::uint8_t opcode() const { return static_cast<std::uint8_t>(buf_[start_]) & 0x0f; }

    // The same text message compressed for permessage-deflate (RSV1 set, no
    // context), built by the first session that asks and then shared like this
    // one: a message has at most these two forms, whatever the subscribers.
    // Null when compression would not make it smaller, or not a text frame.
    std::shared_ptr<const Frame> compressed() const;

private:
    Frame() = default;
    static std::shared_ptr<const Frame> build(std::uint8_t opcode, std::string buf);
    std::string buf_;  // kMaxHeader reserved bytes, then the payload
    std::uint8_t start_ = 0;
    mutable std::once_flag compressOnce_;  // sessions of several workers may ask at once
    mutable std::shared_ptr<const Frame> compressed_;
};
using FramePtr = std::shared_ptr<const Frame>;

}  // namespace snorky
