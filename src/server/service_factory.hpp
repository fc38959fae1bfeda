#pragma once
// Builds services from config entries by type name ("pubsub", "chat", ...):
// the types of the `snorky` binary, each added in service_factory.cpp. This
// is the binary's own plumbing, not an API: a program with a service type of
// its own is written against the public headers instead (snorky::Server plus
// an RpcService subclass, as examples/calculator.cpp).
#include <functional>
#include <map>
#include <string>

#include "server/options.hpp"
#include "snorky/core/service.hpp"

namespace snorky::server {

// Finds services built earlier (a backend service names the frontend service
// it controls). Throws ConfigError with a clear message when missing.
class ServiceLookup {
public:
    virtual ~ServiceLookup() = default;
    virtual Service& service(const std::string& name, const Options& context) = 0;
    template <class T>
    T& serviceAs(const std::string& name, const Options& context, const char* typeName) {
        T* typed = dynamic_cast<T*>(&service(name, context));
        if (!typed) context.fail("service '" + name + "' is not a " + typeName + " service");
        return *typed;
    }
};

class ServiceFactory {
public:
    // `options` holds the entry's keys except name, type and registry; the
    // builder must read every key it supports (unknown keys are errors).
    using Builder = std::function<ServicePtr(const std::string& name, Options& options, ServiceLookup& lookup)>;

    void add(std::string type, Builder builder) { builders_[std::move(type)] = std::move(builder); }
    bool has(const std::string& type) const { return builders_.count(type) > 0; }
    ServicePtr build(const std::string& type, const std::string& name, Options& options, ServiceLookup& lookup) const;
    std::string typeList() const;

    // Every service type that ships with Snorky.
    static ServiceFactory builtin();

private:
    std::map<std::string, Builder> builders_;
};

}  // namespace snorky::server
