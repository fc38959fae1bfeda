// The original documentation's "Pub Sub with backend": browsers may subscribe
// but not publish; trusted servers publish through the backend, which listens
// on localhost only and requires the key "swordfish".
//
//   ./example_pubsub_backend
//   curl -H 'X-Backend-Key: swordfish' http://127.0.0.1:5801/backend -d '{"service":"pubsub_backend",
//     "message":{"command":"publish","params":{"channel":"announcements","message":"Hello"}}}'
#include <snorky/services/pubsub.hpp>
#include <snorky/transport/server.hpp>
#include <string>

// A PubSub whose clients may only listen. (PubSubService::Options has
// clientPublish = false for the same effect; this shows the policy hook.)
class AnnouncementsService : public snorky::PubSubService {
public:
    using PubSubService::PubSubService;

protected:
    bool canPublish(const snorky::ClientPtr&, const snorky::json::value&) override { return false; }
};

int main(int argc, char** argv) {
    // Optional: other ports than 5800/5801 (the tests use free ones).
    std::uint16_t frontendPort = argc > 2 ? static_cast<std::uint16_t>(std::stoi(argv[1])) : 5800;
    std::uint16_t backendPort = argc > 2 ? static_cast<std::uint16_t>(std::stoi(argv[2])) : 5801;
    snorky::Server server;
    auto& frontend = server.registry("frontend");
    auto& backend = server.registry("backend");

    auto pubsub = std::make_shared<AnnouncementsService>("pubsub");
    frontend.registerService(pubsub);
    backend.registerService(std::make_shared<snorky::PubSubBackend>("pubsub_backend", *pubsub));

    server.listenWebSocket(frontend, {.port = frontendPort, .path = "/ws"});
    server.listenBackend(backend, {.address = "127.0.0.1", .port = backendPort, .path = "/backend", .key = "swordfish"});
    return server.run();  // until Ctrl-C
}
