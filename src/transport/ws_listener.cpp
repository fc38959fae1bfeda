#include "transport/ws_listener.hpp"

#include "snorky/log.hpp"
#include "transport/ws_session.hpp"

namespace snorky {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

WsListener::WsListener(asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                       WebSocketOptions options)
    : acceptor_(ioc), retryTimer_(ioc), workers_(std::move(workers)), registry_(registry), options_(std::move(options)) {
    if (!options_.staticDir.empty()) staticFiles_ = std::make_unique<StaticFiles>(options_.staticDir);
    tcp::endpoint endpoint(asio::ip::make_address(options_.address), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void WsListener::start() { doAccept(); }

void WsListener::stop() {
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        retryTimer_.cancel();
    });
}

void WsListener::doAccept() {
    Worker& worker = *workers_[next_++ % workers_.size()];
    acceptor_.async_accept(worker.ioc(), [this, &worker](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            // Typically EMFILE: out of file descriptors. Back off instead of spinning.
            static log::RateLimit limit(1, std::chrono::seconds(10));
            std::uint64_t suppressed = 0;
            if (limit.allow(suppressed)) SNORKY_LOG(Warn, "accept failed on port " << port_ << ": " << ec.message());
            retryTimer_.expires_after(std::chrono::milliseconds(100));
            retryTimer_.async_wait([this](const boost::system::error_code& e) {
                if (!e) doAccept();
            });
            return;
        }
        boost::system::error_code endpointError;
        auto remote = socket.remote_endpoint(endpointError);
        std::string address = endpointError ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
        auto session = std::make_shared<WsSession>(std::move(socket), *this, worker, std::move(address));
        asio::post(worker.ioc(), [session] { session->start(); });
        doAccept();
    });
}

}  // namespace snorky
