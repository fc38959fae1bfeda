#pragma once
// Boost.JSON 1.81 parses numbers beyond double's range to non-finite values
// ("1e400" is Infinity, "0e400" is NaN) and serializes them as the invalid
// JSON `Infinity` / `NaN`. parseEnvelope refuses them (issue 11, section 5),
// so no message that reaches a service holds one; targets that parse JSON
// themselves skip such inputs rather than hold them to the JSON invariants
// (canonical keys parse back, equality is reflexive).
#include <cmath>

#include "snorky/protocol/json.hpp"

namespace snorky::fuzz {

inline bool hasNonFinite(const json::value& value) {
    if (value.is_double()) return !std::isfinite(value.get_double());
    if (const json::array* array = value.if_array()) {
        for (const auto& item : *array)
            if (hasNonFinite(item)) return true;
    } else if (const json::object* object = value.if_object()) {
        for (const auto& member : *object)
            if (hasNonFinite(member.value())) return true;
    }
    return false;
}

}  // namespace snorky::fuzz
