#include "snorky/core/metrics.hpp"

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
    counter("rate_limited_total", "Inbound WebSocket messages refused over the per-connection rate limit.", rateLimited);
    counter("rate_limit_disconnects_total", "WebSocket connections closed (1008) for staying over the rate limit.", rateLimitDisconnects);
    counter("connections_per_ip_refused_total", "WebSocket upgrades refused (429) over max_connections_per_ip.", perIpRefused);
    counter("handshakes_refused_total", "Connections closed at accept because max_handshakes were in progress.", handshakesRefused);
    counter("backend_requests_total", "Backend HTTP requests answered.", backendRequests);
    counter("backend_rejected_total", "Backend HTTP requests refused with a 4xx/5xx status.", backendRejected);
    counter("engine_published_total", "Messages sent to other nodes through the scale-out engine.", enginePublished);
    counter("engine_received_total", "Messages received from other nodes through the scale-out engine.", engineReceived);
    counter("engine_dropped_total", "Messages not sent to other nodes (engine down or backlog full).", engineDropped);
    counter("engine_disconnects_total", "Times the connection to the scale-out engine was lost or refused.", engineDisconnects);
    counter("engine_reconnects_total", "Times the connection to the scale-out engine came back.", engineReconnects);
    counter("memory_trims_total", "Times freed memory was handed back to the system (memory_trim_interval).", memoryTrims);
    counter("history_evictions_total", "History streams or messages dropped over the history memory cap.", historyEvictions);
    auto seconds = [](std::uint64_t micros) { return std::to_string(static_cast<double>(micros) / 1e6); };
    out += "# HELP snorky_memory_trim_seconds_total Time spent handing freed memory back to the system.\n";
    out += "# TYPE snorky_memory_trim_seconds_total counter\n";
    out += "snorky_memory_trim_seconds_total " + seconds(memoryTrimMicros.load()) + "\n";
    out += "# HELP snorky_memory_trim_max_seconds The longest single hand-back so far.\n";
    out += "# TYPE snorky_memory_trim_max_seconds gauge\n";
    out += "snorky_memory_trim_max_seconds " + seconds(memoryTrimMaxMicros.load()) + "\n";
    out += "# HELP snorky_engine_up 1 while connected to the scale-out engine (0 with the in-memory broker).\n";
    out += "# TYPE snorky_engine_up gauge\n";
    out += "snorky_engine_up " + std::to_string(engineUp.load()) + "\n";
    out += "# HELP snorky_history_bytes Bytes of message history held by the memory engine.\n";
    out += "# TYPE snorky_history_bytes gauge\n";
    out += "snorky_history_bytes " + std::to_string(historyBytes.load()) + "\n";
    out += "# HELP snorky_history_streams Channel history streams held by the memory engine.\n";
    out += "# TYPE snorky_history_streams gauge\n";
    out += "snorky_history_streams " + std::to_string(historyStreams.load()) + "\n";
    out += "# HELP snorky_connections_open WebSocket connections open now.\n";
    out += "# TYPE snorky_connections_open gauge\n";
    out += "snorky_connections_open " + std::to_string(connectionsOpen()) + "\n";
    return out;
}

}  // namespace snorky
