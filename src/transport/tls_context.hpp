#pragma once
// The TLS side of one listener: an OpenSSL server context built from a PEM
// certificate chain and key, swappable at run time. A reload (SIGHUP) builds
// a new context; connections accepted afterwards use it, open ones keep the
// context they were accepted with (each session holds a reference).
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

namespace snorky {

class TlsContext {
public:
    // Throws std::invalid_argument naming the file and OpenSSL's reason.
    TlsContext(std::string certFile, std::string keyFile);

    // The context for a connection accepted now. Any thread.
    std::shared_ptr<boost::asio::ssl::context> current() const;
    // Re-reads both files. On failure the current context stays and the
    // reason is returned; empty on success. Any thread.
    std::string reload();

    const std::string& certFile() const { return certFile_; }

private:
    static std::shared_ptr<boost::asio::ssl::context> build(const std::string& certFile, const std::string& keyFile);

    std::string certFile_;
    std::string keyFile_;
    mutable std::mutex lock_;
    std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace snorky
