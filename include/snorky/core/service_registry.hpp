#pragma once
// A ServiceRegistry maps service names to services for one group of
// listeners (the WebSocket frontend, the HTTP backend...). It decodes
// envelopes, dispatches them under the node's service lock, and tells every
// service when a client connects or disconnects.
#include <map>
#include <string>
#include <string_view>

#include "snorky/core/node.hpp"
#include "snorky/core/service.hpp"

namespace snorky {

class ServiceRegistry {
public:
    ServiceRegistry(std::string name, Node& node) : name_(std::move(name)), node_(node) {}

    const std::string& name() const { return name_; }
    Node& node() { return node_; }

    // Registration happens at start-up or with the service lock held.
    void registerService(ServicePtr service);
    bool unregisterService(const std::string& name);
    Service* find(std::string_view name) const;
    template <class T>
    T* findAs(std::string_view name) const { return dynamic_cast<T*>(find(name)); }
    std::size_t size() const { return services_.size(); }
    // Each service's stats() that has any, by service name (service lock held).
    json::object stats() const;

    // Parses one inbound envelope (any thread, lock not held) and dispatches it.
    void processMessage(const ClientPtr& client, std::string_view text);
    // Dispatches an already-decoded envelope.
    void dispatch(const ClientPtr& client, std::string_view service, json::value message);

    void clientConnected(const ClientPtr& client);
    void clientDisconnected(const ClientPtr& client);

private:
    void dispatchLocked(const ClientPtr& client, std::string_view service, json::value message);

    std::string name_;
    Node& node_;
    std::map<std::string, ServicePtr, std::less<>> services_;
};

}  // namespace snorky
