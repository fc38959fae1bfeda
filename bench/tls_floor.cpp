// The floor of memory per idle server-side TLS connection with the installed
// OpenSSL: N handshakes over socketpairs (clients in a child process), the
// server's SSL objects then kept idle; prints heap bytes in use (mallinfo2)
// and RSS growth per connection. Context as src/transport/tls_context.cpp,
// plus variants that show what can still be given back.
// Build and run (not part of the CMake build; docs/benchmarks.md):
//   g++ -O2 -std=c++20 bench/tls_floor.cpp -lssl -lcrypto -o /tmp/tls_floor
//   /tmp/tls_floor cert.pem key.pem 2000 [variant]
// Variants: asis (the server's context), nocache (no session cache, no
// tickets), bare (nocache + no RELEASE_BUFFERS, to see what that mode saves).
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {
long rssBytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
    return 0;
}

long heapBytes() { return static_cast<long>(mallinfo2().uordblks); }

SSL_CTX* serverContext(const char* cert, const char* key, const std::string& variant) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (variant != "bare") SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (variant == "asis") {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        std::exit(1);
    }
    return ctx;
}

// The child: one client per socket, handshake, then wait until the parent is done.
[[noreturn]] void runClients(const std::vector<int>& fds, int done) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    std::vector<SSL*> clients;
    for (int fd : fds) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) != 1) {
            ERR_print_errors_fp(stderr);
            std::_Exit(1);
        }
        clients.push_back(ssl);
    }
    char byte;
    (void)read(done, &byte, 1);
    std::_Exit(0);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s cert.pem key.pem count [asis|nocache|bare]\n", argv[0]);
        return 2;
    }
    const int count = std::atoi(argv[3]);
    const std::string variant = argc > 4 ? argv[4] : "asis";
    SSL_CTX* ctx = serverContext(argv[1], argv[2], variant);
    std::vector<int> serverEnds, clientEnds;
    for (int i = 0; i < count; ++i) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
        serverEnds.push_back(pair[0]);
        clientEnds.push_back(pair[1]);
    }
    int done[2];
    if (pipe(done) != 0) return 1;
    // One warm-up handshake first so that OpenSSL's one-time tables are not counted.
    pid_t child = fork();
    if (child == 0) {
        for (int fd : serverEnds) close(fd);
        close(done[1]);
        runClients(clientEnds, done[0]);
    }
    for (int fd : clientEnds) close(fd);
    close(done[0]);
    std::vector<SSL*> servers;
    long heapBefore = 0, rssBefore = 0;
    for (int i = 0; i < count; ++i) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, serverEnds[i]);
        if (SSL_accept(ssl) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        servers.push_back(ssl);
        if (i == 0) {
            malloc_trim(0);
            heapBefore = heapBytes();
            rssBefore = rssBytes();
        }
    }
    malloc_trim(0);
    const long n = count - 1;
    std::printf("RESULT {\"variant\":\"%s\",\"connections\":%ld,\"heapPerConnection\":%ld,\"rssPerConnection\":%ld}\n",
                variant.c_str(), n, (heapBytes() - heapBefore) / n, (rssBytes() - rssBefore) / n);
    (void)!write(done[1], "x", 1);
    waitpid(child, nullptr, 0);
    for (SSL* ssl : servers) SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
