#pragma once
// Messaging (protocol.md section 5): clients register participant names and
// send direct messages from a name they own to another participant. Names are
// freed when their owner disconnects. Who may take which name is a policy
// hook (isNameAllowed); identity is not required by default.
//
// Across nodes (docs/scale-out.md): a name is claimed in the node's cluster
// state (key "messaging:<service>:names:<name>" = owning node id, with an
// expiry the owner refreshes), so it is unique in the cluster, and
// listParticipants lists every node's names. A message to a name owned
// elsewhere is published once on the owner node's topic. The names of a node
// killed without a goodbye expire after `nameTtl`. With the in-memory broker
// all of this stays in the process and behaves the same.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/cluster_state.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/core/timers.hpp"

namespace snorky {

class MessagingService : public RpcService, private BrokerListener {
public:
    struct Options {
        std::size_t maxNamesPerClient = 16;  // names one connection may hold
        std::size_t maxNameBytes = 256;      // longer names are "Name not allowed"
        std::size_t maxBodyBytes = 65536;    // serialized body of one message
        // How long a name outlives a node that vanished (kill -9); the owner
        // refreshes its names every nameTtl / 3.
        std::chrono::milliseconds nameTtl{30000};
    };

    MessagingService(std::string name, Options options);
    explicit MessagingService(std::string name) : MessagingService(std::move(name), Options{}) {}
    ~MessagingService() override;

    // Names owned by this node's clients.
    std::size_t participantCount() const { return participants_.size(); }

protected:
    // Name policy; default: every name is allowed. Override, e.g. to allow
    // only names derived from client->identity(). Called under the service lock.
    virtual bool isNameAllowed(const ClientPtr& client, const std::string& name);

    void onAttach() override;
    void onDisconnect(const ClientPtr& client) override;

    json::object stats() const override;

private:
    // Commands.
    void registerParticipant(const RequestPtr& req);
    void unregisterParticipant(Request& req);
    void listParticipants(const RequestPtr& req);
    void sendMessage(const RequestPtr& req);

    // The cluster's answer to a name claim.
    void onClaimed(const RequestPtr& req, const std::string& participant, ClusterState::Result result);
    // To the destination's owner: `localOwner` here, or the node `ownerNode`.
    void deliver(const RequestPtr& req, const ClientPtr* localOwner, const std::string& ownerNode);
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    std::string keyFor(const std::string& participant) const { return keyPrefix_ + participant; }
    void forgetName(const Client* client, const std::string& participant);
    void refreshNames();

    Options options_;
    std::string keyPrefix_;   // cluster-state keys of this service's names
    std::string nodeTopic_;   // direct messages for names owned on this node
    std::map<std::string, ClientPtr> participants_;  // names owned here
    std::map<std::string, ClientPtr> claiming_;      // names whose cluster claim is in flight
    std::unordered_map<const Client*, std::vector<std::string>> clientNames_;  // owned and claiming
    Timers::Handle refreshTimer_ = 0;
};

}  // namespace snorky
