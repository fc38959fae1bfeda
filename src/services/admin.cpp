#include "snorky/services/admin.hpp"

#include <vector>

#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace {
constexpr const char* kDefaultReason = "Disconnected by the server";
}

AdminService::AdminService(std::string name)
    : RpcService(std::move(name)), controlTopic_("admin-control:" + this->name()) {}

AdminService::~AdminService() {
    if (attached()) node().broker().unsubscribe(controlTopic_);
}

void AdminService::onAttach() { node().broker().subscribe(controlTopic_, this); }

void AdminService::onConnect(const ClientPtr& client) { clients_.emplace(client.get(), client); }

void AdminService::onDisconnect(const ClientPtr& client) { clients_.erase(client.get()); }

void AdminService::disconnect(const json::value& identity, const std::string& reason, bool mayReconnect) {
    json::object command{{"identity", identity}, {"reason", reason}, {"reconnect", mayReconnect}};
    // Through the engine: every node, this one included, closes its own connections.
    node().broker().publish(controlTopic_, frame(command), nullptr);
}

void AdminService::onBrokerMessage(const std::string&, const FramePtr& frame, const Origin&) {
    boost::system::error_code ec;
    json::value envelope = json::parse(frame->payload(), ec);
    if (ec || !envelope.is_object() || !envelope.as_object().contains("message")) return;
    const json::value& command = envelope.at("message");
    if (!command.is_object()) return;
    const json::value* identity = command.as_object().if_contains("identity");
    const json::value* reason = command.as_object().if_contains("reason");
    const json::value* reconnect = command.as_object().if_contains("reconnect");
    if (!identity || identity->is_null() || !reason || !reason->is_string() || !reconnect || !reconnect->is_bool())
        return;
    const std::uint16_t code = reconnect->as_bool() ? kCloseMayReconnect : kCloseNoReconnect;
    for (const auto& [key, client] : clients_)
        if (client->identity() == *identity) client->disconnect(code, reason->as_string());
}

AdminBackend::AdminBackend(std::string name, AdminService& admin) : RpcService(std::move(name)), admin_(admin) {
    command("disconnect",
            {required("identity"), optional("reason", ParamType::String), optional("reconnect", ParamType::Boolean)},
            &AdminBackend::disconnect);
}

void AdminBackend::disconnect(Request& req) {
    const json::value& identity = req.param("identity");
    if (identity.is_null()) throw RpcError(errors::kInvalidIdentity);
    std::string reason = req.param("reason").is_null() ? kDefaultReason : std::string(req.string("reason"));
    if (reason.size() > AdminService::kMaxReasonBytes) throw RpcError(errors::kInvalidReason);
    admin_.disconnect(identity, reason, !req.param("reconnect").is_null() && req.boolean("reconnect"));
}

}  // namespace snorky
