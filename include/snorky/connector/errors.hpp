#pragma once
// The two ways a backend call fails (protocol.md section 3, "Backend
// connector"). Catch SnorkyError first: both derive from std::runtime_error.
#include <stdexcept>
#include <string>

namespace snorky::connector {

// The service answered {"type": "error", "message": ...}. what() is the
// service's message exactly ("Unknown command", "Invalid params", ...), so
// callers can match on it. The request reached the service; do not retry
// blindly.
class SnorkyError : public std::runtime_error {
public:
    explicit SnorkyError(const std::string& message) : std::runtime_error(message) {}
};

// Anything else: the server could not be reached, did not answer in time,
// answered a non-200 status, or answered something that is not a Snorky
// reply. what() carries the detail (URL, status, body) for a log line; the
// backend key never appears in it.
class TransportError : public std::runtime_error {
public:
    enum class Kind {
        Connect,     // resolve, TCP connect or TLS handshake failed
        Timeout,     // connect or request timeout expired
        Io,          // the connection broke while sending or receiving
        HttpStatus,  // the server answered a status other than 200
        BadReply,    // the body is not JSON or not a Snorky reply envelope
    };

    TransportError(Kind kind, const std::string& message, int status = 0, std::string body = {})
        : std::runtime_error(message), kind_(kind), status_(status), body_(std::move(body)) {}

    Kind kind() const { return kind_; }
    // HTTP status of the reply, 0 when none was received.
    int status() const { return status_; }
    // Body of a non-200 reply or of a reply that could not be understood.
    const std::string& body() const { return body_; }

private:
    Kind kind_;
    int status_;
    std::string body_;
};

}  // namespace snorky::connector
