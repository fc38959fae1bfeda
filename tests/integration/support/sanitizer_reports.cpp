#include "support/sanitizer_reports.hpp"

#include <gtest/gtest.h>

#include <cctype>

namespace snorky::it {

namespace {

// UBSan: "src/protocol/json.cpp:42:17: runtime error: ..." (the path may hold spaces).
bool isUbsanLine(std::string_view line) {
    auto at = line.find(": runtime error: ");
    if (at == std::string_view::npos) return false;
    // Backwards from ": runtime error": digits (column), ':', digits (line), ':'.
    std::string_view head = line.substr(0, at);
    for (int number = 0; number < 2; ++number) {
        std::size_t digits = 0;
        while (digits < head.size() && std::isdigit(static_cast<unsigned char>(head[head.size() - 1 - digits]))) ++digits;
        if (digits == 0 || digits == head.size() || head[head.size() - 1 - digits] != ':') return false;
        head.remove_suffix(digits + 1);
    }
    return !head.empty();
}

bool isReportLine(std::string_view line) {
    if (line.find("WARNING: ThreadSanitizer") != std::string_view::npos) return true;
    // "==1234==ERROR: AddressSanitizer: ...", LeakSanitizer, ThreadSanitizer (SEGV)...
    auto error = line.find("ERROR: ");
    if (error != std::string_view::npos) {
        std::string_view rest = line.substr(error + 7);
        auto colon = rest.find(':');
        std::string_view tool = rest.substr(0, colon);
        if (colon != std::string_view::npos && tool.size() > 9 && tool.substr(tool.size() - 9) == "Sanitizer") return true;
    }
    return isUbsanLine(line);
}

}  // namespace

std::string findSanitizerReport(std::string_view output, std::size_t maxLines) {
    std::size_t pos = 0;
    while (pos < output.size()) {
        std::size_t end = output.find('\n', pos);
        if (end == std::string_view::npos) end = output.size();
        if (isReportLine(output.substr(pos, end - pos))) {
            // The excerpt starts at the report's line and runs for maxLines lines.
            std::size_t stop = pos;
            for (std::size_t lines = 0; lines < maxLines && stop < output.size(); ++lines) {
                stop = output.find('\n', stop);
                stop = stop == std::string_view::npos ? output.size() : stop + 1;
            }
            return std::string(output.substr(pos, stop - pos));
        }
        pos = end + 1;
    }
    return {};
}

bool failOnSanitizerReport(std::string_view output, std::string_view who) {
    std::string report = findSanitizerReport(output);
    if (report.empty()) return false;
    ADD_FAILURE() << "sanitizer report from " << who << ":\n" << report;
    return true;
}

}  // namespace snorky::it
