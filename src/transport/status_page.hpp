#pragma once
// The status page of a backend listener (docs/status-page.md): GET /status is
// a self-contained HTML page with no figures in it; its script asks for the
// backend key and polls GET /status.json with it every second.
#include <string>
#include <string_view>

#include "snorky/core/metrics.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

std::string_view statusPageHtml();

// The figures: open connections, the counters the page turns into rates,
// the engine's health and each service's counts.
std::string statusJson(const Metrics& metrics, const json::object& engine, json::object services);

}  // namespace snorky
