#pragma once
// How a Backend reaches Snorky: one envelope out, one reply envelope back.
#include <boost/json/value.hpp>

namespace snorky::connector {

class Transport {
public:
    virtual ~Transport() = default;
    // Sends one envelope and returns the reply envelope as received. Throws
    // TransportError when no well-formed JSON reply came back.
    virtual boost::json::value send(const boost::json::value& envelope) = 0;
};

}  // namespace snorky::connector
