#pragma once
// The connection caps of one WebSocket listener, shared by its workers:
// handshakes in progress (connections that have not finished their HTTP
// upgrade request) and open connections per client address. A session holds
// a Slot for each; the slot gives its place back when released or destroyed,
// whatever ended the connection. Sessions keep the limits alive through the
// slot (they may outlive the listener at shutdown).
// A reload may change the caps (setCaps): they apply to the next handshake or
// connection; the connections already open keep their slots, so an address
// over a lowered cap keeps what it has and gets no new one until it is under
// it. Addresses are counted even without a cap, so that a cap set by a
// reload counts the connections opened before it.
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace snorky {

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
public:
    // 0: no cap.
    ConnectionLimits(std::size_t maxHandshakes, std::size_t maxPerAddress)
        : maxHandshakes_(maxHandshakes), maxPerAddress_(maxPerAddress) {}

    class Slot {
    public:
        Slot() = default;
        Slot(Slot&& other) noexcept { *this = std::move(other); }
        Slot& operator=(Slot&& other) noexcept;
        ~Slot() { release(); }
        void release();

    private:
        friend class ConnectionLimits;
        std::shared_ptr<ConnectionLimits> owner_;
        std::string address_;  // empty: a handshake slot
    };

    // A slot, or nullopt when the cap is reached (an uncounted slot when there is no cap).
    std::optional<Slot> beginHandshake();
    std::optional<Slot> admit(const std::string& address);

    // Any thread.
    void setCaps(std::size_t maxHandshakes, std::size_t maxPerAddress) {
        maxHandshakes_.store(maxHandshakes, std::memory_order_relaxed);
        maxPerAddress_.store(maxPerAddress, std::memory_order_relaxed);
    }

    std::size_t handshakes() const { return handshakes_.load(std::memory_order_relaxed); }
    std::size_t connections(const std::string& address) const;

private:
    std::atomic<std::size_t> maxHandshakes_;
    std::atomic<std::size_t> maxPerAddress_;
    std::atomic<std::size_t> handshakes_{0};
    mutable std::mutex lock_;
    std::unordered_map<std::string, std::size_t> perAddress_;
};

}  // namespace snorky
