// The engine URL parser (RedisBrokerOptions::fromUrl, src/engines): anything
// but a clear std::invalid_argument, or options out of their ranges, is a bug.
#include <string>

#include "fuzz_check.hpp"
#include "snorky/engines/redis_broker.hpp"

using namespace snorky;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view url(reinterpret_cast<const char*>(data), size);
    try {
        RedisBrokerOptions options = RedisBrokerOptions::fromUrl(url);
        FUZZ_CHECK(!options.host.empty());
        FUZZ_CHECK(options.port >= 1 && options.port <= 65535);
        FUZZ_CHECK(options.database >= 0 && options.database <= (1 << 20));
    } catch (const std::invalid_argument& error) {
        FUZZ_CHECK(*error.what() != '\0');
    }
    return 0;
}
