#include "snorky/core/memory_broker.hpp"

#include <cstdio>
#include <random>

#include "snorky/core/node.hpp"

namespace snorky {

MemoryBroker::MemoryBroker(std::size_t maxHistoryBytes) : maxHistoryBytes_(maxHistoryBytes) {
    std::random_device random;
    std::uint64_t bits = (static_cast<std::uint64_t>(random()) << 32) ^ random();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
    epochBase_ = text;
}

void MemoryBroker::attach(Node& node) { node_ = &node; }

void MemoryBroker::publish(const std::string& topic, const FramePtr& frame, const Client* sender) {
    auto it = listeners_.find(topic);
    if (it != listeners_.end()) it->second->onBrokerMessage(topic, frame, Origin{sender, true});
}

void MemoryBroker::subscribe(const std::string& topic, BrokerListener* listener) {
    listeners_[topic] = listener;
}

void MemoryBroker::unsubscribe(const std::string& topic) { listeners_.erase(topic); }

void MemoryBroker::publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) {
    publish(topic, frame, nullptr);
    confirmed(true);  // every listener there is has it
}

std::string MemoryBroker::newEpoch() { return epochBase_.substr(0, 12) + std::to_string(++epochCount_); }

MemoryBroker::Stream& MemoryBroker::stream(const std::string& topic, const HistoryOptions& history) {
    auto now = node_ ? node_->clock().now() : std::chrono::steady_clock::now();
    auto it = streams_.find(topic);
    if (it != streams_.end() && it->second.expires <= now) {
        drop(it);
        it = streams_.end();
    }
    if (it == streams_.end()) {
        it = streams_.emplace(topic, Stream{}).first;
        it->second.epoch = newEpoch();
        it->second.expires = now + history.ttl;
        it->second.age = ages_.insert(ages_.end(), topic);
        if (node_) node_->metrics().historyStreams = streams_.size();
    }
    return it->second;
}

void MemoryBroker::drop(std::unordered_map<std::string, Stream>::iterator it) {
    historyBytes_ -= it->second.bytes;
    ages_.erase(it->second.age);
    streams_.erase(it);
    if (node_) {
        node_->metrics().historyBytes = historyBytes_;
        node_->metrics().historyStreams = streams_.size();
    }
}

void MemoryBroker::trim(const std::string& keep) {
    auto now = node_ ? node_->clock().now() : std::chrono::steady_clock::now();
    // Streams are kept in order of last publish: the front is the oldest. Its
    // expiry may be later than one behind it (namespaces differ in ttl); that
    // one is dropped when next touched or evicted.
    while (!ages_.empty() && ages_.front() != keep) {
        auto it = streams_.find(ages_.front());
        bool expired = it->second.expires <= now;
        if (!expired && historyBytes_ <= maxHistoryBytes_) break;
        if (!expired && node_) ++node_->metrics().historyEvictions;
        drop(it);
    }
    // One stream alone over the cap loses its oldest messages.
    auto kept = streams_.find(keep);
    if (kept == streams_.end()) return;
    Stream& s = kept->second;
    while (historyBytes_ > maxHistoryBytes_ && s.entries.size() > 1) {
        std::size_t bytes = s.entries.front().frame->payload().size() + kEntryOverhead;
        s.bytes -= bytes;
        historyBytes_ -= bytes;
        s.entries.pop_front();
        if (node_) ++node_->metrics().historyEvictions;
    }
    if (node_) node_->metrics().historyBytes = historyBytes_;
}

void MemoryBroker::publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                                      const HistoryOptions& history, Confirmed confirmed) {
    if (history.size == 0) return Broker::publishWithHistory(topic, frame, sender, history, std::move(confirmed));
    Stream& s = stream(topic, history);
    s.expires = (node_ ? node_->clock().now() : std::chrono::steady_clock::now()) + history.ttl;
    ages_.splice(ages_.end(), ages_, s.age);  // now the most recently published
    std::uint64_t offset = ++s.top;
    std::size_t bytes = frame->payload().size() + kEntryOverhead;
    s.entries.push_back(HistoryEntry{offset, frame});
    s.bytes += bytes;
    historyBytes_ += bytes;
    while (s.entries.size() > history.size) {
        std::size_t old = s.entries.front().frame->payload().size() + kEntryOverhead;
        s.bytes -= old;
        historyBytes_ -= old;
        s.entries.pop_front();
    }
    trim(topic);
    auto it = listeners_.find(topic);
    if (it != listeners_.end()) it->second->onBrokerMessage(topic, frame, Origin{sender, true, offset});
    if (confirmed) confirmed(true);
}

void MemoryBroker::readHistory(const std::string& topic, const HistoryOptions& history,
                               std::optional<std::uint64_t> after, std::size_t limit, HistoryDone done) {
    if (history.size == 0) return done(std::nullopt);
    Stream& s = stream(topic, history);
    HistoryRead read;
    read.position = StreamPosition{s.top, s.epoch};
    if (after) {
        // Complete when nothing after `after` was lost: the oldest held is
        // the next one, or nothing was published since.
        std::uint64_t oldest = s.entries.empty() ? s.top + 1 : s.entries.front().offset;
        read.complete = *after <= s.top && oldest <= *after + 1;
        for (const HistoryEntry& entry : s.entries) {
            if (entry.offset <= *after) continue;
            if (read.entries.size() >= limit) break;
            read.entries.push_back(entry);
        }
    } else {
        std::size_t skip = s.entries.size() > limit ? s.entries.size() - limit : 0;
        read.entries.assign(s.entries.begin() + static_cast<std::ptrdiff_t>(skip), s.entries.end());
    }
    trim(topic);
    done(std::move(read));
}

}  // namespace snorky
