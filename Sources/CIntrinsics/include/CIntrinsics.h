#ifndef STARLING_CINTRINSICS_H
#define STARLING_CINTRINSICS_H

// CPU intrinsics Swift has no spelling for. Static inline, so calls compile to single instructions.

/// Hints the CPU to fetch the cache line holding `address` for reading (kept in all cache levels).
static inline void starling_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Hints the CPU to fetch the cache line holding `address` for writing.
static inline void starling_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

#include <stdint.h>

/// Takes a one-byte spin lock (0 free, 1 held), for short critical sections such as one graph
/// node's neighbour list.
static inline void starling_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

/// Releases a lock taken by `starling_spin_lock`.
static inline void starling_spin_unlock(uint8_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

/// `Σ q_i · codes_i` over `d` float query components and int8 codes (AVX2 + FMA when the CPU has
/// them, chosen at run time; a scalar loop otherwise).
float starling_dot_f32_i8(const float *q, const int8_t *codes, long d);

#endif
