// Whether getpwnam and getpwuid can give one thread another's answer (their result is storage
// shared by the whole process): 8 threads each make 200,000 look-ups, alternating the postgres
// user by name and root by id, and the wrong answers are counted. Why EmbeddedPostgres looks users
// up with getpwnam_r and getpwuid_r (SystemUser).
//
//   cc -O2 -pthread scripts/lib/getpw_race.c -o /tmp/getpw_race && /tmp/getpw_race
#include <pwd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
static int bad = 0;
static void *worker(void *arg) {
    long k = (long)arg;
    for (int i = 0; i < 200000; i++) {
        if ((i + k) % 2) { struct passwd *p = getpwnam("postgres"); if (!p || p->pw_uid == 0) __sync_fetch_and_add(&bad, 1); }
        else { struct passwd *p = getpwuid(0); if (!p || strcmp(p->pw_name, "root")) __sync_fetch_and_add(&bad, 1); }
    }
    return 0;
}
int main(void) {
    pthread_t t[8];
    for (long i = 0; i < 8; i++) pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
    printf("wrong answers: %d of 1600000\n", bad);
}
