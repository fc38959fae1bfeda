#pragma once
// Filter expressions (protocol.md section 7), compiled once per subscription
// item and evaluated against every row of the model:
//   ["==", "team.id", 7]   ["<", "age", 21]   "<=", ">", ">="
//   ["and", e1, e2, ...]   ["or", e1, ...]    ["not", e]
// Field names are dotted paths into nested objects. "==" compares JSON values
// (7 equals 7.0, object key order does not matter); ordering comparisons hold
// only between two numbers or two strings (strings by code point). A missing
// field or incomparable types make a comparison false (so ["not", ...] of it
// is true). An empty "and" is true, an empty "or" false.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "snorky/protocol/json.hpp"

namespace snorky::datasync {

// A query a dealer cannot use; the backend answers "Invalid query".
class InvalidQuery : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

class Filter {
public:
    // Deeper expressions are refused (the evaluator recurses).
    static constexpr std::size_t kMaxDepth = 64;

    // Throws InvalidQuery with a reason when `expression` is not a filter.
    static Filter compile(const json::value& expression);

    bool matches(const json::value& data) const { return nodes_.empty() || evaluate(0, data); }
    // Asks the CPU to start loading what matches() reads: routing walks
    // filters scattered in memory, where cache misses cost more than the checks.
    void prefetch() const {
        __builtin_prefetch(nodes_.data());
        __builtin_prefetch(nextLine(nodes_.data()));
        __builtin_prefetch(texts_.data());
        __builtin_prefetch(nextLine(texts_.data()));
    }

    // An equality every matching row satisfies: the expression itself when it
    // is ["==", path, value], or such a conjunct of an "and" (nested "and"s
    // included). `key` is canonicalJson(value), the same key a row's field
    // gives, so dealers can index filters by it.
    struct Equality {
        std::string path;
        std::string key;
    };
    const std::vector<Equality>& equalities() const { return equalities_; }

private:
    // The cache line after p, computed as an integer: a filter without
    // comparisons has no texts (data() is null) and a short vector ends before
    // it, where pointer arithmetic is undefined. Prefetching never faults.
    static const void* nextLine(const void* p) {
        return reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + 64);
    }

    enum class Op : std::uint8_t { Eq, Lt, Le, Gt, Ge, And, Or, Not };
    // Nodes are stored flat in pre-order (a node's operands follow it), so a
    // filter is a few contiguous cache lines rather than a tree of pointers.
    struct Node {
        Op op = Op::And;
        std::uint32_t end = 0;   // one past the last node of this subtree
        std::uint32_t text = 0;  // comparisons: the path in texts_; for "==" against
                                 // an object or array, its canonicalJson follows it
        json::value value;       // comparisons: the constant
    };

    void compileNode(const json::value& expression, std::size_t depth);
    bool evaluate(std::uint32_t at, const json::value& data) const;
    void collectEqualities(std::uint32_t at);

    std::vector<Node> nodes_;  // empty only in a moved-from or default filter
    std::vector<std::string> texts_;
    std::vector<Equality> equalities_;
};

// JSON equality as the filter language defines it; equal values give equal
// canonicalJson() strings.
bool filterEqual(const json::value& a, const json::value& b);

}  // namespace snorky::datasync
