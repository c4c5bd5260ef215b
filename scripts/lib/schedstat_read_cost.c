// What reading a process's CPU time costs here, the ways the CostMeter could do it: the thread
// CPU clock (a system call), /proc/<pid>/schedstat opened, read and closed each time, and the same
// file kept open and read again with pread at offset 0 (what BackendCPU.Reader does).
//
//   cc -O2 scripts/lib/schedstat_read_cost.c -o /tmp/schedstat_read_cost && /tmp/schedstat_read_cost
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    enum { clockReads = 200000, fileReads = 20000 };
    struct timespec t;
    char path[64], buffer[256];
    snprintf(path, sizeof path, "/proc/%d/schedstat", getpid());

    long long start = now();
    for (int i = 0; i < clockReads; i++) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    printf("thread CPU clock:          %5.0f ns per read\n", (double)(now() - start) / clockReads);

    start = now();
    for (int i = 0; i < fileReads; i++) {
        int descriptor = open(path, O_RDONLY);
        if (descriptor < 0 || read(descriptor, buffer, sizeof buffer) <= 0) return 1;
        close(descriptor);
    }
    printf("schedstat open+read+close: %5.0f ns per read\n", (double)(now() - start) / fileReads);

    int descriptor = open(path, O_RDONLY);
    start = now();
    for (int i = 0; i < fileReads; i++)
        if (pread(descriptor, buffer, sizeof buffer, 0) <= 0) return 1;
    printf("schedstat kept open, pread: %4.0f ns per read\n", (double)(now() - start) / fileReads);
    return 0;
}
