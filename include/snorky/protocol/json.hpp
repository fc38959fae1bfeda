#pragma once
// Snorky speaks JSON everywhere; Boost.JSON is its value type.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace snorky {
namespace json = boost::json;

// Serializes with object keys sorted at every level, so that two values that
// are equal as JSON (key order aside) give the same string. Used as a map key
// for channels, documents and dealer keys.
std::string canonicalJson(const json::value& value);

// Follows a dotted path ("team.id") through nested objects; nullptr when any
// step is missing or not an object.
const json::value* findPath(const json::value& root, std::string_view dottedPath);

// False when some number in `value` is infinite or NaN. Boost.JSON parses a
// number beyond double range (1e400) as infinity, and infinity has no JSON
// text: input is checked with this so that no service ever holds one.
bool allNumbersFinite(const json::value& value);

// The value as an int64 when it is an integer exactly (7, 7.0, -3e2) and in
// range; nullopt for fractions, magnitudes beyond int64 (1e300, 2^63), NaN,
// infinity and non-numbers. Never converts a double that does not fit.
std::optional<std::int64_t> exactInteger(const json::value& value);

// Appends json::serialize(value) to `out`, except that a non-finite number is
// written as null (as JavaScript's JSON.stringify does): what we send is
// always JSON a client can parse.
void appendJson(const json::value& value, std::string& out);

}  // namespace snorky
