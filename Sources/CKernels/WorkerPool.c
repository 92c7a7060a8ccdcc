#include "Kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
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
// while (FK_SPIN_ROUNDS pauses, ~0.1–0.3 ms) watching for its next part before it sleeps on a
// condition variable. The caller runs part 0 itself and spins until the workers are done.
//
// Each worker has its own slot: a region hands part p its task and context in slot p and then
// advances that slot's ticket, so a worker only ever sees the region it takes part in (a worker
// left out of a small region cannot pick up the next region's work half-way).
//
// One region at a time: a call made while another thread's region runs does its parts itself,
// in order, on the calling thread.

#ifndef FK_SPIN_ROUNDS
#define FK_SPIN_ROUNDS 20000
#endif

typedef struct {
    _Alignas(64) _Atomic uint64_t ticket;  // advanced once per region this worker takes part in
    fk_parallel_task task;
    void *context;
    size_t part;
    struct fk_pool *pool;
    pthread_t thread;
} fk_slot;

struct fk_pool {
    size_t threads;  // started workers: parts 1…threads
    fk_slot *slots;  // slots[0] unused (part 0 runs on the caller)
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic size_t remaining;  // parts of the current region the workers have not finished
    _Atomic bool busy;         // a region is running
    _Atomic bool stopping;
};

static void *worker_main(void *argument) {
    fk_slot *slot = argument;
    fk_pool *pool = slot->pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t ticket;
        unsigned spins = 0;
        while ((ticket = atomic_load_explicit(&slot->ticket, memory_order_acquire)) == seen) {
            if (++spins < FK_SPIN_ROUNDS) {
                FK_PAUSE();
                continue;
            }
            pthread_mutex_lock(&pool->mutex);
            while ((ticket = atomic_load_explicit(&slot->ticket, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
            break;
        }
        seen = ticket;
        if (atomic_load_explicit(&pool->stopping, memory_order_acquire)) return NULL;
        slot->task(slot->context, slot->part);
        atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_acq_rel);
    }
}

fk_pool *fk_pool_create(size_t threads) {
    fk_pool *pool = calloc(1, sizeof(fk_pool));
    if (!pool) return NULL;
    pool->slots = aligned_alloc(64, ((threads + 1) * sizeof(fk_slot) + 63) / 64 * 64);
    if (!pool->slots) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    for (size_t part = 1; part <= threads; part++) {
        fk_slot *slot = &pool->slots[part];
        atomic_init(&slot->ticket, 0);
        slot->part = part;
        slot->pool = pool;
        if (pthread_create(&slot->thread, NULL, worker_main, slot) != 0) break;
        pool->threads = part;
    }
    return pool;
}

size_t fk_pool_threads(const fk_pool *pool) { return pool->threads; }

// Advances the tickets of slots 1…last under the mutex: a worker about to sleep either sees its
// new ticket or is already waiting for the broadcast.
static void advance_tickets(fk_pool *pool, size_t last) {
    pthread_mutex_lock(&pool->mutex);
    for (size_t part = 1; part <= last; part++) atomic_fetch_add_explicit(&pool->slots[part].ticket, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
}

void fk_pool_destroy(fk_pool *pool) {
    if (!pool) return;
    atomic_store_explicit(&pool->stopping, true, memory_order_release);
    advance_tickets(pool, pool->threads);
    for (size_t part = 1; part <= pool->threads; part++) pthread_join(pool->slots[part].thread, NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->slots);
    free(pool);
}

void fk_pool_run(fk_pool *pool, size_t parts, fk_parallel_task task, void *context) {
    bool expected = false;
    if (parts <= 1 || !pool || parts > pool->threads + 1 ||
        !atomic_compare_exchange_strong_explicit(&pool->busy, &expected, true, memory_order_acquire, memory_order_relaxed)) {
        for (size_t part = 0; part < parts; part++) task(context, part);
        return;
    }
    for (size_t part = 1; part < parts; part++) {
        pool->slots[part].task = task;
        pool->slots[part].context = context;
    }
    atomic_store_explicit(&pool->remaining, parts - 1, memory_order_relaxed);
    advance_tickets(pool, parts - 1);
    task(context, 0);
    while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0) FK_PAUSE();
    atomic_store_explicit(&pool->busy, false, memory_order_release);
}
