#pragma once
// RpcService: commands declared once with named, typed params. The library
// checks each call and answers exactly as protocol.md section 2 says:
// "Unknown command", "Invalid params", "Internal error" or the text of a
// thrown RpcError. A synchronous command returns its value (void means null);
// an asynchronous one keeps its RequestPtr and resolves it later, once.
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "snorky/core/service.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

// An error whose text is sent to the client as the RPC error message.
class RpcError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ParamType { Any, String, Number, Integer, Boolean, Object, Array };

struct Param {
    std::string name;
    ParamType type = ParamType::Any;
    bool required = true;
    json::value defaultValue;  // used when an optional param is absent
};
inline Param required(std::string name, ParamType type = ParamType::Any) {
    return Param{std::move(name), type, true, nullptr};
}
inline Param optional(std::string name, ParamType type, json::value defaultValue = nullptr) {
    return Param{std::move(name), type, false, std::move(defaultValue)};
}

// One RPC call. Resolving sends the reply to the caller; the first
// resolve/reject wins and later ones are ignored. A request dropped unresolved
// answers "Internal error", so no caller waits forever.
class Request {
public:
    Request(ClientPtr client, std::string service, json::value callId, bool hasCallId, json::object params);
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    const ClientPtr& client() const { return client_; }
    const json::object& params() const { return params_; }
    // Typed accessors for declared params (already checked by the library).
    const json::value& param(std::string_view name) const;
    const json::string& string(std::string_view name) const { return param(name).as_string(); }
    double number(std::string_view name) const { return param(name).to_number<double>(); }
    // An integer param; "Invalid params" unless it is an exact int64 (never a
    // conversion of an out-of-range double).
    std::int64_t integer(std::string_view name) const {
        if (auto value = exactInteger(param(name))) return *value;
        throw RpcError(errors::kInvalidParams);
    }
    bool boolean(std::string_view name) const { return param(name).as_bool(); }

    void resolve(json::value data = nullptr);
    void reject(std::string_view message);
    bool resolved() const { return resolved_; }

private:
    ClientPtr client_;
    std::string service_;
    json::value callId_;
    bool hasCallId_;
    json::object params_;
    bool resolved_ = false;
};
using RequestPtr = std::shared_ptr<Request>;

class RpcService : public Service {
public:
    using Service::Service;
    void onMessage(const ClientPtr& client, json::value message) final;

protected:
    using AsyncHandler = std::function<void(const RequestPtr&)>;

    // Declares a synchronous command. fn(Request&) returns a JSON value, or
    // nothing (null); it may throw RpcError("text").
    template <class Fn>
    void command(std::string name, std::vector<Param> params, Fn fn) {
        addCommand(std::move(name), std::move(params), [fn = std::move(fn)](const RequestPtr& req) {
            if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Request&>>) {
                fn(*req);
                req->resolve(nullptr);
            } else {
                req->resolve(json::value(fn(*req)));
            }
        });
    }
    // Declares an asynchronous command: fn keeps the RequestPtr and resolves it
    // later (from a timer or broker callback, under the service lock).
    void asyncCommand(std::string name, std::vector<Param> params, AsyncHandler fn) {
        addCommand(std::move(name), std::move(params), std::move(fn));
    }
    // The same with a member function of the service as the body, so that a
    // constructor only declares the command table:
    //   command("leave", {required("channel")}, &ChatService::leave);
    template <class S, class R>
    void command(std::string name, std::vector<Param> params, R (S::*fn)(Request&)) {
        static_assert(std::is_base_of_v<RpcService, S>);
        S* self = static_cast<S*>(this);
        command(std::move(name), std::move(params), [self, fn](Request& req) { return (self->*fn)(req); });
    }
    template <class S>
    void asyncCommand(std::string name, std::vector<Param> params, void (S::*fn)(const RequestPtr&)) {
        static_assert(std::is_base_of_v<RpcService, S>);
        S* self = static_cast<S*>(this);
        asyncCommand(std::move(name), std::move(params), [self, fn](const RequestPtr& req) { (self->*fn)(req); });
    }
    // The client of a command that needs an identity, or "Not authenticated".
    static const ClientPtr& authenticated(const Request& req);

private:
    struct Command {
        std::vector<Param> params;
        AsyncHandler handler;
    };
    void addCommand(std::string name, std::vector<Param> params, AsyncHandler handler);
    // Checks the given params against the declared ones and fills in the
    // defaults of absent optional ones: nullptr, or the error to answer.
    static const char* checkParams(const std::vector<Param>& declared, json::object& given);
    std::map<std::string, Command, std::less<>> commands_;
};

// Whether a JSON value has the declared type.
bool matches(ParamType type, const json::value& value);

}  // namespace snorky
