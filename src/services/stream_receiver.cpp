#include "snorky/services/stream_receiver.hpp"

#include <algorithm>

#include "snorky/core/rpc_service.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

std::optional<SincePosition> parseSince(const json::value& since) {
    if (since.is_null()) return std::nullopt;
    const json::object* position = since.if_object();
    if (!position || position->size() != 2) throw RpcError(errors::kInvalidParams);
    const json::value* offset = position->if_contains("offset");
    const json::value* epoch = position->if_contains("epoch");
    auto number = offset ? exactInteger(*offset) : std::nullopt;
    if (!number || *number < 0 || !epoch || !epoch->is_string() || epoch->as_string().size() > kMaxEpochBytes)
        throw RpcError(errors::kInvalidParams);
    return SincePosition{static_cast<std::uint64_t>(*number), std::string(epoch->as_string())};
}

// Built by splicing: our envelopes always end with the two closing braces.
FramePtr withOffset(const FramePtr& frame, std::uint64_t offset) {
    std::string_view payload = frame->payload();
    std::string text;
    text.reserve(payload.size() + 32);
    text.append(payload.substr(0, payload.size() - 2));
    text += ",\"offset\":";
    text += std::to_string(offset);
    text += "}}";
    return Frame::text(text);
}

json::object notificationOf(const Frame& frame) {
    json::error_code ec;
    json::value envelope = json::parse(frame.payload(), ec);
    if (!ec && envelope.is_object())
        if (json::value* notification = envelope.as_object().if_contains("message"))
            if (notification->is_object()) return std::move(notification->as_object());
    return {};
}

RecoveryOutcome recoveryOf(const HistoryRead& read, const std::optional<SincePosition>& since) {
    RecoveryOutcome outcome;
    outcome.upTo = read.position.offset;
    if (since) outcome.recovered = read.complete && since->epoch == read.position.epoch;
    outcome.replay = !since || *outcome.recovered;
    if (outcome.replay && !read.entries.empty()) outcome.upTo = std::max(outcome.upTo, read.entries.back().offset);
    return outcome;
}

void StreamReceiver::abandon(Client& client) {
    std::vector<HistoryEntry> held = std::move(held_);
    held_.clear();
    mode_ = Mode::Plain;
    for (const HistoryEntry& entry : held) client.send(entry.frame);
}

void StreamReceiver::release(Client& client, std::uint64_t upTo) {
    std::vector<HistoryEntry> held = std::move(held_);
    held_.clear();
    mode_ = Mode::Offsets;
    for (const HistoryEntry& entry : held) {
        if (entry.offset == 0)
            client.send(entry.frame);
        else if (entry.offset > upTo)
            client.send(withOffset(entry.frame, entry.offset));
    }
}

}  // namespace snorky
