#pragma once
// MemoryBroker: the single-process pub/sub engine. publish calls the topic's
// listener synchronously; there is no other node. Called with the service
// lock held, as every Broker.
//
// History lives here too: a ring of frames per topic, all streams together
// bounded by maxHistoryBytes (the least recently published streams are
// evicted first, counted in /metrics), each stream dropped `ttl` after its
// last publish. Epochs are random per process, so a restart changes them.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <unordered_map>

#include "snorky/core/broker.hpp"

namespace snorky {

class MemoryBroker final : public Broker {
public:
    static constexpr std::size_t kDefaultMaxHistoryBytes = 64 * 1024 * 1024;
    // What a held message costs besides its bytes (the entry, the frame's header).
    static constexpr std::size_t kEntryOverhead = 64;

    explicit MemoryBroker(std::size_t maxHistoryBytes = kDefaultMaxHistoryBytes);
    void attach(Node& node) override;
    void close() override {}
    json::object health() const override { return {{"engine", "memory"}}; }
    const std::string& nodeId() const override { return nodeId_; }

    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override;
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) override;
    void subscribe(const std::string& topic, BrokerListener* listener) override;
    void unsubscribe(const std::string& topic) override;
    void publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                            const HistoryOptions& history, Confirmed confirmed) override;
    void readHistory(const std::string& topic, const HistoryOptions& history, std::optional<std::uint64_t> after,
                     std::size_t limit, HistoryDone done) override;

    std::size_t topicCount() const { return listeners_.size(); }
    std::size_t streamCount() const { return streams_.size(); }
    std::size_t historyBytes() const { return historyBytes_; }

private:
    struct Stream {
        std::string epoch;
        std::uint64_t top = 0;  // offset of the last message
        std::deque<HistoryEntry> entries;
        std::size_t bytes = 0;
        std::chrono::steady_clock::time_point expires;
        std::list<std::string>::iterator age;  // its place in ages_
    };
    // The topic's live stream (a new one when absent or expired), its expiry pushed to now + ttl.
    Stream& stream(const std::string& topic, const HistoryOptions& history);
    void drop(std::unordered_map<std::string, Stream>::iterator it);
    // Expired streams, then the least recently used ones while over the cap.
    void trim(const std::string& keep);
    std::string newEpoch();

    std::unordered_map<std::string, BrokerListener*> listeners_;
    std::string nodeId_ = "local";
    Node* node_ = nullptr;
    std::size_t maxHistoryBytes_;
    std::size_t historyBytes_ = 0;
    std::unordered_map<std::string, Stream> streams_;
    std::list<std::string> ages_;  // topics, least recently used first
    std::string epochBase_;        // random per process
    std::uint64_t epochCount_ = 0;
};

}  // namespace snorky
