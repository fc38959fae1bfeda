// Must not compile: transport/ and engines/ are siblings on top of core/.
#include "snorky/engines/redis_broker.hpp"
