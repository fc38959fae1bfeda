#include "server/service_factory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "snorky/services/admin.hpp"
#include "snorky/services/auth.hpp"
#include "snorky/services/chat.hpp"
#include "snorky/services/cursors.hpp"
#include "snorky/services/datasync/datasync_service.hpp"
#include "snorky/services/messaging.hpp"
#include "snorky/services/pubsub.hpp"
#include "snorky/services/subscription_tokens.hpp"

namespace snorky::server {

ServicePtr ServiceFactory::build(const std::string& type, const std::string& name, Options& options,
                                 ServiceLookup& lookup) const {
    auto it = builders_.find(type);
    if (it == builders_.end()) options.fail("unknown service type '" + type + "' (known: " + typeList() + ")");
    ServicePtr service = it->second(name, options, lookup);
    options.finish();
    return service;
}

std::string ServiceFactory::typeList() const {
    std::string out;
    for (const auto& [type, builder] : builders_) out += (out.empty() ? "" : ", ") + type;
    return out;
}

namespace {

PubSubService::SubscribePolicy subscribePolicy(const std::string& text, const Options& row) {
    using P = PubSubService::SubscribePolicy;
    static const std::map<std::string, P> names{{"public", P::Public},
                                                {"authenticated", P::Authenticated},
                                                {"owner", P::Owner},
                                                {"token", P::Token},
                                                {"none", P::None}};
    auto it = names.find(text);
    if (it == names.end())
        row.fail("subscribe must be \"public\", \"authenticated\", \"owner\", \"token\" or \"none\", not \"" + text +
                 "\"");
    return it->second;
}

PubSubService::PublishPolicy publishPolicy(const std::string& text, const Options& row) {
    using P = PubSubService::PublishPolicy;
    static const std::map<std::string, P> names{
        {"none", P::None}, {"authenticated", P::Authenticated}, {"subscribers", P::Subscribers}, {"public", P::Public}};
    auto it = names.find(text);
    if (it == names.end())
        row.fail("publish must be \"none\", \"authenticated\", \"subscribers\" or \"public\", not \"" + text + "\"");
    return it->second;
}

// History bounds (docs/history.md): messages per channel, and a day's worth of seconds x 30.
constexpr std::int64_t kMaxHistorySize = 100000;
constexpr std::int64_t kMaxHistoryTtl = 30 * 86400;

// One [[service.namespace]] table: prefix?, subscribe, publish?, owner_field?, limits.
PubSubService::Namespace readNamespace(const json::value& entry, std::size_t index, const Options& service) {
    if (!entry.is_object()) service.fail("each 'namespace' entry must be a table ([[service.namespace]])");
    Options o(entry.as_object(), service.rowWhere("namespace", index));
    PubSubService::Namespace ns;
    if (o.has("prefix")) ns.prefix = o.string("prefix", "");
    ns.subscribe = subscribePolicy(o.string("subscribe", "public"), o);
    if (o.has("publish")) ns.publish = publishPolicy(o.string("publish", ""), o);
    ns.ownerField = o.string("owner_field", "");
    if (ns.subscribe == PubSubService::SubscribePolicy::Owner && !ns.prefix)
        o.fail("subscribe = \"owner\" needs a prefix: the channel is <prefix><identity>, e.g. prefix = \"user:\"");
    if (!ns.ownerField.empty() && ns.subscribe != PubSubService::SubscribePolicy::Owner)
        o.fail("owner_field only applies to subscribe = \"owner\"");
    ns.maxSubscribers = static_cast<std::size_t>(o.integer("max_subscribers", 0, 0));
    ns.maxMessageBytes = static_cast<std::size_t>(o.integer("max_message_bytes", 0, 0));
    if (o.has("history_size")) ns.historySize = static_cast<std::size_t>(o.integer("history_size", 0, 0, kMaxHistorySize));
    if (o.has("history_ttl")) ns.historyTtl = std::chrono::seconds(o.integer("history_ttl", 300, 1, kMaxHistoryTtl));
    o.finish();
    return ns;
}

// The namespace table, in order. A row that an earlier row always wins over
// is a mistake: it would silently never apply.
std::vector<PubSubService::Namespace> readNamespaces(Options& o) {
    std::vector<PubSubService::Namespace> table;
    const json::value* rows = o.raw("namespace");
    if (!rows) return table;
    if (!rows->is_array()) o.fail("option 'namespace' must be an array of tables ([[service.namespace]])");
    const json::array& list = rows->as_array();
    if (list.empty()) o.fail("option 'namespace' is empty: every channel would be refused");
    for (std::size_t i = 0; i < list.size(); ++i) {
        PubSubService::Namespace ns = readNamespace(list[i], i, o);
        for (std::size_t earlier = 0; earlier < table.size(); ++earlier) {
            const auto& before = table[earlier].prefix;
            if (!before || (ns.prefix && ns.prefix->starts_with(*before)))
                throw ConfigError(o.rowWhere("namespace", i) + ": never applies: namespace #" +
                                  std::to_string(earlier + 1) + " (prefix " +
                                  (before ? "\"" + *before + "\"" : "unset") +
                                  ") comes first and matches every channel this one does");
        }
        table.push_back(std::move(ns));
    }
    return table;
}

// The secret that signs subscription tokens: `token_secret`, else the
// identity secret ($SNORKY_IDENTITY_SECRET). Needed only when a namespace
// says subscribe = "token"; without one, no token is accepted or issued.
SubscriptionTokensPtr subscriptionTokens(Options& o, bool required) {
    std::string secret = o.string("token_secret", "");
    if (secret.empty())
        if (const char* env = std::getenv(IdentityTokens::kSecretEnvVar)) secret = env;
    if (secret.empty() && !required) return nullptr;
    if (secret.empty())
        o.fail(std::string("subscribe = \"token\" needs a signing secret: set option 'token_secret' or the "
                           "environment variable ") +
               IdentityTokens::kSecretEnvVar);
    if (secret.size() < IdentityTokens::kMinSecretBytes)
        o.fail("the token secret must be at least " + std::to_string(IdentityTokens::kMinSecretBytes) +
               " bytes long (it is " + std::to_string(secret.size()) + ")");
    return std::make_shared<SubscriptionTokens>(secret);
}

void addPubSub(ServiceFactory& factory) {
    factory.add("pubsub", [](const std::string& name, Options& o, ServiceLookup&) {
        PubSubService::Options options;
        options.clientPublish = o.boolean("client_publish", options.clientPublish);
        options.maxChannelsPerClient = static_cast<std::size_t>(
            o.integer("max_channels_per_client", static_cast<std::int64_t>(options.maxChannelsPerClient), 1));
        options.history.size = static_cast<std::size_t>(o.integer("history_size", 0, 0, kMaxHistorySize));
        options.history.ttl = std::chrono::seconds(o.integer("history_ttl", options.history.ttl.count(), 1, kMaxHistoryTtl));
        options.namespaces = readNamespaces(o);
        bool needsTokens = std::any_of(options.namespaces.begin(), options.namespaces.end(), [](const auto& ns) {
            return ns.subscribe == PubSubService::SubscribePolicy::Token;
        });
        options.tokens = subscriptionTokens(o, needsTokens);
        return std::make_shared<PubSubService>(name, std::move(options));
    });
    factory.add("pubsub_backend", [](const std::string& name, Options& o, ServiceLookup& lookup) {
        auto& pubsub = lookup.serviceAs<PubSubService>(o.requiredString("pubsub"), o, "pubsub");
        PubSubBackend::Options options;
        options.maxLifetime = std::chrono::seconds(
            o.integer("max_token_lifetime", options.maxLifetime.count(), 1, IdentityTokens::kMaxHorizon.count()));
        options.defaultLifetime = std::chrono::seconds(
            o.integer("default_token_lifetime", std::min(options.defaultLifetime, options.maxLifetime).count(), 1));
        if (options.defaultLifetime > options.maxLifetime)
            o.fail("option 'default_token_lifetime' must not exceed 'max_token_lifetime'");
        return std::make_shared<PubSubBackend>(name, pubsub, options);
    });
}

// One [[service.dealer]] table: name, model, kind and, for "simple", key.
datasync::DealerPtr readDealer(const json::value& entry, std::size_t index, const Options& service) {
    if (!entry.is_object()) service.fail("each 'dealer' entry must be a table with name, model and kind");
    Options o(entry.as_object(), service.rowWhere("dealer", index));
    std::string name = o.requiredString("name");
    if (name.empty()) o.fail("a dealer's 'name' must not be empty");
    std::string model = o.requiredString("model");
    std::string kind = o.requiredString("kind");
    datasync::DealerPtr dealer;
    if (kind == "broadcast") {
        dealer = std::make_unique<datasync::BroadcastDealer>(name, model);
    } else if (kind == "filter") {
        dealer = std::make_unique<datasync::FilterDealer>(name, model);
    } else if (kind == "simple") {
        std::string key = o.requiredString("key");
        if (key.empty()) o.fail("a simple dealer's 'key' is a field path such as \"owner\" or \"team.id\"");
        dealer = std::make_unique<datasync::SimpleDealer>(name, model, key);
    } else {
        o.fail("dealer '" + name + "': kind must be \"broadcast\", \"simple\" or \"filter\", not \"" + kind + "\"");
    }
    o.finish();  // e.g. 'key' on a filter dealer is a mistake, not ignored
    return dealer;
}

void addDataSync(ServiceFactory& factory) {
    factory.add("datasync", [](const std::string& name, Options& o, ServiceLookup&) {
        DataSyncService::Options options;
        double timeout = o.number("acquire_timeout", options.acquireTimeout.count() / 1000.0);
        if (!(timeout > 0) || timeout > 86400) o.fail("option 'acquire_timeout' must be seconds between 0 and 86400");
        options.acquireTimeout = std::chrono::milliseconds(std::llround(timeout * 1000));
        auto count = [&o](const char* key, std::size_t fallback) {
            return static_cast<std::size_t>(o.integer(key, static_cast<std::int64_t>(fallback), 1));
        };
        options.maxBufferedDeltas = count("max_buffered_deltas", options.maxBufferedDeltas);
        options.maxItemsPerSubscription = count("max_items_per_subscription", options.maxItemsPerSubscription);
        options.maxSubscriptionsPerClient = count("max_subscriptions_per_client", options.maxSubscriptionsPerClient);
        options.maxPendingSubscriptions = count("max_pending_subscriptions", options.maxPendingSubscriptions);
        auto service = std::make_shared<DataSyncService>(name, options);

        const json::value* dealers = o.raw("dealer");
        if (!dealers) o.fail("a datasync service needs dealers: add [[service.dealer]] tables (name, model, kind)");
        if (!dealers->is_array()) o.fail("option 'dealer' must be an array of tables ([[service.dealer]])");
        const json::array& list = dealers->as_array();
        for (std::size_t i = 0; i < list.size(); ++i) {
            datasync::DealerPtr dealer = readDealer(list[i], i, o);
            if (service->findDealer(dealer->name())) o.fail("two dealers are named '" + dealer->name() + "'");
            service->addDealer(std::move(dealer));
        }
        return service;
    });
    factory.add("datasync_backend", [](const std::string& name, Options& o, ServiceLookup& lookup) {
        auto& datasync = lookup.serviceAs<DataSyncService>(o.requiredString("datasync"), o, "datasync");
        return std::make_shared<DataSyncBackend>(name, datasync);
    });
}

// The signing secret: the `secret` option, else $SNORKY_IDENTITY_SECRET. No
// default: a built-in secret would let anyone forge identities.
std::string identitySecret(Options& o) {
    std::string secret = o.string("secret", "");
    if (secret.empty())
        if (const char* env = std::getenv(IdentityTokens::kSecretEnvVar)) secret = env;
    if (secret.empty())
        o.fail(std::string("no signing secret: set option 'secret' or the environment variable ") +
               IdentityTokens::kSecretEnvVar);
    if (secret.size() < IdentityTokens::kMinSecretBytes)
        o.fail("the signing secret must be at least " + std::to_string(IdentityTokens::kMinSecretBytes) +
               " bytes long (it is " + std::to_string(secret.size()) + ")");
    return secret;
}

void addIdentity(ServiceFactory& factory) {
    factory.add("auth", [](const std::string& name, Options& o, ServiceLookup&) {
        return std::make_shared<AuthService>(name, std::make_shared<IdentityTokens>(identitySecret(o)));
    });
    // Bound to one auth service, whose secret it signs with.
    factory.add("auth_backend", [](const std::string& name, Options& o, ServiceLookup& lookup) {
        auto& auth = lookup.serviceAs<AuthService>(o.requiredString("auth"), o, "auth");
        AuthBackend::Options options;
        // Tokens further ahead than IdentityTokens::kMaxHorizon would be refused.
        options.maxLifetime = std::chrono::seconds(
            o.integer("max_lifetime", options.maxLifetime.count(), 1, IdentityTokens::kMaxHorizon.count()));
        // Unset, the default lifetime shrinks to fit a smaller maximum.
        options.defaultLifetime = std::chrono::seconds(
            o.integer("default_lifetime", std::min(options.defaultLifetime, options.maxLifetime).count(), 1));
        if (options.defaultLifetime > options.maxLifetime)
            o.fail("option 'default_lifetime' must not exceed 'max_lifetime'");
        return std::make_shared<AuthBackend>(name, auth, options);
    });
}

std::size_t size(Options& o, const std::string& key, std::size_t fallback) {
    return static_cast<std::size_t>(o.integer(key, static_cast<std::int64_t>(fallback), 1));
}

void addMessaging(ServiceFactory& factory) {
    factory.add("messaging", [](const std::string& name, Options& o, ServiceLookup&) {
        MessagingService::Options options;
        options.maxNamesPerClient = size(o, "max_names_per_client", options.maxNamesPerClient);
        options.maxNameBytes = size(o, "max_name_bytes", options.maxNameBytes);
        options.maxBodyBytes = size(o, "max_body_bytes", options.maxBodyBytes);
        options.nameTtl = std::chrono::seconds(o.integer("name_ttl", options.nameTtl.count() / 1000, 3, 86400));
        return std::make_shared<MessagingService>(name, options);
    });
}

void addChat(ServiceFactory& factory) {
    factory.add("chat", [](const std::string& name, Options& o, ServiceLookup&) {
        ChatService::Options options;
        options.maxChannelsPerClient = size(o, "max_channels_per_client", options.maxChannelsPerClient);
        options.maxBodyBytes = size(o, "max_body_bytes", options.maxBodyBytes);
        options.presenceTtl = std::chrono::seconds(o.integer("presence_ttl", options.presenceTtl.count() / 1000, 3, 86400));
        // Messages kept per channel for joins that ask (docs/history.md); pubsub's bounds.
        options.history.size = static_cast<std::size_t>(o.integer("history_size", 0, 0, kMaxHistorySize));
        options.history.ttl =
            std::chrono::seconds(o.integer("history_ttl", options.history.ttl.count(), 1, kMaxHistoryTtl));
        return std::make_shared<ChatService>(name, options);
    });
}

void addCursors(ServiceFactory& factory) {
    factory.add("cursors", [](const std::string& name, Options& o, ServiceLookup&) {
        CursorsService::Options options;
        options.maxCursorsPerClient = size(o, "max_cursors_per_client", options.maxCursorsPerClient);
        options.maxDocumentsPerClient = size(o, "max_documents_per_client", options.maxDocumentsPerClient);
        options.maxCursorBytes = size(o, "max_cursor_bytes", options.maxCursorBytes);
        options.cursorTtl = std::chrono::seconds(o.integer("cursor_ttl", options.cursorTtl.count() / 1000, 3, 86400));
        return std::make_shared<CursorsService>(name, options);
    });
}

// Kicking users (disconnect {identity}): the frontend half only watches the
// connections of its registry; the backend half is bound to it.
void addAdmin(ServiceFactory& factory) {
    factory.add("admin",
                [](const std::string& name, Options&, ServiceLookup&) { return std::make_shared<AdminService>(name); });
    factory.add("admin_backend", [](const std::string& name, Options& o, ServiceLookup& lookup) {
        auto& admin = lookup.serviceAs<AdminService>(o.requiredString("admin"), o, "admin");
        return std::make_shared<AdminBackend>(name, admin);
    });
}

}  // namespace

ServiceFactory ServiceFactory::builtin() {
    ServiceFactory factory;
    addPubSub(factory);
    addDataSync(factory);
    addIdentity(factory);
    addMessaging(factory);
    addChat(factory);
    addCursors(factory);
    addAdmin(factory);
    // Each service area adds its types here, one line each.
    return factory;
}

}  // namespace snorky::server
