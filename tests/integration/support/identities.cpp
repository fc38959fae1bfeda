#include "support/identities.hpp"

#include <jwt.h>

#include <cstdlib>
#include <stdexcept>

namespace snorky::it {

std::string authServices(const std::string& backendOptions) {
    return R"(
[[service]]
name = "auth"
type = "auth"
registry = "frontend"

[[service]]
name = "auth_backend"
type = "auth_backend"
registry = "backend"
auth = "auth"
)" + backendOptions +
           "\n";
}

std::map<std::string, std::string> identityEnv() { return {{"SNORKY_IDENTITY_SECRET", kIdentitySecret}}; }

std::string mintToken(int backendPort, json::value identity, json::object extra) {
    extra["identity"] = std::move(identity);
    json::value reply = backendCall(backendPort, "auth_backend", "mintToken", std::move(extra));
    if (reply.at("type") != "response") throw std::runtime_error("mintToken failed: " + json::serialize(reply));
    return std::string(reply.at("data").as_string());
}

std::string signClaims(const std::string& claimsJson, const std::string& secret) {
    jwt_t* jwt = nullptr;
    if (jwt_new(&jwt) != 0) throw std::runtime_error("jwt_new failed");
    jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                static_cast<int>(secret.size()));
    if (jwt_add_grants_json(jwt, claimsJson.c_str()) != 0) throw std::runtime_error("bad claims " + claimsJson);
    char* text = jwt_encode_str(jwt);
    std::string out = text ? text : "";
    std::free(text);
    jwt_free(jwt);
    return out;
}

}  // namespace snorky::it
