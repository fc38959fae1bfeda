#pragma once
// Starts the real `snorky` binary with a config on free ports and waits until
// it listens. Integration tests talk to it over real sockets.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace snorky::it {

namespace json = boost::json;

// A config with a frontend (pubsub, clients may publish or not) and a backend,
// both on port 0, key "swordfish"; `extra` is appended (more services).
std::string basicConfig(bool clientPublish = true, const std::string& extraListenerOptions = "",
                        const std::string& extra = "");

// The config with `engine = engineUrl` in its [server] table (as it was for an empty URL).
std::string withEngine(std::string config, const std::string& engineUrl);

inline constexpr const char* kKey = "swordfish";

class ServerProcess {
public:
    explicit ServerProcess(std::string configToml, std::map<std::string, std::string> env = {},
                           std::vector<std::string> extraArgs = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Port of the i-th listener in config order.
    int port(std::size_t i) const { return ports_.at(i); }
    int frontendPort() const;  // first websocket listener
    int backendPort() const;   // first backend listener
    pid_t pid() const { return pid_; }
    bool running();

    // SIGTERM and wait; returns the exit status (or -signal).
    int terminate(int timeoutMs = 10000);
    // Waits for it to end by itself (SIGKILL after the timeout); the exit status.
    int wait(int timeoutMs = 10000);
    void kill9();
    // Starts again with the same config on the same ports.
    void restart();
    // Everything the server printed (stdout and stderr).
    std::string logs() const;
    const std::string& dir() const { return dir_; }

private:
    void launch(std::vector<std::string> args);
    int reap(int timeoutMs, bool term);  // SIGTERM first when `term`
    // Once the process is gone: a sanitizer report in what it printed fails the test.
    void checkExited(pid_t pid);
    std::string config_;
    std::map<std::string, std::string> env_;
    std::vector<std::string> extraArgs_;
    std::string dir_;
    pid_t pid_ = -1;
    std::vector<int> ports_;
    std::vector<std::string> types_;
    std::size_t checkedBytes_ = 0;  // of the log, already searched for sanitizer reports
};

// Runs the binary to completion (for config errors, --check, --help). A
// sanitizer report in its output fails the test (as for every program below).
struct CommandResult {
    int exitCode;
    std::string output;
};
CommandResult runSnorky(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

// Any other program (the examples, snorky-call...), ended on destruction.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    pid_t pid() const { return pid_; }
    int terminate(int timeoutMs = 10000);
    // Waits for it to end by itself (SIGKILL after the timeout); the exit status.
    int wait(int timeoutMs = 10000);
    std::string logs() const;

private:
    int reap(int timeoutMs, bool term);
    std::string dir_;
    std::string name_;
    pid_t pid_ = -1;
};

// A port nothing listens on right now (bind to 0, read, close).
int freePort();
// Waits until something accepts TCP connections on 127.0.0.1:port.
bool waitForPort(int port, int timeoutMs = 10000);

// Writes text to a new file in a fresh temp folder and returns its path.
std::string writeTempFile(const std::string& name, const std::string& text);

}  // namespace snorky::it
