#pragma once
// Server-side control over connections (docs/channel-authorization.md, "Kick
// a user"). The frontend AdminService offers no command to clients: it only
// knows the connections of its registry. Its AdminBackend closes every
// connection of an identity on every node: the request goes through the
// engine, so each node closes its own.
//
// Close codes the JS client understands: kCloseNoReconnect (4001) means "do
// not come back" (the client stops), kCloseMayReconnect (4000) lets it
// reconnect as after any loss.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "snorky/core/broker.hpp"
#include "snorky/core/rpc_service.hpp"

namespace snorky {

class AdminService : public RpcService, private BrokerListener {
public:
    static constexpr std::uint16_t kCloseMayReconnect = 4000;
    static constexpr std::uint16_t kCloseNoReconnect = 4001;
    static constexpr std::size_t kMaxReasonBytes = 123;  // what a close frame holds (RFC 6455 5.5)

    explicit AdminService(std::string name);
    ~AdminService() override;

    // Closes every connection whose identity is `identity`, on every node.
    void disconnect(const json::value& identity, const std::string& reason, bool mayReconnect);
    std::size_t connectionCount() const { return clients_.size(); }

protected:
    void onConnect(const ClientPtr& client) override;
    void onDisconnect(const ClientPtr& client) override;
    void onAttach() override;

private:
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;

    std::string controlTopic_;
    std::unordered_map<const Client*, ClientPtr> clients_;  // this node's connections of the registry
};

class AdminBackend : public RpcService {
public:
    // Commands: disconnect {identity, reason?, reconnect?} -> null.
    AdminBackend(std::string name, AdminService& admin);

private:
    void disconnect(Request& req);
    AdminService& admin_;
};

}  // namespace snorky
