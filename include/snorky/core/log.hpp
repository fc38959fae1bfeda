#pragma once
// Leveled logging to stderr. SNORKY_LOG(Warn, "x=" << x) formats only when the
// level is enabled. Never pass secrets (the backend key) to it.
#include <chrono>
#include <sstream>
#include <string>
#include <string_view>

namespace snorky::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level& out);
void write(Level level, const std::string& message);

// Allows at most `burst` lines per `period`; reports how many it swallowed
// once the period rolls over. Used for lines a client can trigger at will.
class RateLimit {
public:
    explicit RateLimit(int burst = 10, std::chrono::seconds period = std::chrono::seconds(10))
        : burst_(burst), period_(period) {}
    // True when this line may be written; `suppressed` tells how many were
    // swallowed since the last line that was written.
    bool allow(std::uint64_t& suppressed);

private:
    int burst_;
    std::chrono::seconds period_;
    std::chrono::steady_clock::time_point windowStart_{};
    int used_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace snorky::log

#define SNORKY_LOG(LEVEL, EXPR)                                                   \
    do {                                                                          \
        if (::snorky::log::Level::LEVEL >= ::snorky::log::level()) {              \
            std::ostringstream snorky_log_os_;                                    \
            snorky_log_os_ << EXPR; /* NOLINT(bugprone-macro-parentheses): a << chain */ \
            ::snorky::log::write(::snorky::log::Level::LEVEL, snorky_log_os_.str()); \
        }                                                                         \
    } while (0)
