#include "Kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define FK_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define FK_PAUSE() __asm__ __volatile__("yield")
#else
#define FK_PAUSE() ((void)0)
#endif

// A pool of persistent worker threads for the many short parallel regions of a training step
// or a generation step (hundreds a token, tens of microseconds each). Waking a sleeping thread
// costs a system call and tens of microseconds, so a worker that has just finished spins for a
// while (FK_SPIN_ROUNDS pauses, ~0.1–0.3 ms) watching for the next region before it sleeps on a
// condition variable. The caller runs part 0 itself and spins until the workers are done.
//
// One region at a time: a call made while another thread's region runs does its parts itself,
// in order, on the calling thread.

#define FK_MAX_WORKERS 64
#ifndef FK_SPIN_ROUNDS
#define FK_SPIN_ROUNDS 20000
#endif

static struct {
    _Atomic bool started;
    size_t threads;  // started worker threads (parts 1…threads)
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic uint64_t generation;  // advanced once per region
    _Atomic size_t remaining;     // parts of the current region not yet finished by the workers
    _Atomic bool busy;            // a region is running
    fk_parallel_task task;
    void *context;
    size_t parts;
} pool = {.mutex = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *argument) {
    size_t part = (size_t)argument;
    uint64_t seen = 0;
    for (;;) {
        uint64_t generation;
        unsigned spins = 0;
        while ((generation = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            if (++spins < FK_SPIN_ROUNDS) {
                FK_PAUSE();
                continue;
            }
            pthread_mutex_lock(&pool.mutex);
            while ((generation = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool.wake, &pool.mutex);
            pthread_mutex_unlock(&pool.mutex);
            break;
        }
        seen = generation;
        if (part < pool.parts) {
            pool.task(pool.context, part);
            atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel);
        }
    }
    return NULL;
}

size_t fk_parallel_start(size_t threads) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&pool.started, &expected, true)) return pool.threads;
    size_t wanted = threads < FK_MAX_WORKERS ? threads : FK_MAX_WORKERS;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    size_t started = 0;
    for (size_t part = 1; part <= wanted; part++) {
        pthread_t thread;
        if (pthread_create(&thread, &attributes, worker_main, (void *)part) != 0) break;
        started++;
    }
    pthread_attr_destroy(&attributes);
    pool.threads = started;
    return started;
}

void fk_parallel_run(size_t parts, fk_parallel_task task, void *context) {
    bool expected = false;
    if (parts == 1 || parts > pool.threads + 1 ||
        !atomic_compare_exchange_strong_explicit(&pool.busy, &expected, true, memory_order_acquire, memory_order_relaxed)) {
        for (size_t part = 0; part < parts; part++) task(context, part);
        return;
    }
    pool.task = task;
    pool.context = context;
    pool.parts = parts;
    atomic_store_explicit(&pool.remaining, parts - 1, memory_order_relaxed);
    // Advancing the generation under the mutex: a worker about to sleep either sees it or is
    // already waiting for the broadcast.
    pthread_mutex_lock(&pool.mutex);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mutex);
    task(context, 0);
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) FK_PAUSE();
    atomic_store_explicit(&pool.busy, false, memory_order_release);
}
