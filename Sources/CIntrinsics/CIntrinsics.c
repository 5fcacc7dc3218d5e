// The static inline helpers live in the header; the kernels below are compiled here, with an
// AVX2 + FMA path chosen at run time (the package's baseline build must still run anywhere).
#include "CIntrinsics.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static float dot_f32_i8_avx2(const float *q, const int8_t *codes, long d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    long i = 0;
    for (; i + 16 <= d; i += 16) {
        // 8 codes sign-extended to 32-bit integers, converted to floats, multiplied into the sum.
        __m256i c0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + i)));
        __m256i c1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + i + 8)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtepi32_ps(c0), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtepi32_ps(c1), a1);
    }
    __m256 a = _mm256_add_ps(a0, a1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float total = _mm_cvtss_f32(s);
    for (; i < d; i++) total += q[i] * (float)codes[i];
    return total;
}
#endif

static float dot_f32_i8_scalar(const float *q, const int8_t *codes, long d) {
    float total = 0;
    for (long i = 0; i < d; i++) total += q[i] * (float)codes[i];
    return total;
}

float starling_dot_f32_i8(const float *q, const int8_t *codes, long d) {
#if defined(__x86_64__)
    // Reads the CPU model the runtime filled in at start-up: a load and a bit test.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return dot_f32_i8_avx2(q, codes, d);
#endif
    return dot_f32_i8_scalar(q, codes, d);
}
