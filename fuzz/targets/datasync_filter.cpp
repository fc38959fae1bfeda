// DataSync filters (src/services/datasync/filter.cpp): the input is a JSON
// array [filter, row, row...]. The filter is compiled (InvalidQuery is the
// only acceptable failure) and evaluated against each row. Checks what the
// dealers rely on: a row that matches satisfies every equality the filter
// reports, with the same canonical key the dealers index it by.
#include <string>

#include "finite.hpp"
#include "fuzz_check.hpp"
#include "snorky/services/datasync/filter.hpp"

using namespace snorky;
using namespace snorky::datasync;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    json::error_code ec;
    json::value input = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec || !input.is_array() || input.as_array().empty()) return 0;
    if (fuzz::hasNonFinite(input)) return 0;  // see finite.hpp
    const json::array& items = input.as_array();
    Filter filter;
    try {
        filter = Filter::compile(items[0]);
    } catch (const InvalidQuery&) {
        return 0;
    }
    for (std::size_t i = 1; i < items.size(); ++i) {
        const json::value& row = items[i];
        filter.prefetch();
        if (!filter.matches(row)) continue;
        for (const auto& equality : filter.equalities()) {
            const json::value* field = findPath(row, equality.path);
            FUZZ_CHECK(field != nullptr);
            FUZZ_CHECK(canonicalJson(*field) == equality.key);
        }
    }
    // filterEqual is an equivalence that agrees with canonicalJson.
    for (std::size_t i = 1; i + 1 < items.size(); ++i) {
        bool equal = filterEqual(items[i], items[i + 1]);
        FUZZ_CHECK(equal == filterEqual(items[i + 1], items[i]));
        FUZZ_CHECK(filterEqual(items[i], items[i]));
        if (equal) FUZZ_CHECK(canonicalJson(items[i]) == canonicalJson(items[i + 1]));
    }
    return 0;
}
