#pragma once
// Typed reading of one config table (a service's or a listener's options),
// converted to JSON so that services never depend on the config format.
// Unknown keys are errors: a typo must not silently fall back to a default.
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "snorky/protocol/json.hpp"

namespace snorky::server {

// A configuration mistake; `what()` is a complete message for the user,
// e.g. "snorky.toml:12: service 'chat': unknown option 'max_cursor'".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Options {
public:
    // `where` prefixes errors, e.g. "snorky.toml:12: service 'pubsub'".
    Options(json::object values, std::string where) : values_(std::move(values)), where_(std::move(where)) {}

    std::string string(const std::string& key, std::string fallback);
    std::string requiredString(const std::string& key);
    std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min = 0,
                         std::int64_t max = INT64_MAX);
    double number(const std::string& key, double fallback);
    bool boolean(const std::string& key, bool fallback);
    std::vector<std::string> strings(const std::string& key);
    // Any JSON value (arrays of tables, nested tables...).
    const json::value* raw(const std::string& key);
    bool has(const std::string& key) const { return values_.contains(key); }

    // A copy of the values with one key replaced (command-line overrides).
    json::object with(const std::string& key, json::value value) const {
        json::object copy = values_;
        copy[key] = std::move(value);
        return copy;
    }

    // Every value as written (comparing a reloaded config with the running one).
    const json::object& values() const { return values_; }

    // Throws when a key was never asked for.
    void finish() const;
    [[noreturn]] void fail(const std::string& message) const;
    const std::string& where() const { return where_; }
    // Where row `index` of an array of tables under `key` was written
    // ("snorky.toml:14: service 'pubsub': namespace #2"), for errors about
    // one row; the entry's own line when the row's line is not known.
    std::string rowWhere(const std::string& key, std::size_t index) const;
    void setRowLines(const std::string& key, std::vector<std::string> locations) {
        rowLines_[key] = std::move(locations);
    }

private:
    const json::value* take(const std::string& key);
    json::object values_;
    std::string where_;
    std::set<std::string> used_;
    std::map<std::string, std::vector<std::string>> rowLines_;  // key -> "file:line" of each row
};

}  // namespace snorky::server
