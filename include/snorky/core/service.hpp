#pragma once
// A Service holds real-time logic under a name. The registry calls it with the
// node's service lock held, so a service is plain single-threaded code.
#include <memory>
#include <string>

#include "snorky/core/client.hpp"
#include "snorky/core/node.hpp"
#include "snorky/protocol/frame.hpp"
#include "snorky/protocol/json.hpp"

namespace snorky {

class Service {
public:
    explicit Service(std::string name) : name_(std::move(name)) {}
    virtual ~Service() = default;
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    const std::string& name() const { return name_; }

    // A message for this service from a client (the envelope already removed).
    virtual void onMessage(const ClientPtr& client, json::value message) = 0;
    // Every service of a registry hears every (WebSocket) client come and go;
    // on disconnect it drops everything the client held.
    virtual void onConnect(const ClientPtr&) {}
    virtual void onDisconnect(const ClientPtr&) {}
    // Counts for the status page (channels, members...), with the service
    // lock held: cheap, and nothing that names a client.
    virtual json::object stats() const { return {}; }

    // Set by the registry on registration; services use it for the broker and timers.
    void attach(Node& node) { node_ = &node; onAttach(); }
    bool attached() const { return node_ != nullptr; }

protected:
    virtual void onAttach() {}
    Node& node() { return *node_; }

    // Sends one message to one client, wrapped in this service's envelope.
    void send(const ClientPtr& client, const json::value& message) const {
        client->send(frame(message));
    }
    // Serializes a message once, for sending the same frame to many clients.
    FramePtr frame(const json::value& message) const { return Frame::envelope(name_, message); }

private:
    std::string name_;
    Node* node_ = nullptr;
};
using ServicePtr = std::shared_ptr<Service>;

}  // namespace snorky
