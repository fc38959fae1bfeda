#pragma once
// What a test can observe of a running server instead of sleeping until it
// has probably happened: wait on these with snorky::testing::waitUntil.
#include <optional>
#include <string>

#include "support/wait_until.hpp"

namespace snorky::it {

using snorky::testing::tcpPeerClosed;
using snorky::testing::waitUntil;

// The value of snorky_<name> in GET /metrics on the backend port, or nullopt
// when the server does not answer or has no such metric.
std::optional<long long> metric(int backendPort, const std::string& name);

}  // namespace snorky::it
