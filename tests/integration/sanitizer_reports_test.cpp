// A sanitizer report printed by a program the tests started fails the test
// that started it (support/sanitizer_reports.hpp).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "support/run_program.hpp"
#include "support/sanitizer_reports.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

TEST(SanitizerReports, EachKindIsFoundWithAnExcerptFromItsFirstLine) {
    std::string asan = "[info] listening\n"
                       "=================================================================\n"
                       "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000014\n"
                       "READ of size 4 at 0x602000000014 thread T0\n"
                       "    #0 0x55746ea1afbc in leaveDocument src/services/cursors.cpp:310\n";
    std::string report = findSanitizerReport(asan);
    EXPECT_EQ(report.rfind("==4242==ERROR: AddressSanitizer: heap-use-after-free", 0), 0u) << report;
    EXPECT_NE(report.find("cursors.cpp:310"), std::string::npos);

    EXPECT_NE(findSanitizerReport("==7==ERROR: LeakSanitizer: detected memory leaks\n"), "");
    EXPECT_NE(findSanitizerReport("==================\nWARNING: ThreadSanitizer: data race (pid=9)\n"), "");
    EXPECT_NE(findSanitizerReport("ThreadSanitizer:DEADLYSIGNAL\n==9==ERROR: ThreadSanitizer: SEGV on unknown address\n"), "");
    EXPECT_NE(findSanitizerReport("/src/protocol/json.cpp:42:17: runtime error: 1e+300 is outside the range of "
                                  "representable values of type 'long int'\n"),
              "");
    EXPECT_NE(findSanitizerReport("/a dir/with spaces/x.cpp:1:2: runtime error: load of misaligned address"), "");
}

TEST(SanitizerReports, OrdinaryLogLinesAreNotReports) {
    EXPECT_EQ(findSanitizerReport(""), "");
    EXPECT_EQ(findSanitizerReport("[2026-12-01 04:00:00] [error] service calc failed: runtime error: divide\n"
                                  "[warn] redis engine: ERROR: wrong number of arguments\n"
                                  "[info] ERROR: AddressSanitizer-like text without its colon\n"),
              "");
}

TEST(SanitizerReports, TheExcerptIsBounded) {
    std::string log = "==1==ERROR: AddressSanitizer: stack-use-after-return\n";
    for (int i = 0; i < 500; ++i) log += "    #" + std::to_string(i) + " frame\n";
    std::string report = findSanitizerReport(log, 40);
    EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 40);
}

TEST(SanitizerReports, AReportFailsTheTestWithTheExcerpt) {
    EXPECT_NONFATAL_FAILURE(failOnSanitizerReport("==5==ERROR: LeakSanitizer: detected memory leaks\n", "snorky (pid 5)"),
                            "sanitizer report from snorky (pid 5):\n==5==ERROR: LeakSanitizer");
    EXPECT_FALSE(failOnSanitizerReport("all good\n", "snorky"));
}

#ifdef SNORKY_SANITIZER_CANARY
// End to end with this build's own sanitizer runtime: a deliberately faulty
// program (tests/sanitizers/canary.cpp, never part of the product), started
// the way tests start the server, fails the test that started it.
TEST(SanitizerReports, AFaultyChildFailsTheTestThatStartedIt) {
#if SNORKY_SANITIZER_THREAD
    const std::vector<std::string> faults = {"race"};
#else
    const std::vector<std::string> faults = {"use-after-free", "float-cast-overflow", "leak"};
#endif
    const char* expected = "sanitizer report from ";
    for (const std::string& fault : faults) {
        SCOPED_TRACE(fault);
        EXPECT_NONFATAL_FAILURE(runProgram(SNORKY_SANITIZER_CANARY, {fault}), expected);
        EXPECT_NONFATAL_FAILURE(
            {
                ChildProcess child({SNORKY_SANITIZER_CANARY, fault});
                child.wait();
            },
            expected);
    }
    // And a clean run passes.
    ProgramResult clean = runProgram(SNORKY_SANITIZER_CANARY, {"none"});
    EXPECT_EQ(clean.exitCode, 0) << clean.err;
}
#endif
