// A custom RPC service: commands are declared once with named, typed params;
// the library checks them and answers "Invalid params" / "Unknown command".
//
//   ./example_calculator
//   then send over ws://localhost:5800/ws:
//   {"service":"calculator","message":{"command":"sum","params":{"a":2,"b":3},"callId":1}}
//   {"service":"calculator","message":{"command":"log","params":{"x":8,"base":2},"callId":2}}
#include <cmath>
#include <snorky/core/rpc_service.hpp>
#include <snorky/transport/server.hpp>
#include <string>

class Calculator : public snorky::RpcService {
public:
    Calculator() : RpcService("calculator") {
        using snorky::ParamType;
        command("sum", {snorky::required("a", ParamType::Number), snorky::required("b", ParamType::Number)},
                [](snorky::Request& r) { return r.number("a") + r.number("b"); });
        // `base` is optional and defaults to e.
        command("log", {snorky::required("x", ParamType::Number), snorky::optional("base", ParamType::Number, M_E)},
                [](snorky::Request& r) {
                    double x = r.number("x"), base = r.number("base");
                    if (x <= 0 || base <= 0 || base == 1) throw snorky::RpcError("Math domain error");
                    return std::log(x) / std::log(base);
                });
    }
};

int main(int argc, char** argv) {
    std::uint16_t port = argc > 1 ? static_cast<std::uint16_t>(std::stoi(argv[1])) : 5800;
    snorky::Server server;
    auto& frontend = server.registry("frontend");
    frontend.registerService(std::make_shared<Calculator>());
    server.listenWebSocket(frontend, {.port = port});
    return server.run();
}
