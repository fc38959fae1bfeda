#pragma once
// The answer to a client message refused by the rate limit (WebSocket and
// SockJS alike): an RPC error for the service it was sent to, with its callId
// (null when it had none), as a refused call would get. Nothing for what is
// not an envelope to a service of the registry (it would be dropped
// unanswered anyway).
#include <string_view>

#include "snorky/core/service_registry.hpp"
#include "snorky/protocol/frame.hpp"

namespace snorky {

FramePtr rateLimitedReply(std::string_view text, const ServiceRegistry& registry);

}  // namespace snorky
