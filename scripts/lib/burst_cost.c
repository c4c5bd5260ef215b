// What the same work costs in CPU time when it comes in bursts with idle gaps between them, as a
// tenant's requests do at a paced rate, against back to back: a fixed burst (arithmetic, then a
// walk over 4 MiB) timed with the thread CPU clock, 300 bursts per gap, the gaps in turn, three
// rounds. No Runway code: this is the machine (caches and TLB gone cold, the vCPU's frequency or
// scheduling after idling), which bills paced work more than the same work back to back.
//
//   cc -O2 scripts/lib/burst_cost.c -o /tmp/burst_cost && /tmp/burst_cost
#include <stdio.h>
#include <time.h>

static double cpuMicroseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

enum { gapCount = 3, bursts = 300, rounds = 3 };

static char memory[4 << 20];
static volatile unsigned long sink;

static void burst(void) {
    unsigned long x = 1;
    for (int i = 0; i < 200000; i++) x = x * 6364136223846793005UL + i;
    for (int i = 0; i < (int)sizeof memory; i += 64) x += memory[i]++;
    sink = x;
}

_Static_assert(rounds == 3, "each gap's figure is the median of three rounds");

static double median3(const double *v) {
    double low = v[0] < v[1] ? v[0] : v[1], high = v[0] < v[1] ? v[1] : v[0];
    return v[2] < low ? low : (v[2] > high ? high : v[2]);
}

int main(void) {
    // Back to back, and paced as the cost-truth benchmark's light (400/s) and heavy (60/s) mixes.
    const long gaps[gapCount] = {0, 2500, 16667};
    double perBurst[gapCount][rounds];
    for (int round = 0; round < rounds; round++) {
        for (int g = 0; g < gapCount; g++) {
            double total = 0;
            for (int i = 0; i < bursts; i++) {
                double start = cpuMicroseconds();
                burst();
                total += cpuMicroseconds() - start;
                if (gaps[g]) nanosleep(&(struct timespec){0, gaps[g] * 1000}, NULL);
            }
            perBurst[g][round] = total / bursts;
        }
    }
    for (int g = 0; g < gapCount; g++) {
        printf("%6ld µs between bursts: %4.0f µs of CPU per burst (median of %d rounds), %.2f× back to back\n",
               gaps[g], median3(perBurst[g]), rounds, median3(perBurst[g]) / median3(perBurst[0]));
    }
    return 0;
}
