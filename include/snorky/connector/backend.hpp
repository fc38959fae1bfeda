#pragma once
// RPC calls to Snorky backend services (protocol.md sections 2-3):
//
//   snorky::connector::HttpTransport http("http://127.0.0.1:5801/backend", key);
//   snorky::connector::Backend backend(http);
//   backend.call("pubsub_backend", "publish",
//                {{"channel", "announcements"}, {"message", "Hello World"}});
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "snorky/connector/errors.hpp"
#include "snorky/connector/transport.hpp"

namespace snorky::connector {

class Backend {
public:
    // The transport must outlive the Backend.
    explicit Backend(Transport& transport) : transport_(transport) {}

    // Sends {"service", "message": {"command", "params"}} and returns the
    // reply's `data` (null for commands that return nothing). Throws
    // SnorkyError with the service's message when it answered an error, and
    // TransportError for everything else, including a reply that is not
    // {"service": <same service>, "message": {"type": "response", "data"}}.
    boost::json::value call(std::string_view service, std::string_view command,
                            boost::json::object params = {});

    // Sends a raw envelope and returns the reply envelope untouched.
    boost::json::value send(const boost::json::value& envelope) { return transport_.send(envelope); }

    // Strips the reply envelope of a call to `service` (what call() does after
    // sending); exposed for callers that use send().
    static boost::json::value unwrapReply(std::string_view service, const boost::json::value& reply);

private:
    Transport& transport_;
};

}  // namespace snorky::connector
