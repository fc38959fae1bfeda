#include "server/service_factory.hpp"

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

}  // namespace

ServiceFactory ServiceFactory::builtin() {
    ServiceFactory factory;
    addPubSub(factory);
    // Each service area adds its types here, one line each.
    return factory;
}

}  // namespace snorky::server
