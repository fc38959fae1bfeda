#include "snorky/protocol/json.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace snorky {
namespace {

void writeCanonical(const json::value& value, std::string& out) {
    if (const json::object* object = value.if_object()) {
        std::vector<const json::key_value_pair*> members;
        members.reserve(object->size());
        for (const auto& member : *object) members.push_back(&member);
        std::sort(members.begin(), members.end(),
                  [](auto* a, auto* b) { return a->key() < b->key(); });
        out += '{';
        for (std::size_t i = 0; i < members.size(); ++i) {
            if (i) out += ',';
            out += json::serialize(members[i]->key());
            out += ':';
            writeCanonical(members[i]->value(), out);
        }
        out += '}';
    } else if (const json::array* array = value.if_array()) {
        out += '[';
        for (std::size_t i = 0; i < array->size(); ++i) {
            if (i) out += ',';
            writeCanonical((*array)[i], out);
        }
        out += ']';
    } else if (auto integer = value.is_double() ? exactInteger(value) : std::nullopt) {
        // 7 and 7.0 are the same JSON number: one key for both.
        out += std::to_string(*integer);
    } else {
        out += json::serialize(value);
    }
}

// A copy of `value` with every non-finite number replaced by null.
json::value withFiniteNumbers(const json::value& value) {
    if (const json::object* object = value.if_object()) {
        json::object copy;
        copy.reserve(object->size());
        for (const auto& member : *object) copy.emplace(member.key(), withFiniteNumbers(member.value()));
        return copy;
    }
    if (const json::array* array = value.if_array()) {
        json::array copy;
        copy.reserve(array->size());
        for (const auto& element : *array) copy.push_back(withFiniteNumbers(element));
        return copy;
    }
    if (value.is_double() && !std::isfinite(value.get_double())) return nullptr;
    return value;
}

}  // namespace

std::string canonicalJson(const json::value& value) {
    std::string out;
    writeCanonical(value, out);
    return out;
}

const json::value* findPath(const json::value& root, std::string_view dottedPath) {
    const json::value* current = &root;
    while (true) {
        const json::object* object = current->if_object();
        if (!object) return nullptr;
        auto dot = dottedPath.find('.');
        auto it = object->find(dottedPath.substr(0, dot));
        if (it == object->end()) return nullptr;
        current = &it->value();
        if (dot == std::string_view::npos) return current;
        dottedPath.remove_prefix(dot + 1);
    }
}

bool allNumbersFinite(const json::value& value) {
    switch (value.kind()) {
        case json::kind::double_: return std::isfinite(value.get_double());
        case json::kind::object:
            for (const auto& member : value.get_object())
                if (!allNumbersFinite(member.value())) return false;
            return true;
        case json::kind::array:
            for (const auto& element : value.get_array())
                if (!allNumbersFinite(element)) return false;
            return true;
        default: return true;
    }
}

std::optional<std::int64_t> exactInteger(const json::value& value) {
    switch (value.kind()) {
        case json::kind::int64: return value.get_int64();
        case json::kind::uint64:
            if (value.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
            return static_cast<std::int64_t>(value.get_uint64());
        case json::kind::double_: {
            double d = value.get_double();
            // Range first: converting a double outside [-2^63, 2^63) (or NaN)
            // to an integer is undefined behaviour. Both bounds are exact doubles.
            if (!(d >= -0x1p63 && d < 0x1p63)) return std::nullopt;
            auto integer = static_cast<std::int64_t>(d);
            if (static_cast<double>(integer) != d) return std::nullopt;
            return integer;
        }
        default: return std::nullopt;
    }
}

void appendJson(const json::value& value, std::string& out) {
    // Input is checked at parse time, so the copy is for values a service
    // computed itself; the walk is cheap next to the serialization.
    if (allNumbersFinite(value)) out += json::serialize(value);
    else out += json::serialize(withFiniteNumbers(value));
}

}  // namespace snorky
