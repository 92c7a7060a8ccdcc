#ifndef CKERNELS_AVX2_SUPPORT_H
#define CKERNELS_AVX2_SUPPORT_H

// What the hand-written AVX2 kernels share. target_clones cannot host intrinsics (the baseline
// clone lacks them), so these kernels are chosen at run time with fk_cpu_has_avx2().

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define FK_HAS_X86_DISPATCH 1
#define FK_AVX2 __attribute__((target("avx2,fma,f16c")))

FK_AVX2 static inline float fk_horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The halves at p and p + 2 (d and m of a Q4_1 block; m is junk for other formats) as floats in lanes 0 and 1.
FK_AVX2 static inline __m128 fk_load_halves(const uint8_t *p) {
    int32_t bits;
    memcpy(&bits, p, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128(bits));
}

static inline int fk_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
#endif

// The matrix–vector kernels take rows in groups of FK_ROWS_AT_ONCE that share the loads of x and
// keep independent accumulators, and ask for the blocks FK_PREFETCH_BYTES further on while a
// group is computed, so that memory and arithmetic overlap (the hardware prefetcher alone leaves
// the core waiting).
#ifndef FK_ROWS_AT_ONCE
#define FK_ROWS_AT_ONCE 4
#endif
#ifndef FK_PREFETCH_BYTES
#define FK_PREFETCH_BYTES 4096
#endif

#endif
