#include "transport/ws_listener.hpp"

#include <boost/asio/post.hpp>

#include "transport/ws_session.hpp"

namespace snorky {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

WsListener::WsListener(asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                       WebSocketOptions options)
    : acceptor_(ioc, std::move(workers), options.address, options.port), registry_(registry), options_(std::move(options)) {
    if (!options_.staticDir.empty()) staticFiles_ = std::make_unique<StaticFiles>(options_.staticDir, options_.staticFollowSymlinks);
}

void WsListener::start() {
    acceptor_.start([this](Worker& worker, tcp::socket socket) {
        boost::system::error_code endpointError;
        auto remote = socket.remote_endpoint(endpointError);
        std::string address = endpointError ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
        auto session = std::make_shared<WsSession>(std::move(socket), *this, worker, std::move(address));
        asio::post(worker.ioc(), [session] { session->start(); });
    });
}

void WsListener::stop() { acceptor_.stop(); }

}  // namespace snorky
