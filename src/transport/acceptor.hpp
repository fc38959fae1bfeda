#pragma once
// Accepts TCP connections on one address and hands each socket to the next
// worker in turn. Running out of file descriptors (EMFILE) backs off and is
// logged (rate-limited) instead of spinning.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "transport/worker.hpp"

namespace snorky {

class Acceptor {
public:
    using OnSocket = std::function<void(Worker&, boost::asio::ip::tcp::socket)>;

    // Binds and listens at once (throws boost::system::system_error).
    Acceptor(boost::asio::io_context& ioc, std::vector<Worker*> workers, const std::string& address, std::uint16_t port);
    void start(OnSocket onSocket);
    void stop();  // any thread
    std::uint16_t port() const { return port_; }

private:
    void doAccept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retryTimer_;
    std::vector<Worker*> workers_;
    std::size_t next_ = 0;
    OnSocket onSocket_;
    std::uint16_t port_ = 0;
};

}  // namespace snorky
