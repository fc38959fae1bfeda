// snorky-call: one backend RPC from the command line (see --help).
#include <boost/json.hpp>
#include <iostream>

#include "call_arguments.hpp"
#include "snorky/connector/backend.hpp"
#include "snorky/connector/http_transport.hpp"

namespace json = boost::json;
using namespace snorky::connector;

namespace {

void printPretty(std::ostream& out, const json::value& value, const std::string& indent = "") {
    const std::string inner = indent + "  ";
    if (value.is_object() && !value.as_object().empty()) {
        out << "{\n";
        bool first = true;
        for (const auto& [name, member] : value.as_object()) {
            out << (first ? "" : ",\n") << inner << json::serialize(json::value(name)) << ": ";
            printPretty(out, member, inner);
            first = false;
        }
        out << "\n" << indent << "}";
    } else if (value.is_array() && !value.as_array().empty()) {
        out << "[\n";
        bool first = true;
        for (const auto& item : value.as_array()) {
            out << (first ? "" : ",\n") << inner;
            printPretty(out, item, inner);
            first = false;
        }
        out << "\n" << indent << "]";
    } else {
        out << json::serialize(value);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CallRequest request;
    try {
        request = parseCallArguments(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "snorky-call: " << e.what() << "\nRun 'snorky-call --help' for usage.\n";
        return kExitUsage;
    }
    if (!request.call) {
        std::cout << request.help;
        return kExitOk;
    }
    const CallArguments& args = *request.call;
    try {
        HttpTransportOptions options;
        options.connectTimeout = args.connectTimeout;
        options.requestTimeout = args.requestTimeout;
        HttpTransport http(args.url, args.key, options);
        Backend backend(http);
        json::value data = backend.call(args.service, args.command, args.params);
        if (args.pretty) {
            printPretty(std::cout, data);
        } else {
            std::cout << json::serialize(data);
        }
        std::cout << "\n";
        return kExitOk;
    } catch (const SnorkyError& e) {
        std::cerr << e.what() << "\n";
        return kExitServiceError;
    } catch (const TransportError& e) {
        std::cerr << "snorky-call: " << e.what() << "\n";
        return kExitTransportError;
    } catch (const std::invalid_argument& e) {
        // A key the transport refuses (control characters).
        std::cerr << "snorky-call: " << e.what() << "\nRun 'snorky-call --help' for usage.\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        // TLS setup (e.g. an unreadable CA file) fails before any transfer.
        std::cerr << "snorky-call: " << e.what() << "\n";
        return kExitTransportError;
    }
}
