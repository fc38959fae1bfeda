#pragma once
// Snorky speaks JSON everywhere; Boost.JSON is its value type.
#include <boost/json.hpp>
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

}  // namespace snorky
