#pragma once
// Command line of `snorky-call` (parsing only, so it is testable without a
// server). See kCallHelp in call_arguments.cpp for the user-facing contract.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace snorky::connector {

// Exit codes of snorky-call (sysexits.h EX_USAGE for usage errors).
inline constexpr int kExitOk = 0;
inline constexpr int kExitServiceError = 1;
inline constexpr int kExitTransportError = 2;
inline constexpr int kExitUsage = 64;

inline constexpr const char* kDefaultBackendUrl = "http://127.0.0.1:5801/backend";

struct CallArguments {
    std::string url;
    std::string key;
    std::string service;
    std::string command;
    boost::json::object params;
    std::chrono::milliseconds connectTimeout{5000};
    std::chrono::milliseconds requestTimeout{30000};
    bool pretty = false;
};

class UsageError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Looks up an environment variable; empty optional when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> processEnv(const char* name);

// What the command line asks for: run a call, or print help text.
struct CallRequest {
    std::optional<CallArguments> call;  // empty: print `help` and exit 0
    std::string help;
};

// Throws UsageError with a message for the user (unknown option, missing
// SERVICE/COMMAND, a pair without '=', --params not a JSON object, a name
// given twice, no key, a bad URL or timeout).
CallRequest parseCallArguments(int argc, const char* const* argv, const EnvLookup& env = processEnv);

// A name=value value: the JSON it spells when it parses as JSON, else the
// text itself as a string ("42" -> 42, "true" -> true, "hi there" -> "hi there").
boost::json::value parseParamValue(std::string_view text);

}  // namespace snorky::connector
