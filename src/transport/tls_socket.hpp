#pragma once
// One wss:// connection's OpenSSL state on the session's own socket: the SSL
// object reads and writes the non-blocking descriptor itself (SSL_set_fd) and
// is driven by the socket's readiness, like a plain connection. So an idle
// connection holds only what OpenSSL keeps (its record buffers are released
// while idle, SSL_MODE_RELEASE_BUFFERS); Asio's ssl::stream kept four 17 KB
// buffers per connection for its whole life (docs/benchmarks.md).
//
// The non-blocking steps (handshake, read, write) say what they wait for;
// the caller waits with wait(). For the HTTP upgrade it is also an Asio
// stream (async_read_some/async_write_some), so Beast can read the request.
// After the socket is closed every step fails: the descriptor number may
// already belong to another connection.
#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <memory>
#include <type_traits>

struct ssl_st;
struct ssl_ctx_st;

namespace boost::asio::ssl {
class context;
}

namespace snorky {

class TlsSocket {
public:
    enum class Status : std::uint8_t {
        Done,       // bytes moved (or the handshake finished)
        WantRead,   // retry once the socket is readable
        WantWrite,  // retry once the socket is writable
        Closed,     // the peer sent close_notify
        Failed,     // a protocol or socket error, or the socket is closed
    };
    struct Result {
        Status status;
        std::size_t bytes = 0;
    };

    // Throws std::bad_alloc when OpenSSL cannot make the connection's state.
    TlsSocket(boost::asio::ip::tcp::socket& socket, std::shared_ptr<boost::asio::ssl::context> context);
    ~TlsSocket();
    TlsSocket(const TlsSocket&) = delete;
    TlsSocket& operator=(const TlsSocket&) = delete;

    Result handshake();
    Result read(void* data, std::size_t size);
    // Partial writes: `bytes` may be less than size. After WantRead/WantWrite
    // call again with at least the same bytes (the buffer may move).
    Result write(const void* data, std::size_t size);
    // Decrypted bytes held by OpenSSL: read them before waiting on the socket.
    bool pending() const;
    // close_notify, best effort, once, never blocking.
    void shutdown();
    // Why the last step failed: OpenSSL's reason when it gave one (its
    // message() names it), else the socket's.
    boost::system::error_code errorCode() const;

    // Calls handler(error_code) once the socket is ready for what `want`
    // (WantRead or WantWrite) asked.
    template <class Handler>
    void wait(Status want, Handler&& handler) {
        socket_.async_wait(want == Status::WantWrite ? boost::asio::ip::tcp::socket::wait_write
                                                     : boost::asio::ip::tcp::socket::wait_read,
                           std::forward<Handler>(handler));
    }

    // ------------------------------------------------ Asio stream (upgrade phase)
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    executor_type get_executor() { return socket_.get_executor(); }

    // handler(error_code)
    template <class Handler>
    void async_handshake(Handler&& handler) {
        step([this] { return handshake(); }, std::forward<Handler>(handler));
    }
    // handler(error_code, bytes); end of stream is asio::error::eof.
    template <class Buffers, class Handler>
    void async_read_some(const Buffers& buffers, Handler&& handler) {
        boost::asio::mutable_buffer buffer = first(buffers);
        step([this, buffer] { return read(buffer.data(), buffer.size()); }, std::forward<Handler>(handler));
    }
    template <class Buffers, class Handler>
    void async_write_some(const Buffers& buffers, Handler&& handler) {
        boost::asio::const_buffer buffer = first(buffers);
        step([this, buffer] { return write(buffer.data(), buffer.size()); }, std::forward<Handler>(handler));
    }

private:
    template <class Buffers>
    static auto first(const Buffers& buffers) {
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
            if (it->size() > 0) return *it;
        return *boost::asio::buffer_sequence_begin(buffers);
    }

    // Runs attempt() until it is done or fails, waiting on the socket in
    // between; the handler is always called from a fresh handler.
    template <class Attempt, class Handler>
    void step(Attempt attempt, Handler&& handler) {
        Result result = attempt();
        if (result.status == Status::WantRead || result.status == Status::WantWrite) {
            wait(result.status, [this, attempt, handler = std::forward<Handler>(handler)](
                                    const boost::system::error_code& ec) mutable {
                if (ec) return complete(std::move(handler), ec, 0);
                step(attempt, std::move(handler));
            });
            return;
        }
        boost::system::error_code ec;
        if (result.status == Status::Closed) ec = boost::asio::error::eof;
        if (result.status == Status::Failed) ec = errorCode();
        complete(std::forward<Handler>(handler), ec, result.bytes);
    }

    template <class Handler>
    void complete(Handler&& handler, const boost::system::error_code& ec, std::size_t bytes) {
        if constexpr (std::is_invocable_v<std::decay_t<Handler>&, boost::system::error_code, std::size_t>) {
            boost::asio::post(socket_.get_executor(), boost::asio::append(std::forward<Handler>(handler), ec, bytes));
        } else {
            (void)bytes;
            boost::asio::post(socket_.get_executor(), boost::asio::append(std::forward<Handler>(handler), ec));
        }
    }

    Result finish(int ret);

    boost::asio::ip::tcp::socket& socket_;
    std::shared_ptr<boost::asio::ssl::context> context_;  // the certificate this connection was accepted with
    ssl_st* ssl_ = nullptr;
    unsigned long errorValue_ = 0;  // OpenSSL's error for the last Failed step
    int errno_ = 0;                 // else the socket's
    bool failed_ = false;        // no close_notify after a fatal error
    bool shutdownSent_ = false;
};

}  // namespace snorky
