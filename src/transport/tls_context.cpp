#include "transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace snorky {

namespace ssl = boost::asio::ssl;

namespace {
// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are
// OpenSSL's defaults, all of which qualify).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string describe(const boost::system::system_error& error) {
    std::string reason = error.code().message();
    return reason.empty() ? error.what() : reason;
}
}  // namespace

TlsContext::TlsContext(std::string certFile, std::string keyFile)
    : certFile_(std::move(certFile)), keyFile_(std::move(keyFile)), context_(build(certFile_, keyFile_)) {}

std::shared_ptr<ssl::context> TlsContext::build(const std::string& certFile, const std::string& keyFile) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                         ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);  // a client could make us redo handshakes at will
    SSL_CTX_set_cipher_list(native, kTls12Ciphers);
    // An idle connection gives its read and write buffers (about 34 KB) back
    // to OpenSSL's allocator; they are taken again when data moves.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
    try {
        context->use_certificate_chain_file(certFile);
    } catch (const boost::system::system_error& error) {
        throw std::invalid_argument("tls_cert '" + certFile + "': " + describe(error));
    }
    try {
        context->use_private_key_file(keyFile, ssl::context::pem);
    } catch (const boost::system::system_error& error) {
        throw std::invalid_argument("tls_key '" + keyFile + "': " + describe(error));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("tls_key '" + keyFile + "' does not belong to the certificate in '" + certFile + "'");
    }
    return context;
}

std::shared_ptr<ssl::context> TlsContext::current() const {
    std::lock_guard guard(lock_);
    return context_;
}

std::string TlsContext::reload() {
    std::shared_ptr<ssl::context> fresh;
    try {
        fresh = build(certFile_, keyFile_);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    std::lock_guard guard(lock_);
    context_ = std::move(fresh);
    return {};
}

}  // namespace snorky
