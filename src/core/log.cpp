#include "snorky/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace snorky::log {
namespace {
std::atomic<Level> currentLevel{Level::Info};
std::mutex writeLock;
const char* name(Level level) {
    switch (level) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warn: return "warn";
        case Level::Error: return "error";
        case Level::Off: break;
    }
    return "";
}
}  // namespace

void setLevel(Level level) { currentLevel = level; }
Level level() { return currentLevel.load(std::memory_order_relaxed); }

bool parseLevel(std::string_view text, Level& out) {
    for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Off}) {
        if (text == (l == Level::Off ? "off" : name(l))) {
            out = l;
            return true;
        }
    }
    return false;
}

void write(Level level, const std::string& message) {
    auto now = std::chrono::system_clock::now();
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard guard(writeLock);
    std::fprintf(stderr, "%s.%03dZ %-5s %s\n", stamp, static_cast<int>(millis), name(level), message.c_str());
}

bool RateLimit::allow(std::uint64_t& suppressed) {
    auto now = std::chrono::steady_clock::now();
    if (now - windowStart_ >= period_) {
        windowStart_ = now;
        used_ = 0;
    }
    if (used_ >= burst_) {
        ++suppressed_;
        return false;
    }
    ++used_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
}

}  // namespace snorky::log
