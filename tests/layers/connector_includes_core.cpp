// Must not compile: the connector talks to a server over HTTP only.
#include "snorky/core/client.hpp"
