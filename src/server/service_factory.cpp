#include "server/service_factory.hpp"

#include <algorithm>
#include <cstdlib>

#include "snorky/services/auth.hpp"
#include "snorky/services/chat.hpp"
#include "snorky/services/cursors.hpp"
#include "snorky/services/messaging.hpp"
#include "snorky/services/pubsub.hpp"

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

void addPubSub(ServiceFactory& factory) {
    factory.add("pubsub", [](const std::string& name, Options& o, ServiceLookup&) {
        PubSubService::Options options;
        options.clientPublish = o.boolean("client_publish", options.clientPublish);
        options.maxChannelsPerClient = static_cast<std::size_t>(
            o.integer("max_channels_per_client", static_cast<std::int64_t>(options.maxChannelsPerClient), 1));
        return std::make_shared<PubSubService>(name, options);
    });
    factory.add("pubsub_backend", [](const std::string& name, Options& o, ServiceLookup& lookup) {
        auto& pubsub = lookup.serviceAs<PubSubService>(o.requiredString("pubsub"), o, "pubsub");
        return std::make_shared<PubSubBackend>(name, pubsub);
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
        options.maxLifetime = std::chrono::seconds(o.integer("max_lifetime", options.maxLifetime.count(), 1));
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
        return std::make_shared<MessagingService>(name, options);
    });
}

void addChat(ServiceFactory& factory) {
    factory.add("chat", [](const std::string& name, Options& o, ServiceLookup&) {
        ChatService::Options options;
        options.maxChannelsPerClient = size(o, "max_channels_per_client", options.maxChannelsPerClient);
        options.maxBodyBytes = size(o, "max_body_bytes", options.maxBodyBytes);
        return std::make_shared<ChatService>(name, options);
    });
}

void addCursors(ServiceFactory& factory) {
    factory.add("cursors", [](const std::string& name, Options& o, ServiceLookup&) {
        CursorsService::Options options;
        options.maxCursorsPerClient = size(o, "max_cursors_per_client", options.maxCursorsPerClient);
        options.maxDocumentsPerClient = size(o, "max_documents_per_client", options.maxDocumentsPerClient);
        options.maxCursorBytes = size(o, "max_cursor_bytes", options.maxCursorBytes);
        return std::make_shared<CursorsService>(name, options);
    });
}

}  // namespace

ServiceFactory ServiceFactory::builtin() {
    ServiceFactory factory;
    addPubSub(factory);
    addIdentity(factory);
    addMessaging(factory);
    addChat(factory);
    addCursors(factory);
    // Each service area adds its types here, one line each.
    return factory;
}

}  // namespace snorky::server
