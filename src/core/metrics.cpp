#include "snorky/metrics.hpp"

namespace snorky {

std::string Metrics::render() const {
    std::string out;
    auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
        out += "# HELP snorky_"; out += name; out += ' '; out += help; out += '\n';
        out += "# TYPE snorky_"; out += name; out += " counter\n";
        out += "snorky_"; out += name; out += ' '; out += std::to_string(value); out += '\n';
    };
    counter("connections_opened_total", "WebSocket connections accepted.", connectionsOpened);
    counter("connections_closed_total", "WebSocket connections ended.", connectionsClosed);
    counter("messages_received_total", "Inbound envelopes processed.", messagesReceived);
    counter("messages_dropped_total", "Inbound messages dropped as malformed or unroutable.", messagesDropped);
    counter("frames_sent_total", "Frames queued to WebSocket clients.", framesSent);
    counter("slow_consumers_total", "Connections cut off for exceeding their outbound queue.", slowConsumers);
    counter("backend_requests_total", "Backend HTTP requests answered.", backendRequests);
    counter("backend_rejected_total", "Backend HTTP requests refused with a 4xx/5xx status.", backendRejected);
    out += "# HELP snorky_connections_open WebSocket connections open now.\n";
    out += "# TYPE snorky_connections_open gauge\n";
    out += "snorky_connections_open " + std::to_string(connectionsOpen()) + "\n";
    return out;
}

}  // namespace snorky
