#pragma once
// Sanitizer reports in the output of a program the tests started. In a
// sanitizer build (SNORKY_SANITIZE) the server runs instrumented, and a report
// it prints (use-after-free, data race, undefined behaviour, a leak at exit)
// must fail the test that started it, not only scroll by in a log.
#include <string>
#include <string_view>

namespace snorky::it {

// The first report in `output`: from the line that announces it, at most
// `maxLines` lines; empty when there is none. Recognised: "ERROR:
// AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer", any
// other "ERROR: ...Sanitizer", and UBSan's "<file>:<line>:<col>: runtime error:".
std::string findSanitizerReport(std::string_view output, std::size_t maxLines = 40);

// ADD_FAILURE with an excerpt when `output` holds a report; `who` names the
// program ("snorky pid 1234"). Returns whether one was found.
bool failOnSanitizerReport(std::string_view output, std::string_view who);

}  // namespace snorky::it
