#pragma once
// Small socket and clock helpers shared by the generator's event loops.
#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace snorky::bench {

// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine,
// so a publish time stamped by one process can be compared in another.
std::uint64_t nowNs();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
long raiseFileLimit();

// A non-blocking TCP socket bound to `source` (port chosen at connect time so
// each source address has its own ephemeral port range) and connecting to
// `target`. Returns the fd, or -1 with errno set.
int startConnect(const sockaddr_in& source, const sockaddr_in& target);

// 127.0.0.<1 + index % count>: spreads connections over loopback addresses to
// pass the ~28k ephemeral ports one source address has.
sockaddr_in loopbackSource(std::uint32_t index, std::uint32_t count);

sockaddr_in ipv4Address(const std::string& host, std::uint16_t port);

// Writes/reads all bytes of a blocking fd (pipes between the processes).
bool writeAll(int fd, const void* data, std::size_t size);
bool readAll(int fd, void* data, std::size_t size);

}  // namespace snorky::bench
