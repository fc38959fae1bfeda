#include "support/probes.hpp"

#include <stdexcept>

#include "support/clients.hpp"

namespace snorky::it {

std::optional<long long> metric(int backendPort, const std::string& name) {
    std::string body;
    try {
        body = httpRequest(backendPort, "GET", "/metrics", "").body;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string key = "\nsnorky_" + name + " ";
    auto at = ("\n" + body).find(key);
    if (at == std::string::npos) return std::nullopt;
    try {
        return std::stoll(body.substr(at + key.size() - 1));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace snorky::it
