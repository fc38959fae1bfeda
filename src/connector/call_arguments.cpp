#include "call_arguments.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "snorky/connector/backend_url.hpp"

namespace snorky::connector {

namespace json = boost::json;

namespace {

constexpr const char* kDescription =
    "Calls a command of a Snorky backend service and prints the value it returns as JSON.";

constexpr const char* kFooter = R"(Parameters:
  Each name=value becomes one parameter. The value is read as JSON when it
  parses as JSON, else taken as a string: count=3 is the number 3, ok=true the
  boolean, tags='["a","b"]' an array, message=Hello a string. Quote to force a
  string: id='"42"'. --params '{"channel":"news"}' gives a whole object;
  name=value pairs are added to it (a pair wins over the same key in --params).

Environment:
  SNORKY_BACKEND_URL  backend URL when --url is not given
                      (default http://127.0.0.1:5801/backend)
  SNORKY_BACKEND_KEY  backend key when --key is not given (required)

Output and exit status:
  0   success; the returned data is printed as JSON on stdout (null when the
      command returns nothing)
  1   the service answered an error; its message is printed on stderr
      (e.g. "Unknown command", "Invalid params")
  2   transport error: server unreachable, timeout, HTTP status other than 200
      (e.g. 401 "Invalid API key"), or a reply that is not a Snorky reply
  64  usage error (bad arguments)

Example:
  snorky-call --key swordfish pubsub_backend publish channel=announcements message="Hello World")";

std::chrono::milliseconds toMillis(double seconds, const char* option) {
    if (!(seconds > 0) || !std::isfinite(seconds) || seconds > 86400) {
        throw UsageError(std::string(option) + " must be a number of seconds between 0 and 86400");
    }
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

}  // namespace

std::optional<std::string> processEnv(const char* name) {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
}

json::value parseParamValue(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec) return json::value(json::string(text));
    return value;
}

CallRequest parseCallArguments(int argc, const char* const* argv, const EnvLookup& env) {
    CLI::App app(kDescription, "snorky-call");
    app.footer(kFooter);

    std::optional<std::string> url, key, paramsJson;
    std::string service, command;
    std::vector<std::string> pairs;
    double connectTimeout = 5, requestTimeout = 30;
    bool pretty = false;
    app.add_option("--url", url, "Backend URL, http:// or https:// (env SNORKY_BACKEND_URL)");
    app.add_option("--key", key, "Backend key, sent as X-Backend-Key (env SNORKY_BACKEND_KEY)");
    app.add_option("--params", paramsJson, "All parameters as one JSON object");
    app.add_option("--timeout", requestTimeout, "Seconds to wait for the reply (default 30)");
    app.add_option("--connect-timeout", connectTimeout, "Seconds to wait for the connection (default 5)");
    app.add_flag("--pretty", pretty, "Indent the printed JSON");
    app.add_option("SERVICE", service, "Backend service name, e.g. pubsub_backend")->required();
    app.add_option("COMMAND", command, "Command of the service, e.g. publish")->required();
    app.add_option("name=value", pairs, "Parameters, see below");

    CallRequest request;
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        request.help = app.help();
        return request;
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.what());
    }

    CallArguments args;
    args.service = service;
    args.command = command;
    args.connectTimeout = toMillis(connectTimeout, "--connect-timeout");
    args.requestTimeout = toMillis(requestTimeout, "--timeout");
    args.pretty = pretty;

    if (paramsJson) {
        boost::system::error_code ec;
        json::value value = json::parse(*paramsJson, ec);
        if (ec || !value.is_object()) throw UsageError("--params must be a JSON object, e.g. '{\"channel\":\"news\"}'");
        args.params = std::move(value.as_object());
    }
    json::object fromPairs;
    for (const std::string& pair : pairs) {
        std::size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw UsageError("expected name=value, got '" + pair + "'");
        }
        std::string name = pair.substr(0, eq);
        if (fromPairs.contains(name)) throw UsageError("parameter '" + name + "' given twice");
        fromPairs[name] = parseParamValue(std::string_view(pair).substr(eq + 1));
    }
    for (auto& [name, value] : fromPairs) args.params[name] = std::move(value);

    if (url) {
        args.url = *url;
    } else if (auto fromEnv = env("SNORKY_BACKEND_URL"); fromEnv && !fromEnv->empty()) {
        args.url = *fromEnv;
    } else {
        args.url = kDefaultBackendUrl;
    }
    try {
        parseBackendUrl(args.url);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }

    if (key) {
        args.key = *key;
    } else if (auto fromEnv = env("SNORKY_BACKEND_KEY")) {
        args.key = *fromEnv;
    }
    if (args.key.empty()) throw UsageError("no backend key: pass --key KEY or set SNORKY_BACKEND_KEY");

    request.call = std::move(args);
    return request;
}

}  // namespace snorky::connector
