// Could the CostMeter read a thread's CPU time without a system call? perf's self-monitoring page
// (a task-clock event on the calling thread, mmap'ed) gives the time the event has run, and with
// `cap_user_time` the page's TSC conversion extends it to now with no kernel entry. This opens
// the event, prints whether the page offers that, compares its reading with the thread CPU clock
// over a stretch of work and a sleep, and times a read of each.
//
//   cc -O2 scripts/lib/thread_clock_cost.c -o /tmp/thread_clock_cost && /tmp/thread_clock_cost
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static struct perf_event_mmap_page *page;

// The event's running time, extended to now when the page allows it (perf_event.h's recipe).
static uint64_t perf_thread_ns(void) {
    uint32_t sequence;
    uint64_t running, delta = 0;
    do {
        sequence = page->lock;
        __asm__ volatile("" ::: "memory");
        running = page->time_running;
        if (page->cap_user_time) {
            uint64_t cycles = __rdtsc();
            uint64_t quotient = cycles >> page->time_shift;
            uint64_t remainder = cycles & (((uint64_t)1 << page->time_shift) - 1);
            delta = page->time_offset + quotient * page->time_mult + ((remainder * page->time_mult) >> page->time_shift);
        }
        __asm__ volatile("" ::: "memory");
    } while (page->lock != sequence);
    return running + delta;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static uint64_t thread_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static double ns_per_call(uint64_t (*read)(void)) {
    enum { calls = 1000000 };
    volatile uint64_t sink = 0;
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < calls; i++) sink += read();
    return (double)(clock_ns(CLOCK_MONOTONIC) - start) / calls;
}

int main(void) {
    struct perf_event_attr attributes;
    memset(&attributes, 0, sizeof attributes);
    attributes.size = sizeof attributes;
    attributes.type = PERF_TYPE_SOFTWARE;
    attributes.config = PERF_COUNT_SW_TASK_CLOCK;
    attributes.exclude_hv = 1;
    int descriptor = syscall(SYS_perf_event_open, &attributes, 0, -1, -1, 0);
    if (descriptor < 0) {
        perror("perf_event_open");
        printf("thread CPU clock: %.0f ns a read\n", ns_per_call(thread_ns));
        return 0;
    }
    page = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, descriptor, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("cap_user_time %d (1: a thread's CPU time readable without a system call)\n", (int)page->cap_user_time);
    uint64_t clock_before = thread_ns(), perf_before = perf_thread_ns();
    volatile double x = 0;
    for (int i = 0; i < 50000000; i++) x += i * 0.5;
    usleep(100000);
    for (int i = 0; i < 20000000; i++) x += i * 0.5;
    printf("over work and a sleep: thread CPU clock %.3f ms, perf page %.3f ms\n",
           (thread_ns() - clock_before) / 1e6, (perf_thread_ns() - perf_before) / 1e6);
    printf("a read: thread CPU clock %.0f ns, perf page %.1f ns\n", ns_per_call(thread_ns), ns_per_call(perf_thread_ns));
    return 0;
}
