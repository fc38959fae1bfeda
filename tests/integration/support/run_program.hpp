#pragma once
// Runs a program to completion with extra environment variables, capturing
// stdout and stderr apart (for command-line tools such as snorky-call).
#include <map>
#include <string>
#include <vector>

namespace snorky::it {

struct ProgramResult {
    int exitCode = -1;  // -signal when killed
    std::string out;
    std::string err;
};

// `env` entries are added to (or replace) the test's environment; an entry
// with an empty value removes the variable. Gives up (SIGKILL) after 30 s.
ProgramResult runProgram(const std::string& path, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {});

}  // namespace snorky::it
