#pragma once
// One non-blocking hiredis connection, driven by the RedisBroker's own poll
// loop: commands are appended to an output buffer, written when the socket is
// writable, and replies are handed out in order as they are read. Used by one
// thread only.
#include <hiredis/hiredis.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace snorky::redis {

// A reply callback; `reply` is null when the connection closed before the
// reply came (every waiting handler is called so on close()).
using ReplyHandler = std::function<void(const redisReply* reply)>;

class Connection {
public:
    Connection() = default;
    ~Connection() { close(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects with a timeout (blocking the calling thread at most that long),
    // then switches to non-blocking mode. False with `error` set on failure.
    bool connect(const std::string& host, int port, std::chrono::milliseconds timeout, std::string& error);
    void close();
    bool open() const { return ctx_ != nullptr; }
    int fd() const { return ctx_ ? ctx_->fd : -1; }

    // Appends a command. A connection is used in one of two ways: every
    // command with a handler (one reply each, in order: the command
    // connection), or none (every reply, subscriber messages included, goes
    // to the push handler of read(): the subscriber connection).
    void command(const std::vector<std::string_view>& argv, ReplyHandler handler = nullptr);
    // Appends an already RESP-encoded command (see appendBulk); same rule.
    void formatted(const std::string& resp, ReplyHandler handler = nullptr);
    // Whether appended bytes still wait to be written, and how many.
    bool wantsWrite() const { return pendingWrite_; }
    std::size_t unwrittenBytes() const { return ctx_ && ctx_->obuf ? sdslen(ctx_->obuf) : 0; }
    // Writes what the socket takes now. False with `error` on a broken connection.
    bool flush(std::string& error);
    // Reads what is available and dispatches every complete reply: to the
    // oldest waiting handler, or to `push` (subscriber messages, replies of
    // commands sent without handler). False with `error` on EOF or error.
    bool read(const std::function<void(const redisReply&)>& push, std::string& error);
    // Commands sent with a handler whose reply has not arrived yet.
    std::size_t awaiting() const { return handlers_.size(); }

private:
    redisContext* ctx_ = nullptr;
    bool pendingWrite_ = false;
    std::deque<ReplyHandler> handlers_;  // one per command sent with a handler, in order
};

// RESP encoding without a format string: "*<n>\r\n" then "$<len>\r\n<bytes>\r\n" per argument.
void appendArrayHeader(std::string& out, std::size_t count);
void appendBulk(std::string& out, std::string_view bytes);
// Same, the bulk made of two parts written back to back (no intermediate copy).
void appendBulk(std::string& out, std::string_view first, std::string_view second);

std::string describe(const redisReply& reply);  // for logs

}  // namespace snorky::redis
