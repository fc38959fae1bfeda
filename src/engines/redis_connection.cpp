#include "engines/redis_connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace snorky::redis {

bool Connection::connect(const std::string& host, int port, std::chrono::milliseconds timeout, std::string& error) {
    close();
    ctx_ = redisConnectNonBlock(host.c_str(), port);
    if (!ctx_) {
        error = "out of memory";
        return false;
    }
    if (ctx_->err) {
        error = ctx_->errstr;
        close();
        return false;
    }
    // The TCP connect is in progress: wait for it here, with our own timeout.
    pollfd p{ctx_->fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
        error = ready == 0 ? "connect timed out" : std::strerror(errno);
        close();
        return false;
    }
    int soError = 0;
    socklen_t len = sizeof soError;
    if (getsockopt(ctx_->fd, SOL_SOCKET, SO_ERROR, &soError, &len) != 0 || soError != 0) {
        error = std::strerror(soError ? soError : errno);
        close();
        return false;
    }
    redisEnableKeepAlive(ctx_);  // notices a peer that vanished without closing
    return true;
}

void Connection::close() {
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    pendingWrite_ = false;
    std::deque<ReplyHandler> waiting;
    waiting.swap(handlers_);
    for (ReplyHandler& handler : waiting) handler(nullptr);
}

void Connection::command(const std::vector<std::string_view>& argv, ReplyHandler handler) {
    std::string resp;
    appendArrayHeader(resp, argv.size());
    for (std::string_view arg : argv) appendBulk(resp, arg);
    formatted(resp, std::move(handler));
}

void Connection::formatted(const std::string& resp, ReplyHandler handler) {
    if (!ctx_) return;
    redisAppendFormattedCommand(ctx_, resp.data(), resp.size());
    pendingWrite_ = true;
    if (handler) handlers_.push_back(std::move(handler));
}

bool Connection::flush(std::string& error) {
    if (!ctx_) return false;
    int done = 0;
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) {
        error = ctx_->errstr;
        return false;
    }
    pendingWrite_ = !done;
    return true;
}

bool Connection::read(const std::function<void(const redisReply&)>& push, std::string& error) {
    if (!ctx_) return false;
    if (redisBufferRead(ctx_) != REDIS_OK) {
        error = ctx_->errstr;
        return false;
    }
    while (ctx_) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) {
            error = ctx_->errstr;
            return false;
        }
        if (!raw) break;
        auto* reply = static_cast<redisReply*>(raw);
        if (!handlers_.empty()) {
            ReplyHandler handler = std::move(handlers_.front());
            handlers_.pop_front();
            handler(reply);
        } else {
            push(*reply);
        }
        freeReplyObject(reply);
    }
    return true;
}

void appendArrayHeader(std::string& out, std::size_t count) {
    out += '*';
    out += std::to_string(count);
    out += "\r\n";
}

void appendBulk(std::string& out, std::string_view bytes) { appendBulk(out, bytes, {}); }

void appendBulk(std::string& out, std::string_view first, std::string_view second) {
    out += '$';
    out += std::to_string(first.size() + second.size());
    out += "\r\n";
    out.append(first);
    out.append(second);
    out += "\r\n";
}

std::string describe(const redisReply& reply) {
    switch (reply.type) {
        case REDIS_REPLY_ERROR:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_STRING: return std::string(reply.str, reply.len);
        case REDIS_REPLY_INTEGER: return std::to_string(reply.integer);
        case REDIS_REPLY_NIL: return "(nil)";
        case REDIS_REPLY_ARRAY: return "(array of " + std::to_string(reply.elements) + ")";
        default: return "(reply type " + std::to_string(reply.type) + ")";
    }
}

}  // namespace snorky::redis
