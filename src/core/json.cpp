#include <algorithm>
#include <vector>

#include "snorky/json.hpp"

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
    } else if (value.is_double() && value.get_double() == static_cast<double>(static_cast<std::int64_t>(value.get_double())) &&
               std::abs(value.get_double()) < 9.0e15) {
        // 7 and 7.0 are the same JSON number: one key for both.
        out += std::to_string(static_cast<std::int64_t>(value.get_double()));
    } else {
        out += json::serialize(value);
    }
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

}  // namespace snorky
