#include "transport/tls_socket.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <new>

namespace snorky {

TlsSocket::TlsSocket(boost::asio::ip::tcp::socket& socket, std::shared_ptr<boost::asio::ssl::context> context)
    : socket_(socket), context_(std::move(context)), ssl_(SSL_new(context_->native_handle())) {
    if (!ssl_ || SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
        if (ssl_) SSL_free(ssl_);
        ERR_clear_error();
        throw std::bad_alloc();
    }
    // OpenSSL's socket BIO writes with write(): a peer gone away raises
    // SIGPIPE, which the server ignores (src/transport/server.cpp).
    SSL_set_accept_state(ssl_);
    // Writes go out record by record from the session's queue, whose joined
    // copy may be rebuilt elsewhere before a retry.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

TlsSocket::~TlsSocket() { SSL_free(ssl_); }

// OpenSSL reports errors through a per-thread queue that the sessions of a
// worker share: it is emptied before each step and after each failure, so
// one connection's error is never read as another's.
TlsSocket::Result TlsSocket::finish(int ret) {
    int saved = errno;
    int error = SSL_get_error(ssl_, ret);
    switch (error) {
        case SSL_ERROR_WANT_READ:
            return {Status::WantRead};
        case SSL_ERROR_WANT_WRITE:
            return {Status::WantWrite};
        case SSL_ERROR_ZERO_RETURN:
            return {Status::Closed};
        default:
            break;
    }
    failed_ = true;
    errorValue_ = ERR_peek_last_error();
    errno_ = error == SSL_ERROR_SYSCALL ? saved : 0;
    ERR_clear_error();
    return {Status::Failed};
}

TlsSocket::Result TlsSocket::handshake() {
    if (!socket_.is_open() || failed_) return {Status::Failed};
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) return {Status::Done};
    return finish(ret);
}

TlsSocket::Result TlsSocket::read(void* data, std::size_t size) {
    if (!socket_.is_open() || failed_) return {Status::Failed};
    ERR_clear_error();
    std::size_t bytes = 0;
    int ret = SSL_read_ex(ssl_, data, size, &bytes);
    if (ret == 1) return {Status::Done, bytes};
    return finish(ret);
}

TlsSocket::Result TlsSocket::write(const void* data, std::size_t size) {
    if (!socket_.is_open() || failed_) return {Status::Failed};
    ERR_clear_error();
    std::size_t bytes = 0;
    int ret = SSL_write_ex(ssl_, data, size, &bytes);
    if (ret == 1) return {Status::Done, bytes};
    return finish(ret);
}

bool TlsSocket::pending() const { return SSL_has_pending(ssl_) == 1; }

void TlsSocket::shutdown() {
    if (shutdownSent_ || failed_ || !socket_.is_open() || !SSL_is_init_finished(ssl_)) return;
    shutdownSent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // sends close_notify if the socket takes it; the peer's is not awaited
    ERR_clear_error();
}

boost::system::error_code TlsSocket::errorCode() const {
    if (errorValue_ != 0)
        return {static_cast<int>(errorValue_), boost::asio::error::get_ssl_category()};
    if (errno_ != 0) return {errno_, boost::system::system_category()};
    // A socket error OpenSSL did not name, or end of file without close_notify.
    return boost::asio::error::connection_reset;
}

}  // namespace snorky
