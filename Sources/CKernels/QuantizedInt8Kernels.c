#include "Kernels.h"
#include "HalfFloat.h"
#include "AVX2Support.h"
#include <math.h>
#include <string.h>

// The matrix–vector product of a generation step with the input quantised too, as llama.cpp
// does it: x becomes int8 blocks of 32 (a scale each), and each block of the product is one
// integer dot product of quants, scaled once. On AVX2 a block of a row costs one multiply-add of
// bytes (vpmaddubsw) instead of widening 32 quants to floats.

#define BLOCK 32

// ---- quantising the input --------------------------------------------------------------------

static void quantize_portable(const float *x, size_t blocks, int8_t *q, float *scale, float *sum) {
    for (size_t b = 0; b < blocks; b++) {
        const float *xb = x + b * BLOCK;
        float largest = 0;
        for (int j = 0; j < BLOCK; j++) largest = fmaxf(largest, fabsf(xb[j]));
        float d = largest / 127, inverse = d > 0 ? 1 / d : 0;
        int total = 0;
        for (int j = 0; j < BLOCK; j++) {
            int value = (int)nearbyintf(xb[j] * inverse);  // ties to even, as the vector conversion rounds
            q[b * BLOCK + j] = (int8_t)value;
            total += value;
        }
        scale[b] = d;
        sum[b] = d * (float)total;
    }
}

// ---- the product -----------------------------------------------------------------------------

static void matvec_int8_portable(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                                 const int8_t *q, const float *scale, const float *sum, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = w + r * row_bytes;
        float total = 0;
        for (size_t b = 0; b < blocks; b++) {
            const int8_t *qb = q + b * BLOCK;
            int dot = 0;
            switch (format) {
            case FK_Q4_0: {  // d·(n − 8)·x: the −8 becomes −8·d·Σx
                const uint8_t *block = row + b * 18, *qs = block + 2;
                for (int j = 0; j < 16; j++) dot += (qs[j] & 15) * qb[j] + (qs[j] >> 4) * qb[j + 16];
                float d = fk_half(block);
                total += d * scale[b] * (float)dot - 8 * d * sum[b];
                break;
            }
            case FK_Q4_1: {  // (d·n + m)·x: the m becomes m·Σx
                const uint8_t *block = row + b * 20, *qs = block + 4;
                for (int j = 0; j < 16; j++) dot += (qs[j] & 15) * qb[j] + (qs[j] >> 4) * qb[j + 16];
                total += fk_half(block) * scale[b] * (float)dot + fk_half(block + 2) * sum[b];
                break;
            }
            case FK_Q8_0: {
                const uint8_t *block = row + b * 34;
                const int8_t *qs = (const int8_t *)(block + 2);
                for (int j = 0; j < BLOCK; j++) dot += qs[j] * qb[j];
                total += fk_half(block) * scale[b] * (float)dot;
                break;
            }
            }
        }
        y[r] = total;
    }
}

#if FK_HAS_X86_DISPATCH

FK_AVX2 static void quantize_avx2(const float *x, size_t blocks, int8_t *q, float *scale, float *sum) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undoes the packs' lane interleaving
    for (size_t b = 0; b < blocks; b++) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + b * BLOCK + 8 * k);
        __m256 largest = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], magnitude), _mm256_and_ps(v[1], magnitude)),
                                       _mm256_max_ps(_mm256_and_ps(v[2], magnitude), _mm256_and_ps(v[3], magnitude)));
        __m128 half = _mm_max_ps(_mm256_castps256_ps128(largest), _mm256_extractf128_ps(largest, 1));
        half = _mm_max_ps(half, _mm_movehl_ps(half, half));
        half = _mm_max_ss(half, _mm_movehdup_ps(half));
        float d = _mm_cvtss_f32(half) / 127, inverse = d > 0 ? 1 / d : 0;
        __m256 multiplier = _mm256_set1_ps(inverse);
        __m256i n[4];
        for (int k = 0; k < 4; k++) n[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], multiplier));  // ties to even
        __m256i total = _mm256_add_epi32(_mm256_add_epi32(n[0], n[1]), _mm256_add_epi32(n[2], n[3]));
        __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]), _mm256_packs_epi32(n[2], n[3]));
        _mm256_storeu_si256((__m256i *)(q + b * BLOCK), _mm256_permutevar8x32_epi32(packed, order));
        scale[b] = d;
        sum[b] = d * fk_horizontal_sum(_mm256_cvtepi32_ps(total));
    }
}

// Σ quants_w · quants_x of one block as 8 int32 lanes.
FK_AVX2 static inline __attribute__((always_inline)) __m256i block_dot_int8(fk_block_format format, const uint8_t *block,
                                                                            __m256i xq) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (format == FK_Q8_0) {  // signed × signed: the sign moves onto x so that w is unsigned
        __m256i wq = _mm256_loadu_si256((const __m256i *)(block + 2));
        return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xq, wq)), ones);
    }
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + (format == FK_Q4_1 ? 4 : 2)));
    // Bytes 0–15 the low nibbles (values 0–15), 16–31 the high ones (values 16–31), as x is laid out.
    __m256i wq = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(15));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(wq, xq), ones);  // at most 2·15·127 per pair: no saturation
}

// Rows in groups share the loads of x's quants; each row keeps a vector of scaled dots and a
// scalar of the offsets (m·Σx for Q4_1, −8·d·Σx for Q4_0).
FK_AVX2 static inline __attribute__((always_inline)) void matvec_int8_avx2_rows(
    fk_block_format format, const uint8_t *w, size_t row_bytes, size_t group, size_t blocks,
    const int8_t *q, const float *scale, const float *sum, float *y) {
    const size_t block_bytes = fk_block_bytes(format);
    __m256 acc[FK_ROWS_AT_ONCE];
    float offsets[FK_ROWS_AT_ONCE];
    for (size_t k = 0; k < group; k++) { acc[k] = _mm256_setzero_ps(); offsets[k] = 0; }
    for (size_t b = 0; b < blocks; b++) {
        __m256i xq = _mm256_loadu_si256((const __m256i *)(q + b * BLOCK));
        for (size_t k = 0; k < group; k++) {
            const uint8_t *block = w + k * row_bytes + b * block_bytes;
            _mm_prefetch((const char *)(block + FK_PREFETCH_BYTES), _MM_HINT_T0);
            __m128 halves = fk_load_halves(block);  // d, m (m is junk unless Q4_1)
            float d = _mm_cvtss_f32(halves);
            acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_dot_int8(format, block, xq)), _mm256_set1_ps(d * scale[b]), acc[k]);
            if (format == FK_Q4_1) offsets[k] += _mm_cvtss_f32(_mm_movehdup_ps(halves)) * sum[b];
            if (format == FK_Q4_0) offsets[k] -= 8 * d * sum[b];
        }
    }
    for (size_t k = 0; k < group; k++) y[k] = fk_horizontal_sum(acc[k]) + offsets[k];
}

FK_AVX2 static inline __attribute__((always_inline)) void matvec_int8_avx2_format(
    fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
    const int8_t *q, const float *scale, const float *sum, float *y) {
    size_t r = 0;
    for (; r + FK_ROWS_AT_ONCE <= rows; r += FK_ROWS_AT_ONCE)
        matvec_int8_avx2_rows(format, w + r * row_bytes, row_bytes, FK_ROWS_AT_ONCE, blocks, q, scale, sum, y + r);
    for (; r < rows; r++) matvec_int8_avx2_rows(format, w + r * row_bytes, row_bytes, 1, blocks, q, scale, sum, y + r);
}

FK_AVX2 static void matvec_int8_avx2(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                                     const int8_t *q, const float *scale, const float *sum, float *y) {
    switch (format) {  // one specialised loop per format
    case FK_Q4_0: matvec_int8_avx2_format(FK_Q4_0, w, row_bytes, rows, blocks, q, scale, sum, y); break;
    case FK_Q4_1: matvec_int8_avx2_format(FK_Q4_1, w, row_bytes, rows, blocks, q, scale, sum, y); break;
    case FK_Q8_0: matvec_int8_avx2_format(FK_Q8_0, w, row_bytes, rows, blocks, q, scale, sum, y); break;
    }
}

#endif

void fk_quantize_activations(const float *x, size_t blocks, int8_t *q, float *scale, float *sum) {
#if FK_HAS_X86_DISPATCH
    if (fk_cpu_has_avx2()) {
        quantize_avx2(x, blocks, q, scale, sum);
        return;
    }
#endif
    quantize_portable(x, blocks, q, scale, sum);
}

void fk_quantized_matvec_int8(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                              const int8_t *q, const float *scale, const float *sum, float *y) {
#if FK_HAS_X86_DISPATCH
    if (fk_cpu_has_avx2()) {
        matvec_int8_avx2(format, w, row_bytes, rows, blocks, q, scale, sum, y);
        return;
    }
#endif
    matvec_int8_portable(format, w, row_bytes, rows, blocks, q, scale, sum, y);
}
