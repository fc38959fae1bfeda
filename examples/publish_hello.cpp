// Publishes "Hello World" to channel "announcements" through the backend
// service "pubsub_backend"; every browser subscribed to "announcements" on the
// frontend `pubsub` service receives it.
//
//   SNORKY_BACKEND_KEY=swordfish build/src/connector/example_publish_hello
//
// SNORKY_BACKEND_URL overrides the default http://127.0.0.1:5801/backend.
#include <cstdlib>
#include <iostream>
#include <snorky/connector/backend.hpp>
#include <snorky/connector/http_transport.hpp>

int main() {
    const char* url = std::getenv("SNORKY_BACKEND_URL");
    const char* key = std::getenv("SNORKY_BACKEND_KEY");
    if (!key) {
        std::cerr << "set SNORKY_BACKEND_KEY to the backend key\n";
        return 64;
    }

    snorky::connector::HttpTransport http(url ? url : "http://127.0.0.1:5801/backend", key);
    snorky::connector::Backend backend(http);
    try {
        backend.call("pubsub_backend", "publish", {{"channel", "announcements"}, {"message", "Hello World"}});
    } catch (const snorky::connector::SnorkyError& e) {
        std::cerr << "the service refused: " << e.what() << "\n";
        return 1;
    } catch (const snorky::connector::TransportError& e) {
        std::cerr << "could not reach Snorky: " << e.what() << "\n";
        return 2;
    }
    std::cout << "published\n";
    return 0;
}
