#include "support/redis_process.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/server_process.hpp"

namespace snorky::it {

namespace fs = std::filesystem;

std::string RedisProcess::binary() {
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH")) {
        std::stringstream in(path);
        for (std::string dir; std::getline(in, dir, ':');) dirs.push_back(dir);
    }
    dirs.push_back("/usr/bin");
    dirs.push_back("/usr/sbin");
    for (const std::string& dir : dirs) {
        std::string candidate = dir + "/redis-server";
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

RedisProcess::RedisProcess(int port) : port_(port ? port : freePort()) {
    std::string pattern = (fs::temp_directory_path() / "snorky-redis-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    start();
}

RedisProcess::~RedisProcess() { kill9(); }

void RedisProcess::start() {
    if (pid_ > 0) return;
    std::string exe = binary();
    if (exe.empty()) throw std::runtime_error("redis-server not found");
    std::string port = std::to_string(port_);
    std::string log = dir_ + "/redis.log";
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        close_range(3, ~0U, 0);  // no test-process socket lives on in redis-server
        if (chdir(dir_.c_str()) != 0) _exit(126);
        execl(exe.c_str(), exe.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            if (command({"PING"}) == "PONG") return;
        } catch (const std::exception&) {
        }
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited at start (port " + port + "), see " + log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not answer on port " + port);
}

void RedisProcess::kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void RedisProcess::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

namespace {
void render(const redisReply* r, std::string& out) {
    switch (r->type) {
        case REDIS_REPLY_INTEGER: out += std::to_string(r->integer); break;
        case REDIS_REPLY_NIL: out += "(nil)"; break;
        case REDIS_REPLY_ARRAY:
            for (std::size_t i = 0; i < r->elements; ++i) {
                if (i) out += '\n';
                render(r->element[i], out);
            }
            break;
        default: out.append(r->str, r->len);
    }
}
}  // namespace

std::string RedisProcess::command(const std::vector<std::string>& argv) const {
    timeval timeout{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
    if (!c || c->err) {
        std::string error = c ? c->errstr : "out of memory";
        if (c) redisFree(c);
        throw std::runtime_error("redis: " + error);
    }
    redisSetTimeout(c, timeout);
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (const std::string& a : argv) {
        args.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data()));
    if (!reply) {
        std::string error = c->errstr;
        redisFree(c);
        throw std::runtime_error("redis: " + error);
    }
    std::string out;
    bool failed = reply->type == REDIS_REPLY_ERROR;
    render(reply, out);
    freeReplyObject(reply);
    redisFree(c);
    if (failed) throw std::runtime_error("redis: " + out);
    return out;
}

long long RedisProcess::subscribers(const std::string& channel) const {
    std::string reply = command({"PUBSUB", "NUMSUB", channel});  // "channel\ncount"
    return std::stoll(reply.substr(reply.rfind('\n') + 1));
}

bool RedisProcess::waitSubscribers(const std::string& channel, long long count, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (subscribers(channel) == count) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace snorky::it
