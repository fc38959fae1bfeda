#pragma once
// CPU time and resident memory of another process, read from /proc/<pid>.
#include <optional>
#include <sys/types.h>

namespace snorky::bench {

struct ProcessStats {
    double cpuSeconds = 0;  // user + system, all threads (live and exited)
    double userSeconds = 0;
    double systemSeconds = 0;
    long rssBytes = 0;      // resident set size
    int threads = 0;
};

// Empty when the process does not exist (or /proc is unreadable).
std::optional<ProcessStats> readProcessStats(pid_t pid);

}  // namespace snorky::bench
