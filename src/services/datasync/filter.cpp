#include "snorky/services/datasync/filter.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace snorky::datasync {
namespace {

// A number the way canonicalJson() prints it: integral values (whatever their
// JSON representation) as an integer, others as a double. Two numbers are
// equal exactly when their canonical texts are, which keeps "==" and the
// dealers' index keys in agreement.
struct NumberKey {
    enum Kind { Int, UInt, Double } kind;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    bool operator==(const NumberKey& o) const {
        if (kind != o.kind) return false;
        switch (kind) {
            case Int: return i == o.i;
            case UInt: return u == o.u;
            case Double: return d == o.d;
        }
        return false;
    }
};

NumberKey numberKey(const json::value& v) {
    if (auto integer = exactInteger(v)) return {NumberKey::Int, *integer};
    if (v.is_uint64()) return {NumberKey::UInt, 0, v.get_uint64()};
    return {NumberKey::Double, 0, 0, v.get_double()};
}

// Orders two numbers: -1, 0 or 1.
int compareNumbers(const json::value& a, const json::value& b) {
    if (a.is_int64() && b.is_int64()) {
        auto x = a.get_int64(), y = b.get_int64();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_uint64() && b.is_uint64()) {
        auto x = a.get_uint64(), y = b.get_uint64();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    double x = a.to_number<double>(), y = b.to_number<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

bool filterEqual(const json::value& a, const json::value& b) {
    if (a.is_number() && b.is_number()) return numberKey(a) == numberKey(b);
    if (a.kind() != b.kind()) return false;
    if (a.is_object() || a.is_array()) return canonicalJson(a) == canonicalJson(b);
    return a == b;
}

Filter Filter::compile(const json::value& expression) {
    Filter filter;
    filter.compileNode(expression, 0);
    filter.collectEqualities(0);
    filter.nodes_.shrink_to_fit();
    filter.texts_.shrink_to_fit();
    return filter;
}

void Filter::compileNode(const json::value& expression, std::size_t depth) {
    if (depth >= kMaxDepth) throw InvalidQuery("filter nested too deeply");
    const json::array* array = expression.if_array();
    if (!array || array->empty()) throw InvalidQuery("a filter is a non-empty array");
    const json::string* name = (*array)[0].if_string();
    if (!name) throw InvalidQuery("a filter starts with an operator name");

    static const std::pair<std::string_view, Op> kOps[] = {
        {"==", Op::Eq}, {"<", Op::Lt},   {"<=", Op::Le}, {">", Op::Gt},
        {">=", Op::Ge}, {"and", Op::And}, {"or", Op::Or}, {"not", Op::Not},
    };
    Op op = Op::And;
    bool known = false;
    for (const auto& [text, candidate] : kOps)
        if (*name == text) op = candidate, known = true;
    if (!known) throw InvalidQuery("unknown filter operator '" + std::string(*name) + "'");

    std::size_t at = nodes_.size();
    nodes_.push_back(Node{op, 0, 0, nullptr});
    switch (op) {
        case Op::Not:
            if (array->size() != 2) throw InvalidQuery("\"not\" takes one expression");
            [[fallthrough]];
        case Op::And:
        case Op::Or:
            for (std::size_t i = 1; i < array->size(); ++i) compileNode((*array)[i], depth + 1);
            nodes_[at].end = static_cast<std::uint32_t>(nodes_.size());
            return;
        default: break;
    }
    if (array->size() != 3) throw InvalidQuery("a comparison is [operator, field, value]");
    const json::string* path = (*array)[1].if_string();
    if (!path || path->empty()) throw InvalidQuery("a comparison's field is a non-empty string");
    Node& node = nodes_[at];
    node.end = static_cast<std::uint32_t>(at + 1);
    node.text = static_cast<std::uint32_t>(texts_.size());
    node.value = (*array)[2];
    texts_.emplace_back(*path);
    // Composite constants are canonicalized once here, not per row.
    if (op == Op::Eq && (node.value.is_object() || node.value.is_array())) texts_.push_back(canonicalJson(node.value));
}

bool Filter::evaluate(std::uint32_t at, const json::value& data) const {
    const Node& node = nodes_[at];
    switch (node.op) {
        case Op::And:
            for (std::uint32_t i = at + 1; i < node.end; i = nodes_[i].end)
                if (!evaluate(i, data)) return false;
            return true;
        case Op::Or:
            for (std::uint32_t i = at + 1; i < node.end; i = nodes_[i].end)
                if (evaluate(i, data)) return true;
            return false;
        case Op::Not: return !evaluate(at + 1, data);
        default: break;
    }
    const json::value* field = findPath(data, texts_[node.text]);
    if (!field) return false;
    if (node.op == Op::Eq) {
        if (node.value.is_object() || node.value.is_array())
            return field->kind() == node.value.kind() && canonicalJson(*field) == texts_[node.text + 1];
        return filterEqual(*field, node.value);
    }
    int order;
    if (field->is_number() && node.value.is_number()) {
        order = compareNumbers(*field, node.value);
    } else if (field->is_string() && node.value.is_string()) {
        // UTF-8 byte order is code point order.
        std::string_view a = field->get_string(), b = node.value.get_string();
        int c = a.compare(b);
        order = c < 0 ? -1 : (c > 0 ? 1 : 0);
    } else {
        return false;
    }
    switch (node.op) {
        case Op::Lt: return order < 0;
        case Op::Le: return order <= 0;
        case Op::Gt: return order > 0;
        case Op::Ge: return order >= 0;
        default: return false;
    }
}

void Filter::collectEqualities(std::uint32_t at) {
    const Node& node = nodes_[at];
    if (node.op == Op::Eq) {
        equalities_.push_back(Equality{texts_[node.text], canonicalJson(node.value)});
    } else if (node.op == Op::And) {
        for (std::uint32_t i = at + 1; i < node.end; i = nodes_[i].end) collectEqualities(i);
    }
}

}  // namespace snorky::datasync
