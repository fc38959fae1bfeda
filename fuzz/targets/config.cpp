// The TOML config loader (src/server/config.cpp parseConfig, and the listener
// option readers): any text is either a Config or a ConfigError naming the
// source; no other exception, no crash. Services are built as `apply` builds
// them (their option readers run); nothing listens. key_file is skipped (it
// reads a file).
#include <map>
#include <string>

#include "fuzz_check.hpp"
#include "server/config.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {
// The services built so far, by name (as apply's lookup).
class Built : public ServiceLookup {
public:
    Service& service(const std::string& name, const Options& context) override {
        auto it = services.find(name);
        if (it == services.end()) context.fail("no service named '" + name + "' is defined before this one");
        return *it->second;
    }
    std::map<std::string, ServicePtr> services;
};

bool fromSource(const ConfigError& error) { return std::string_view(error.what()).substr(0, 9) == "fuzz.toml"; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    Config config;
    try {
        config = parseConfig(text, "fuzz.toml");
    } catch (const ConfigError& error) {
        FUZZ_CHECK(fromSource(error));
        return 0;
    }
    FUZZ_CHECK(!config.listeners.empty());
    FUZZ_CHECK(config.engine == "memory" || config.redis.has_value());
    static const ServiceFactory factory = ServiceFactory::builtin();
    Built built;
    for (const Entry& entry : config.services) {
        Options options = entry.options;
        try {
            if (built.services.count(entry.name)) options.fail("a service with this name already exists");
            built.services[entry.name] = factory.build(entry.type, entry.name, options, built);
        } catch (const ConfigError& error) {
            FUZZ_CHECK(fromSource(error));
            break;
        }
    }
    for (const Entry& listener : config.listeners) {
        Options options = listener.options;
        try {
            if (listener.type == "websocket") {
                WebSocketOptions ws = webSocketOptions(options);
                FUZZ_CHECK(!ws.path.empty() && ws.path[0] == '/');
            } else if (!options.has("key_file")) {
                BackendOptions backend = backendOptions(options, "generated-key");
                FUZZ_CHECK(!backend.key.empty() && backend.path[0] == '/');
            }
            options.finish();
        } catch (const ConfigError& error) {
            FUZZ_CHECK(fromSource(error));
        }
    }
    return 0;
}
