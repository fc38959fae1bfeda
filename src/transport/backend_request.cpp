#include "transport/backend_request.hpp"

#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace http = boost::beast::http;

BackendRoute routeBackendRequest(const http::request<http::string_body>& request,
                                 boost::optional<std::uint64_t> contentLength, const BackendOptions& options,
                                 const std::function<bool(std::string_view)>& keyMatches) {
    using Kind = BackendRoute::Kind;
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));

    if (options.serveMetrics && request.method() == http::verb::get && (path == "/health" || path == "/metrics"))
        return {path == "/health" ? Kind::Health : Kind::Metrics};
    if (options.statusPage && request.method() == http::verb::get && (path == "/status" || path == "/status.json")) {
        // The page holds no figures; its script fetches them with the key the operator types in.
        if (path == "/status") return {Kind::StatusPage};
        auto key = request.find("X-Backend-Key");
        if (key == request.end()) return {Kind::Refuse, 401, errors::kMissingKey};
        if (!keyMatches(key->value())) return {Kind::Refuse, 401, errors::kInvalidKey};
        return {Kind::Status};
    }
    if (path != options.path) return {Kind::Refuse, 404, errors::kNotFound};
    if (request.method() != http::verb::post) return {Kind::Refuse, 405, errors::kMethodNotAllowed};
    auto key = request.find("X-Backend-Key");
    if (key == request.end()) return {Kind::Refuse, 401, errors::kMissingKey};
    if (!keyMatches(key->value())) return {Kind::Refuse, 401, errors::kInvalidKey};
    if (contentLength && *contentLength > options.maxBodySize) return {Kind::Refuse, 413, errors::kBodyTooLarge};
    return {Kind::ReadBody};
}

}  // namespace snorky
