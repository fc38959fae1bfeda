#include "snorky/core/service_registry.hpp"

#include <mutex>
#include <stdexcept>

#include "snorky/protocol/envelope.hpp"

namespace snorky {

void ServiceRegistry::registerService(ServicePtr service) {
    const std::string& name = service->name();
    if (services_.count(name)) throw std::invalid_argument("service '" + name + "' is already registered");
    service->attach(node_);
    services_.emplace(name, std::move(service));
}

bool ServiceRegistry::unregisterService(const std::string& name) { return services_.erase(name) > 0; }

json::object ServiceRegistry::stats() const {
    json::object out;
    for (const auto& [name, service] : services_)
        if (json::object figures = service->stats(); !figures.empty()) out[name] = std::move(figures);
    return out;
}

Service* ServiceRegistry::find(std::string_view name) const {
    auto it = services_.find(name);
    return it == services_.end() ? nullptr : it->second.get();
}

void ServiceRegistry::processMessage(const ClientPtr& client, std::string_view text) {
    // Parsing happens outside the service lock: it is the expensive part.
    auto parsed = parseEnvelope(text);
    if (auto* reason = std::get_if<DropReason>(&parsed)) return node_.drop(client, *reason);
    auto& envelope = std::get<Envelope>(parsed);
    node_.metrics().messagesReceived.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard guard(node_.serviceLock());
    dispatchLocked(client, envelope.service, std::move(envelope.message));
}

void ServiceRegistry::dispatch(const ClientPtr& client, std::string_view service, json::value message) {
    std::lock_guard guard(node_.serviceLock());
    dispatchLocked(client, service, std::move(message));
}

void ServiceRegistry::dispatchLocked(const ClientPtr& client, std::string_view service, json::value message) {
    Service* target = find(service);
    if (!target) return node_.drop(client, DropReason::UnknownService);
    try {
        target->onMessage(client, std::move(message));
    } catch (const std::exception& error) {
        // A failing service must not take the connection or the server down.
        SNORKY_LOG(Error, "service " << target->name() << " failed on a message from " << client->remoteAddress()
                                     << ": " << error.what());
    }
}

void ServiceRegistry::clientConnected(const ClientPtr& client) {
    std::lock_guard guard(node_.serviceLock());
    for (auto& [name, service] : services_) service->onConnect(client);
}

void ServiceRegistry::clientDisconnected(const ClientPtr& client) {
    std::lock_guard guard(node_.serviceLock());
    for (auto& [name, service] : services_) service->onDisconnect(client);
}

}  // namespace snorky
