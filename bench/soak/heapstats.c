/* Preloaded into the server by `bench/soak.sh --heap-stats` (LD_PRELOAD, glibc
 * builds only): once a second, writes glibc's heap figures to $SOAK_HEAP_FILE as
 * "<bytes in use> <bytes the allocator holds>" (mallinfo2: every arena plus
 * mmapped chunks). RSS alone cannot tell a leak from memory the allocator
 * keeps after a peak; bytes in use can. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void* report(void* arg) {
    const char* path = arg;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    for (;;) {
        struct mallinfo2 m = mallinfo2();
        FILE* out = fopen(tmp, "w");
        if (out) {
            fprintf(out, "%zu %zu\n", m.uordblks + m.hblkhd, m.arena + m.hblkhd);
            fclose(out);
            rename(tmp, path); /* readers never see half a line */
        }
        sleep(1);
    }
    return NULL;
}

__attribute__((constructor)) static void startReporter(void) {
    const char* path = getenv("SOAK_HEAP_FILE");
    if (!path) return;
    pthread_t thread;
    if (pthread_create(&thread, NULL, report, (void*)path) == 0) pthread_detach(thread);
}
