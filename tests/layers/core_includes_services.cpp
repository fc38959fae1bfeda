// Must not compile: core/ never sees a service.
#include "snorky/services/pubsub.hpp"
