#include "server/service_factory.hpp"

#include "snorky/services/datasync/datasync_service.hpp"
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

// One [[service.dealer]] table: name, model, kind and, for "simple", key.
datasync::DealerPtr readDealer(const json::value& entry, std::size_t index, const Options& service) {
    if (!entry.is_object()) service.fail("each 'dealer' entry must be a table with name, model and kind");
    Options o(entry.as_object(), service.where() + ": dealer #" + std::to_string(index + 1));
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
        options.acquireTimeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000 + 0.5));
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

}  // namespace

ServiceFactory ServiceFactory::builtin() {
    ServiceFactory factory;
    addPubSub(factory);
    addDataSync(factory);
    // Each service area adds its types here, one line each.
    return factory;
}

}  // namespace snorky::server
