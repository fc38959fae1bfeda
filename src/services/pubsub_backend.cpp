// PubSubBackend: the server side of PubSub (protocol.md section 4 and our
// extensions in docs/protocol.md): publish, subscription tokens, kicking
// subscribers and looking at channels.
#include "snorky/services/identity_tokens.hpp"
#include "snorky/services/pubsub.hpp"

namespace snorky {

namespace {
constexpr const char* kDefaultKickReason = "unsubscribed by the server";
}

PubSubBackend::PubSubBackend(std::string name, PubSubService& pubsub, Options options)
    : RpcService(std::move(name)), pubsub_(pubsub), options_(options) {
    asyncCommand("publish", {required("channel"), required("message")}, &PubSubBackend::publish);
    command("authorizeSubscription",
            {required("channels", ParamType::Array), optional("identity", ParamType::Any),
             optional("lifetime", ParamType::Integer)},
            &PubSubBackend::authorizeSubscription);
    command("unsubscribe",
            {required("channel"), optional("identity", ParamType::Any), optional("reason", ParamType::String)},
            &PubSubBackend::unsubscribe);
    asyncCommand("channels", {optional("prefix", ParamType::String)}, &PubSubBackend::channels);
    asyncCommand("history",
                 {required("channel"), optional("limit", ParamType::Integer), optional("since", ParamType::Integer)},
                 &PubSubBackend::history);
    asyncCommand("presence", {required("channel")}, &PubSubBackend::presence);
}

void PubSubBackend::publish(const RequestPtr& req) {
    // Allowed whatever the policy, but a channel no namespace covers is a typo.
    if (!pubsub_.namespaceFor(req->param("channel"))) throw RpcError(errors::kUnknownNamespace);
    // In call order across nodes: what another node confirmed before this
    // call reaches this node's subscribers first (catchUp), and the answer
    // waits for the engine to take the message, so a publish made after it,
    // through any node, comes after it everywhere.
    node().broker().catchUp([this, req] {
        pubsub_.publish(req->param("channel"), req->param("message"), [req](bool) { req->resolve(); });
    });
}

void PubSubBackend::history(const RequestPtr& req) {
    std::optional<std::size_t> limit;
    std::optional<std::uint64_t> after;
    if (!req->param("limit").is_null()) {
        std::int64_t value = req->integer("limit");
        if (value < 1) throw RpcError(errors::kInvalidParams);
        limit = static_cast<std::size_t>(value);
    }
    if (!req->param("since").is_null()) {
        std::int64_t value = req->integer("since");
        if (value < 0) throw RpcError(errors::kInvalidParams);
        after = static_cast<std::uint64_t>(value);
    }
    pubsub_.history(req->param("channel"), after, limit, [req](std::optional<json::object> answer) {
        if (answer)
            req->resolve(std::move(*answer));
        else
            req->reject(errors::kInternalError);
    });
}

json::value PubSubBackend::authorizeSubscription(Request& req) {
    if (!pubsub_.tokens()) throw RpcError(errors::kTokensNotConfigured);
    const json::array& channels = req.param("channels").as_array();
    if (channels.empty() || channels.size() > SubscriptionTokens::kMaxChannels)
        throw RpcError(errors::kInvalidChannels);
    for (const json::value& channel : channels) {
        if (json::serialize(channel).size() > SubscriptionTokens::kMaxChannelBytes)
            throw RpcError(errors::kInvalidChannels);
        if (!pubsub_.namespaceFor(channel)) throw RpcError(errors::kUnknownNamespace);
    }
    const json::value& identity = req.param("identity");
    if (json::serialize(identity).size() > IdentityTokens::kMaxIdentityBytes) throw RpcError(errors::kInvalidIdentity);
    std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(node().clock().wallNow().time_since_epoch()).count();
    return json::value(pubsub_.tokens()->mint(pubsub_.name(), channels, identity, lifetimeOf(req), now));
}

std::chrono::seconds PubSubBackend::lifetimeOf(Request& req) const {
    if (req.param("lifetime").is_null()) return options_.defaultLifetime;
    std::int64_t requested = req.integer("lifetime");
    if (requested <= 0 || requested > options_.maxLifetime.count()) throw RpcError(errors::kInvalidLifetime);
    return std::chrono::seconds(requested);
}

void PubSubBackend::unsubscribe(Request& req) {
    const json::value& reason = req.param("reason");
    pubsub_.kick(req.param("channel"), req.param("identity"),
                 reason.is_null() ? std::string(kDefaultKickReason) : std::string(reason.as_string()));
}

namespace {
// Answers a gathering: the result, or the engine's unavailability.
PubSubService::Gathered answerTo(const RequestPtr& req) {
    return [req](bool ok, json::array result) {
        if (!ok) return req->reject(errors::kClusterUnavailable);
        req->resolve(std::move(result));
    };
}
}  // namespace

void PubSubBackend::channels(const RequestPtr& req) {
    std::optional<std::string> prefix;
    if (!req->param("prefix").is_null()) prefix = std::string(req->string("prefix"));
    pubsub_.clusterChannelList(prefix, answerTo(req));
}

void PubSubBackend::presence(const RequestPtr& req) { pubsub_.clusterIdentitiesOf(req->param("channel"), answerTo(req)); }

}  // namespace snorky
