#pragma once
// Waiting on an observable condition instead of sleeping: a test that needs
// something to have happened (a close reached the server, a key expired in
// Redis) polls for it with a deadline, so it is as fast as the machine allows
// and fails with a clear message instead of flaking when the machine is slow.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace snorky::testing {

// Calls `condition` until it returns true or `timeout` has passed; the last
// result. Polls every `every` (the condition may be a network round trip).
template <class Condition>
bool waitUntil(Condition&& condition, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
               std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return condition();
        std::this_thread::sleep_for(every);
    }
    return true;
}

// Whether the peer of our TCP connection from 127.0.0.1:localPort has closed
// its end (the socket is in CLOSE_WAIT), read from /proc/net/tcp: the kernel
// knows before the application reads the end of the stream.
inline bool tcpPeerClosed(std::uint16_t localPort) {
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // header
    char wanted[16];
    std::snprintf(wanted, sizeof wanted, "0100007F:%04X", localPort);
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if (local == wanted && state == "08") return true;  // 08: TCP_CLOSE_WAIT
    }
    return false;
}

}  // namespace snorky::testing
