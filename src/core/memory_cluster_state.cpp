#include "snorky/core/memory_cluster_state.hpp"

#include "snorky/core/node.hpp"

namespace snorky {

void MemoryClusterState::attach(Node& node) { clock_ = &node.clock(); }

std::map<std::string, MemoryClusterState::Entry>::iterator MemoryClusterState::live(const std::string& key) {
    auto it = keys_.find(key);
    if (it != keys_.end() && it->second.expires <= clock_->now()) {
        keys_.erase(it);
        return keys_.end();
    }
    return it;
}

void MemoryClusterState::claimKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl, Done done) {
    // Now and then sweep expired keys nobody asks about again (amortized O(1) per claim).
    if (++claims_ % 1024 == 0) {
        auto now = clock_->now();
        for (auto it = keys_.begin(); it != keys_.end();) it = it->second.expires <= now ? keys_.erase(it) : std::next(it);
    }
    if (live(key) != keys_.end()) return done(Result::Taken);
    keys_[key] = {value, clock_->now() + ttl};
    done(Result::Ok);
}

void MemoryClusterState::refreshKey(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {
    auto it = live(key);
    if (it == keys_.end()) keys_[key] = {value, clock_->now() + ttl};
    else if (it->second.value == value) it->second.expires = clock_->now() + ttl;
}

void MemoryClusterState::releaseKey(const std::string& key, const std::string& value) {
    auto it = live(key);
    if (it != keys_.end() && it->second.value == value) keys_.erase(it);
}

void MemoryClusterState::readKey(const std::string& key, ReadDone done) {
    auto it = live(key);
    if (it == keys_.end()) return done(Result::Missing, "");
    std::string value = it->second.value;  // a copy: done may change keys_
    done(Result::Ok, value);
}

void MemoryClusterState::listKeys(const std::string& prefix, ListDone done) {
    std::vector<std::string> out;
    auto now = clock_->now();
    for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
        if (it->second.expires <= now) {
            it = keys_.erase(it);
            continue;
        }
        out.push_back(it->first);
        ++it;
    }
    done(Result::Ok, std::move(out));
}

void MemoryClusterState::mapSet(const std::string& key, const std::string& field, const std::string& value,
                          std::chrono::milliseconds ttl, Done done) {
    Map& map = maps_[key];
    if (map.expires <= clock_->now()) map.fields.clear();  // expired as a whole
    map.fields[field] = value;
    map.expires = clock_->now() + ttl;
    if (done) done(Result::Ok);
}

void MemoryClusterState::mapDelete(const std::string& key, const std::string& field) {
    auto it = maps_.find(key);
    if (it == maps_.end()) return;
    it->second.fields.erase(field);
    if (it->second.fields.empty()) maps_.erase(it);
}

void MemoryClusterState::mapRead(const std::string& key, MapDone done) {
    auto it = maps_.find(key);
    if (it == maps_.end()) return done(Result::Ok, {});
    if (it->second.expires <= clock_->now()) {
        maps_.erase(it);
        return done(Result::Ok, {});
    }
    std::map<std::string, std::string> fields = it->second.fields;  // a copy: done may change maps_
    done(Result::Ok, std::move(fields));
}

}  // namespace snorky
