#ifndef STARLING_CINTRINSICS_H
#define STARLING_CINTRINSICS_H

// CPU intrinsics Swift has no spelling for. Static inline, so calls compile to single instructions.

/// Hints the CPU to fetch the cache line holding `address` for reading (kept in all cache levels).
static inline void starling_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Hints the CPU to fetch the cache line holding `address` for writing.
static inline void starling_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
