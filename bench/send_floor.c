/* send_floor: what the kernel charges for one small send() on loopback TCP.
 *
 * Opens N connected loopback socket pairs (default 5,000). A child process
 * holds the receiving ends and drains them with epoll, as a load generator's
 * clients would; the parent sends one small message to every socket per round
 * (a fan-out burst), rounds spaced by an interval. The parent's CPU time
 * (user + system) divided by the number of sends is the floor: on loopback
 * the sender's send() also runs the receiving side's TCP work and the wake-up
 * of the reader, so this is the least a server can pay per delivered message
 * with one send per message.
 *
 * Usage: send_floor [-n sockets] [-s bytes] [-r rounds] [-i interval_ms] [-m] [-t]
 *   -m  sendmsg() with one iovec instead of send() (what a gather-writing server calls)
 *   -t  keep one idle extra thread, so the fd table is shared as in a threaded server
 * Prints a human line and "FLOOR ns_per_send=<ns>" for scripts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static double cpu_of(int who, double* user, double* sys) {
    struct rusage ru;
    getrusage(who, &ru);
    *user = seconds(ru.ru_utime);
    *sys = seconds(ru.ru_stime);
    return *user + *sys;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Machine-wide softirq seconds from /proc/stat. With IRQ time accounting on,
 * the receive-side work loopback runs in softirq context is charged to no
 * process, so it is reported separately (other processes add a little). */
static double softirq_s(void) {
    FILE* f = fopen("/proc/stat", "r");
    unsigned long long v[7] = {0};
    if (!f) return 0;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
        v[6] = 0;
    fclose(f);
    return (double)v[6] / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char* what) {
    perror(what);
    exit(2);
}

/* The child: drain every receiving socket until the parent closes `done`. */
static void drain(int* fds, int n, int done) {
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN};
    for (int i = 0; i < n; ++i) {
        ev.data.u32 = (unsigned)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) die("epoll_ctl");
    }
    ev.data.u32 = (unsigned)n;
    epoll_ctl(ep, EPOLL_CTL_ADD, done, &ev);
    struct epoll_event events[256];
    char buf[65536];
    for (;;) {
        int k = epoll_wait(ep, events, 256, -1);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die("epoll_wait");
        for (int i = 0; i < k; ++i) {
            unsigned id = events[i].data.u32;
            if (id == (unsigned)n) _exit(0);
            if (read(fds[id], buf, sizeof buf) <= 0) _exit(1);
        }
    }
}

static void* idle_thread(void* arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char** argv) {
    int n = 5000, size = 100, rounds = 200, interval_ms = 50, use_sendmsg = 0, threaded = 0, opt;
    while ((opt = getopt(argc, argv, "n:s:r:i:mth")) != -1) {
        switch (opt) {
        case 'n': n = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'm': use_sendmsg = 1; break;
        case 't': threaded = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n sockets=5000] [-s bytes=100] [-r rounds=200] [-i interval_ms=50] [-m] [-t]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n < 1 || size < 1 || rounds < 1 || interval_ms < 0) {
        fprintf(stderr, "send_floor: bad arguments\n");
        return 2;
    }

    /* 2 fds per pair plus a few: raise the soft limit to the hard one. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(2 * n + 16) > rl.rlim_cur) {
        fprintf(stderr, "send_floor: %d sockets need %d files, the limit is %ld\n", n, 2 * n + 16, (long)rl.rlim_cur);
        return 2;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, (struct sockaddr*)&addr, &alen) != 0)
        die("listen");

    int* senders = calloc((size_t)n, sizeof(int));
    int* receivers = calloc((size_t)n, sizeof(int));
    int one = 1;
    for (int i = 0; i < n; ++i) {
        receivers[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (receivers[i] < 0 || connect(receivers[i], (struct sockaddr*)&addr, sizeof addr) != 0) die("connect");
        senders[i] = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (senders[i] < 0) die("accept");
        setsockopt(senders[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    close(listener);

    int done[2];
    if (pipe(done) != 0) die("pipe");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        close(done[1]);
        for (int i = 0; i < n; ++i) close(senders[i]);
        drain(receivers, n, done[0]);
    }
    close(done[0]);
    for (int i = 0; i < n; ++i) close(receivers[i]);

    if (threaded) {
        /* With more than one thread, every fd lookup takes a reference on the file. */
        pthread_t thread;
        if (pthread_create(&thread, NULL, idle_thread, NULL) != 0) die("pthread_create");
    }

    char* msg = malloc((size_t)size);
    memset(msg, 'x', (size_t)size);
    msg[0] = (char)0x81; /* looks like a WebSocket text frame; content is irrelevant */

    long long sends = 0, again = 0;
    double user0 = 0, sys0 = 0, user1, sys1, busy = 0, soft0 = 0, burst_max = 0;
    struct timespec pause = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
    for (int r = -5; r < rounds; ++r) { /* 5 warm-up rounds, not counted */
        if (r == 0) {
            cpu_of(RUSAGE_SELF, &user0, &sys0);
            soft0 = softirq_s();
        }
        double t0 = now_s();
        for (int i = 0; i < n; ++i) {
            ssize_t k;
            if (use_sendmsg) {
                struct iovec iov = {msg, (size_t)size};
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
                k = sendmsg(senders[i], &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
            } else {
                k = send(senders[i], msg, (size_t)size, MSG_NOSIGNAL);
            }
            if (k == size) {
                if (r >= 0) ++sends;
            } else if (k < 0 && errno == EAGAIN) {
                if (r >= 0) ++again;
            } else {
                die("send");
            }
        }
        if (r >= 0) {
            double burst = now_s() - t0;
            busy += burst;
            if (burst > burst_max) burst_max = burst;
        }
        if (interval_ms > 0) nanosleep(&pause, NULL);
    }
    double cpu = cpu_of(RUSAGE_SELF, &user1, &sys1) - user0 - sys0;
    double soft = softirq_s() - soft0;

    close(done[1]);
    int status = 0;
    struct rusage child_ru;
    wait4(child, &status, 0, &child_ru);
    double child_cpu = seconds(child_ru.ru_utime) + seconds(child_ru.ru_stime);

    double ns = sends ? cpu * 1e9 / (double)sends : 0;
    printf("send_floor: %d sockets, %d-byte %s, %d rounds every %d ms%s: %lld sends (%lld EAGAIN)\n", n, size,
           use_sendmsg ? "sendmsg() calls" : "send() calls", rounds, interval_ms, threaded ? ", fd table shared with a thread" : "",
           sends, again);
    printf("  sender CPU %.3f s (user %.3f, sys %.3f): %.0f ns per send; wall in send loops %.0f ns per send\n", cpu,
           user1 - user0, sys1 - sys0, ns, sends ? busy * 1e9 / (double)sends : 0.0);
    printf("  one burst of %d sends (one thread): %.2f ms mean, %.2f ms max wall time\n", n, busy * 1e3 / rounds,
           burst_max * 1e3);
    printf("  machine softirq %.3f s: %.0f ns per send; task CPU + softirq %.0f ns per send\n", soft,
           sends ? soft * 1e9 / (double)sends : 0.0, sends ? (cpu + soft) * 1e9 / (double)sends : 0.0);
    printf("  receiver CPU %.3f s (whole run incl. setup): %.0f ns per message\n", child_cpu,
           sends ? child_cpu * 1e9 / (double)sends : 0.0);
    printf("FLOOR ns_per_send=%.0f softirq_ns_per_send=%.0f\n", ns, sends ? soft * 1e9 / (double)sends : 0.0);
    return 0;
}
