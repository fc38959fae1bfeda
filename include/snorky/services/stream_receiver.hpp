#pragma once
// One receiver of a channel with history (docs/history.md), shared by PubSub
// subscribers and Chat members: how its messages reach it (as the original
// protocol, with their offset, or held while its history read is under way),
// and the rules by which the replay in an answer and the live messages that
// follow it meet with no gap and no duplicate.
//
// The receiver is registered (and held) BEFORE the engine is asked for the
// stream, so a message published meanwhile is in what the read returns, in
// the held buffer, or in both: then it is sent once, offsets tell.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/client.hpp"
#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

// The longest epoch a client may send back in `since`.
inline constexpr std::size_t kMaxEpochBytes = 64;

// A client's `since` {offset, epoch}: the last message it has of a stream.
struct SincePosition {
    std::uint64_t offset = 0;
    std::string epoch;
};
// null: nullopt. Anything but an object of exactly {offset: integer >= 0,
// epoch: string of at most kMaxEpochBytes} throws RpcError("Invalid params").
std::optional<SincePosition> parseSince(const json::value& since);

// The frame of a message as a receiver with history sees it: the same
// envelope with its offset last. The frame must be one of ours (a
// serialized {"service", "message": {...}} envelope).
FramePtr withOffset(const FramePtr& frame, std::uint64_t offset);
// The notification of a held frame (the "message" object of its envelope),
// parsed back for a history answer; empty when the frame holds none.
json::object notificationOf(const Frame& frame);

// What a history read answers: whether `since` is recovered (set only when
// `since` was given), whether the read's entries belong in the answer (all
// of them without `since`, when recovered with it), and the offset up to
// which the client has everything once it has the answer.
struct RecoveryOutcome {
    std::optional<bool> recovered;
    bool replay = false;
    std::uint64_t upTo = 0;
};
RecoveryOutcome recoveryOf(const HistoryRead& read, const std::optional<SincePosition>& since);

class StreamReceiver {
public:
    enum class Mode { Plain, Offsets, Pending };
    Mode mode() const { return mode_; }

    // Holds every message from now on, until release() or abandon() with the
    // returned ticket (a count the caller keeps per service, naming this read).
    void hold(std::uint64_t ticket) {
        mode_ = Mode::Pending;
        ticket_ = ticket;
        held_.clear();
    }
    // Whether the read named `ticket` is still the one awaited.
    bool awaits(std::uint64_t ticket) const { return mode_ == Mode::Pending && ticket_ == ticket; }

    // One delivery to this receiver's client. `numbered` is the frame with
    // its offset, shared by every receiver of the delivery: built by the
    // first one that needs it (at most two frames per message). Inline: it
    // runs once per receiver of every fan-out.
    void deliver(Client& client, const FramePtr& frame, const Origin& origin, FramePtr& numbered) {
        if (mode_ == Mode::Pending) {
            held_.push_back(HistoryEntry{origin.offset, frame});
        } else if (mode_ == Mode::Plain || origin.offset == 0) {
            client.send(frame);
        } else {
            if (!numbered) numbered = withOffset(frame, origin.offset);
            client.send(numbered);
        }
    }
    // The read could not be made: the original protocol again, what was held sent as it came.
    void abandon(Client& client);
    // The answer is sent and covers every offset up to `upTo`: what was held
    // after it goes out numbered (and what carries no offset, e.g. a chat
    // presence, as it came), in the order it arrived.
    void release(Client& client, std::uint64_t upTo);

private:
    Mode mode_ = Mode::Plain;
    std::uint64_t ticket_ = 0;
    std::vector<HistoryEntry> held_;  // offset 0: a frame published without history
};

}  // namespace snorky
