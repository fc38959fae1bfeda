#include "server/options.hpp"

namespace snorky::server {

const json::value* Options::take(const std::string& key) {
    used_.insert(key);
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->value();
}

void Options::fail(const std::string& message) const { throw ConfigError(where_ + ": " + message); }

std::string Options::string(const std::string& key, std::string fallback) {
    const json::value* v = take(key);
    if (!v) return fallback;
    if (!v->is_string()) fail("option '" + key + "' must be a string");
    return std::string(v->as_string());
}

std::string Options::requiredString(const std::string& key) {
    if (!has(key)) fail("option '" + key + "' is required");
    return string(key, "");
}

std::int64_t Options::integer(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    const json::value* v = take(key);
    if (!v) return fallback;
    if (!v->is_int64()) fail("option '" + key + "' must be an integer");
    std::int64_t n = v->as_int64();
    if (n < min || n > max)
        fail("option '" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
}

double Options::number(const std::string& key, double fallback) {
    const json::value* v = take(key);
    if (!v) return fallback;
    if (!v->is_number()) fail("option '" + key + "' must be a number");
    return v->to_number<double>();
}

bool Options::boolean(const std::string& key, bool fallback) {
    const json::value* v = take(key);
    if (!v) return fallback;
    if (!v->is_bool()) fail("option '" + key + "' must be true or false");
    return v->as_bool();
}

std::vector<std::string> Options::strings(const std::string& key) {
    const json::value* v = take(key);
    std::vector<std::string> out;
    if (!v) return out;
    if (!v->is_array()) fail("option '" + key + "' must be an array of strings");
    for (const auto& item : v->as_array()) {
        if (!item.is_string()) fail("option '" + key + "' must be an array of strings");
        out.emplace_back(item.as_string());
    }
    return out;
}

std::string Options::rowWhere(const std::string& key, std::size_t index) const {
    std::string row = ": " + key + " #" + std::to_string(index + 1);
    auto lines = rowLines_.find(key);
    if (lines == rowLines_.end() || index >= lines->second.size()) return where_ + row;
    // where_ is "file:line: entry"; the row keeps the entry's name but its own line.
    std::string::size_type entry = where_.find(": ");
    return lines->second[index] + (entry == std::string::npos ? "" : where_.substr(entry)) + row;
}

const json::value* Options::raw(const std::string& key) { return take(key); }

void Options::finish() const {
    for (const auto& member : values_)
        if (!used_.count(std::string(member.key()))) fail("unknown option '" + std::string(member.key()) + "'");
}

}  // namespace snorky::server
