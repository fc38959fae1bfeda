#pragma once
// Messaging (protocol.md section 5): clients register participant names and
// send direct messages from a name they own to another participant. Names are
// freed when their owner disconnects. Who may take which name is a policy
// hook (isNameAllowed); identity is not required by default.
//
// Direct messages go to one local client, so they do not go through the
// Broker; names are node-local.
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/rpc_service.hpp"

namespace snorky {

class MessagingService : public RpcService {
public:
    struct Options {
        std::size_t maxNamesPerClient = 16;  // names one connection may hold
        std::size_t maxNameBytes = 256;      // longer names are "Name not allowed"
        std::size_t maxBodyBytes = 65536;    // serialized body of one message
    };

    MessagingService(std::string name, Options options);
    explicit MessagingService(std::string name) : MessagingService(std::move(name), Options{}) {}

    std::size_t participantCount() const { return participants_.size(); }

protected:
    // Name policy; default: every name is allowed. Override, e.g. to allow
    // only names derived from client->identity(). Called under the service lock.
    virtual bool isNameAllowed(const ClientPtr& client, const std::string& name);

    void onDisconnect(const ClientPtr& client) override;

private:
    Options options_;
    std::map<std::string, ClientPtr> participants_;  // sorted, for listParticipants
    std::unordered_map<const Client*, std::vector<std::string>> clientNames_;
};

}  // namespace snorky
