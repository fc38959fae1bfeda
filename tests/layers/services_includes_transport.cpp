// Must not compile: services never see a socket (transport/ is above them).
#include "snorky/transport/server.hpp"
