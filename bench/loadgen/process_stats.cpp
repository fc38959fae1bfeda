#include "process_stats.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace snorky::bench {

std::optional<ProcessStats> readProcessStats(pid_t pid) {
    std::ifstream statFile("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(statFile, stat)) return std::nullopt;
    // The command name (field 2) may hold spaces: fields are counted after ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    ProcessStats out;
    long ticks = sysconf(_SC_CLK_TCK);
    // Field 3 is the first after ')'; utime = 14, stime = 15, num_threads = 20, rss = 24 (pages).
    for (int index = 3; fields >> field; ++index) {
        if (index == 14) out.userSeconds = std::stod(field) / static_cast<double>(ticks);
        if (index == 15) out.systemSeconds = std::stod(field) / static_cast<double>(ticks);
        if (index == 20) out.threads = std::stoi(field);
        if (index == 24) {
            out.rssBytes = std::stol(field) * sysconf(_SC_PAGESIZE);
            break;
        }
    }
    out.cpuSeconds = out.userSeconds + out.systemSeconds;
    return out;
}

}  // namespace snorky::bench
