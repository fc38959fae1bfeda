#include "support/server_process.hpp"

#include "support/sanitizer_reports.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace snorky::it {

namespace fs = std::filesystem;

std::string basicConfig(bool clientPublish, const std::string& extraListenerOptions, const std::string& extra) {
    std::string config = R"(
[server]
threads = 2
log_level = "info"

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
)" + extraListenerOptions + R"(

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "swordfish"

[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = )" + std::string(clientPublish ? "true" : "false") + R"(

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
)";
    return config + extra;
}

std::string withEngine(std::string config, const std::string& engineUrl) {
    if (!engineUrl.empty()) config.replace(config.find("[server]\n"), 9, "[server]\nengine = \"" + engineUrl + "\"\n");
    return config;
}

namespace {
std::string makeTempDir() {
    std::string pattern = (fs::temp_directory_path() / "snorky-it-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, const std::string& logPath) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int fd = open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        // Sockets of the test process (WebSocket clients) must not live on in
        // the child: a client "closed" by the test would stay open.
        close_range(3, ~0U, 0);
        for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}
// SIGTERM (unless `term` is false: it ends by itself), then SIGKILL after the
// timeout; returns the exit status (or -signal) and forgets the pid.
int stopChild(pid_t& pid, int timeoutMs, bool term = true) {
    if (pid <= 0) return -1;
    if (term) kill(pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            pid = -1;
            return -SIGKILL;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}
}  // namespace

std::string writeTempFile(const std::string& name, const std::string& text) {
    std::string path = makeTempDir() + "/" + name;
    std::ofstream(path) << text;
    return path;
}

ServerProcess::ServerProcess(std::string configToml, std::map<std::string, std::string> env,
                             std::vector<std::string> extraArgs)
    : config_(std::move(configToml)), env_(std::move(env)), extraArgs_(std::move(extraArgs)), dir_(makeTempDir()) {
    std::ofstream(dir_ + "/snorky.toml") << config_;
    launch({});
}

void ServerProcess::launch(std::vector<std::string> args) {
    std::string ready = dir_ + "/ready.json";
    fs::remove(ready);
    std::vector<std::string> argv = {SNORKY_BINARY, "--config", dir_ + "/snorky.toml", "--ready-file", ready};
    argv.insert(argv.end(), extraArgs_.begin(), extraArgs_.end());
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, env_, dir_ + "/server.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!fs::exists(ready)) {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            checkExited(pid_);
            pid_ = -1;
            throw std::runtime_error("snorky exited during start-up:\n" + logs());
        }
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("snorky did not become ready:\n" + logs());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    json::value info = json::parse(readFile(ready));
    ports_.clear();
    types_.clear();
    for (auto& l : info.at("listeners").as_array()) {
        ports_.push_back(static_cast<int>(l.at("port").to_number<int>()));
        types_.emplace_back(l.at("type").as_string());
    }
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) terminate(5000);
}

int ServerProcess::frontendPort() const {
    for (std::size_t i = 0; i < types_.size(); ++i)
        if (types_[i] == "websocket") return ports_[i];
    throw std::runtime_error("no websocket listener");
}

int ServerProcess::backendPort() const {
    for (std::size_t i = 0; i < types_.size(); ++i)
        if (types_[i] == "backend") return ports_[i];
    throw std::runtime_error("no backend listener");
}

bool ServerProcess::running() {
    if (pid_ <= 0) return false;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        checkExited(pid_);
        pid_ = -1;
        return false;
    }
    return true;
}

int ServerProcess::terminate(int timeoutMs) { return reap(timeoutMs, true); }

int ServerProcess::wait(int timeoutMs) { return reap(timeoutMs, false); }

int ServerProcess::reap(int timeoutMs, bool term) {
    pid_t pid = pid_;
    int status = stopChild(pid_, timeoutMs, term);
    if (pid > 0) checkExited(pid);
    return status;
}

void ServerProcess::kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    checkExited(pid_);
    pid_ = -1;
}

void ServerProcess::checkExited(pid_t pid) {
    // Only what this run printed: a restarted server appends to the same log.
    std::string log = logs();
    if (log.size() <= checkedBytes_) return;
    failOnSanitizerReport(std::string_view(log).substr(checkedBytes_), "snorky (pid " + std::to_string(pid) + ")");
    checkedBytes_ = log.size();
}

void ServerProcess::restart() {
    if (pid_ > 0) terminate();
    std::vector<std::string> args;
    // Same ports as before, so clients reconnect where they were.
    for (std::size_t i = 0; i < types_.size(); ++i) {
        if (types_[i] == "websocket") { args.insert(args.end(), {"--port", std::to_string(ports_[i])}); break; }
    }
    for (std::size_t i = 0; i < types_.size(); ++i) {
        if (types_[i] == "backend") { args.insert(args.end(), {"--backend-port", std::to_string(ports_[i])}); break; }
    }
    launch(args);
}

std::string ServerProcess::logs() const { return readFile(dir_ + "/server.log"); }

ChildProcess::ChildProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
    : dir_(makeTempDir()), name_(fs::path(args.at(0)).filename().string()) {
    pid_ = spawn(args, env, dir_ + "/out.log");
}

ChildProcess::~ChildProcess() { terminate(5000); }

int ChildProcess::terminate(int timeoutMs) { return reap(timeoutMs, true); }

int ChildProcess::wait(int timeoutMs) { return reap(timeoutMs, false); }

int ChildProcess::reap(int timeoutMs, bool term) {
    pid_t pid = pid_;
    int status = stopChild(pid_, timeoutMs, term);
    if (pid > 0) failOnSanitizerReport(logs(), name_ + " (pid " + std::to_string(pid) + ")");
    return status;
}

std::string ChildProcess::logs() const { return readFile(dir_ + "/out.log"); }

int freePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

bool waitForPort(int port, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

CommandResult runSnorky(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    std::string dir = makeTempDir();
    std::vector<std::string> argv = {SNORKY_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = spawn(argv, env, dir + "/out.log");
    int status = 0;
    waitpid(pid, &status, 0);
    CommandResult result{WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), readFile(dir + "/out.log")};
    failOnSanitizerReport(result.output, "snorky (pid " + std::to_string(pid) + ")");
    return result;
}

}  // namespace snorky::it
