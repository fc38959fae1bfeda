#include "transport/acceptor.hpp"

#include <boost/asio/post.hpp>

#include "snorky/core/log.hpp"

namespace snorky {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Acceptor::Acceptor(asio::io_context& ioc, std::vector<Worker*> workers, const std::string& address, std::uint16_t port)
    : acceptor_(ioc), retryTimer_(ioc), workers_(std::move(workers)) {
    tcp::endpoint endpoint(asio::ip::make_address(address), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void Acceptor::start(OnSocket onSocket) {
    onSocket_ = std::move(onSocket);
    doAccept();
}

void Acceptor::stop() {
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        retryTimer_.cancel();
    });
}

void Acceptor::doAccept() {
    Worker& worker = *workers_[next_++ % workers_.size()];
    acceptor_.async_accept(worker.ioc(), [this, &worker](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            static log::RateLimit limit(1, std::chrono::seconds(10));
            std::uint64_t suppressed = 0;
            if (limit.allow(suppressed)) SNORKY_LOG(Warn, "accept failed on port " << port_ << ": " << ec.message());
            retryTimer_.expires_after(std::chrono::milliseconds(100));
            retryTimer_.async_wait([this](const boost::system::error_code& e) {
                if (!e) doAccept();
            });
            return;
        }
        onSocket_(worker, std::move(socket));
        doAccept();
    });
}

}  // namespace snorky
