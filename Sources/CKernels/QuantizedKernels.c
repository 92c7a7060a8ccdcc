#include "Kernels.h"
#include "KernelAttributes.h"
#include "HalfFloat.h"
#include "AVX2Support.h"
#include <math.h>
#include <string.h>

// Frozen weights kept as ggml blocks (see Kernels.h for the layouts): decoding into float32
// tiles for the matrix-product path, and a matrix–vector product that reads the blocks directly
// for one-token steps.

#define BLOCK 32

size_t fk_block_bytes(fk_block_format format) {
    switch (format) {
    case FK_Q4_0: return 18;
    case FK_Q4_1: return 20;
    case FK_Q8_0: return 34;
    }
    return 0;
}

// ---- encoding float32 ------------------------------------------------------------------------

void fk_quantize_q8_0(const float *x, size_t rows, size_t blocks, uint8_t *w, size_t row_bytes) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * blocks * BLOCK;
        uint8_t *out = w + r * row_bytes;
        for (size_t b = 0; b < blocks; b++, row += BLOCK, out += 34) {
            float largest = 0;
            for (int j = 0; j < BLOCK; j++) largest = fmaxf(largest, fabsf(row[j]));
            float d = largest / 127, inverse = d != 0 ? 1 / d : 0;
            uint16_t half = fk_half_bits(d);
            out[0] = (uint8_t)(half & 0xff);
            out[1] = (uint8_t)(half >> 8);
            int8_t *qs = (int8_t *)(out + 2);
            for (int j = 0; j < BLOCK; j++) qs[j] = (int8_t)roundf(row[j] * inverse);
        }
    }
}

// ---- decoding to float32 -------------------------------------------------------------------

// Blocks are decoded one after another, each block's 32 values as vectors (vectorising across
// blocks would scatter them).
#if defined(__clang__)
#define FK_PER_BLOCK _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define FK_PER_BLOCK
#endif

// Each decoder writes one row of `blocks` blocks. d·q is exact in float32 (an 11-bit significand
// times a quant of at most 8 bits), so with or without a fused multiply-add the values equal any
// correct decoder's bit for bit.
static inline __attribute__((always_inline)) void decode_q4_0_row(const uint8_t *restrict w, size_t blocks, float *restrict y) {
    FK_PER_BLOCK
    for (size_t b = 0; b < blocks; b++, w += 18, y += BLOCK) {
        float d = fk_half(w);
        const uint8_t *qs = w + 2;
        for (int j = 0; j < 16; j++) y[j] = d * (float)((int)(qs[j] & 15) - 8);
        for (int j = 0; j < 16; j++) y[j + 16] = d * (float)((int)(qs[j] >> 4) - 8);
    }
}

static inline __attribute__((always_inline)) void decode_q4_1_row(const uint8_t *restrict w, size_t blocks, float *restrict y) {
    FK_PER_BLOCK
    for (size_t b = 0; b < blocks; b++, w += 20, y += BLOCK) {
        float d = fk_half(w), m = fk_half(w + 2);
        const uint8_t *qs = w + 4;
        for (int j = 0; j < 16; j++) y[j] = d * (float)(qs[j] & 15) + m;
        for (int j = 0; j < 16; j++) y[j + 16] = d * (float)(qs[j] >> 4) + m;
    }
}

static inline __attribute__((always_inline)) void decode_q8_0_row(const uint8_t *restrict w, size_t blocks, float *restrict y) {
    FK_PER_BLOCK
    for (size_t b = 0; b < blocks; b++, w += 34, y += BLOCK) {
        float d = fk_half(w);
        const int8_t *qs = (const int8_t *)(w + 2);
        for (int j = 0; j < BLOCK; j++) y[j] = d * (float)qs[j];
    }
}

FK_HOT void fk_dequantize_blocks(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                                 size_t blocks, float *y, size_t ldy) {
    switch (format) {
    case FK_Q4_0: for (size_t r = 0; r < rows; r++) decode_q4_0_row(w + r * row_bytes, blocks, y + r * ldy); break;
    case FK_Q4_1: for (size_t r = 0; r < rows; r++) decode_q4_1_row(w + r * row_bytes, blocks, y + r * ldy); break;
    case FK_Q8_0: for (size_t r = 0; r < rows; r++) decode_q8_0_row(w + r * row_bytes, blocks, y + r * ldy); break;
    }
}

// ---- matrix–vector product ------------------------------------------------------------------

// Portable version: per block, the quants times x summed in float, then scaled (and offset).
static void matvec_portable(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                            const float *x, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = w + r * row_bytes;
        float total = 0;
        for (size_t b = 0; b < blocks; b++) {
            const float *xb = x + b * BLOCK;
            float dot = 0;
            switch (format) {
            case FK_Q4_0: {
                const uint8_t *block = row + b * 18, *qs = block + 2;
                for (int j = 0; j < 16; j++) dot += (float)((qs[j] & 15) - 8) * xb[j] + (float)((qs[j] >> 4) - 8) * xb[j + 16];
                total += fk_half(block) * dot;
                break;
            }
            case FK_Q4_1: {
                const uint8_t *block = row + b * 20, *qs = block + 4;
                float sum = 0;
                for (int j = 0; j < 16; j++) {
                    dot += (float)(qs[j] & 15) * xb[j] + (float)(qs[j] >> 4) * xb[j + 16];
                    sum += xb[j] + xb[j + 16];
                }
                total += fk_half(block) * dot + fk_half(block + 2) * sum;
                break;
            }
            case FK_Q8_0: {
                const uint8_t *block = row + b * 34;
                const int8_t *qs = (const int8_t *)(block + 2);
                for (int j = 0; j < BLOCK; j++) dot += (float)qs[j] * xb[j];
                total += fk_half(block) * dot;
                break;
            }
            }
        }
        y[r] = total;
    }
}

#if FK_HAS_X86_DISPATCH
// AVX2 version. Per block and row: the 32 quants widened to float, multiplied with x in four
// 8-lane products, the sum scaled by d into 8 float accumulators (plus m times the block's sum
// of x for Q4_1); one horizontal sum per row. x stays float32, so the result equals the decoded
// product up to the order of the additions.

// 8 quants from 8 bytes as floats: low nibbles (offset subtracted), high nibbles, or signed bytes.
FK_AVX2 static inline __m256 low_nibbles(__m256i bytes, __m256i offset) {
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(bytes, _mm256_set1_epi32(15)), offset));
}
FK_AVX2 static inline __m256 high_nibbles(__m256i bytes, __m256i offset) {
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bytes, 4), offset));
}
FK_AVX2 static inline __m256i load_8_unsigned(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

// Σ quants·x over one block, 8 lanes (not yet scaled by d).
FK_AVX2 static inline __attribute__((always_inline)) __m256 block_dot(fk_block_format format, const uint8_t *block,
                                                                      const __m256 x[4]) {
    if (format == FK_Q8_0) {
        const uint8_t *qs = block + 2;
        __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)qs))), x[0]);
        for (int k = 1; k < 4; k++)
            t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 8 * k)))), x[k], t);
        return t;
    }
    const uint8_t *qs = block + (format == FK_Q4_1 ? 4 : 2);
    const __m256i offset = _mm256_set1_epi32(format == FK_Q4_0 ? 8 : 0);
    __m256i first = load_8_unsigned(qs), second = load_8_unsigned(qs + 8);  // values 0–7 | 16–23, 8–15 | 24–31
    __m256 t = _mm256_mul_ps(low_nibbles(first, offset), x[0]);
    t = _mm256_fmadd_ps(low_nibbles(second, offset), x[1], t);
    t = _mm256_fmadd_ps(high_nibbles(first, offset), x[2], t);
    return _mm256_fmadd_ps(high_nibbles(second, offset), x[3], t);
}

FK_AVX2 static inline __attribute__((always_inline)) void matvec_avx2_rows(
    fk_block_format format, const uint8_t *w, size_t row_bytes, size_t group, size_t blocks, const float *x, float *y) {
    const size_t block_bytes = fk_block_bytes(format);
    __m256 acc[FK_ROWS_AT_ONCE];
    for (size_t k = 0; k < group; k++) acc[k] = _mm256_setzero_ps();
    for (size_t b = 0; b < blocks; b++) {
        __m256 xb[4];
        for (int k = 0; k < 4; k++) xb[k] = _mm256_loadu_ps(x + b * BLOCK + 8 * k);
        __m256 sum = _mm256_add_ps(_mm256_add_ps(xb[0], xb[1]), _mm256_add_ps(xb[2], xb[3]));
        for (size_t k = 0; k < group; k++) {
            const uint8_t *block = w + k * row_bytes + b * block_bytes;
            _mm_prefetch((const char *)(block + FK_PREFETCH_BYTES), _MM_HINT_T0);
            __m128 scales = fk_load_halves(block);  // d, m
            acc[k] = _mm256_fmadd_ps(block_dot(format, block, xb), _mm256_broadcastss_ps(scales), acc[k]);
            if (format == FK_Q4_1)
                acc[k] = _mm256_fmadd_ps(sum, _mm256_broadcastss_ps(_mm_movehdup_ps(scales)), acc[k]);
        }
    }
    for (size_t k = 0; k < group; k++) y[k] = fk_horizontal_sum(acc[k]);
}

FK_AVX2 static inline __attribute__((always_inline)) void matvec_avx2_format(
    fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks, const float *x, float *y) {
    size_t r = 0;
    for (; r + FK_ROWS_AT_ONCE <= rows; r += FK_ROWS_AT_ONCE)
        matvec_avx2_rows(format, w + r * row_bytes, row_bytes, FK_ROWS_AT_ONCE, blocks, x, y + r);
    for (; r < rows; r++) matvec_avx2_rows(format, w + r * row_bytes, row_bytes, 1, blocks, x, y + r);
}

FK_AVX2 static void matvec_avx2(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                                const float *x, float *y) {
    switch (format) {  // one specialised loop per format
    case FK_Q4_0: matvec_avx2_format(FK_Q4_0, w, row_bytes, rows, blocks, x, y); break;
    case FK_Q4_1: matvec_avx2_format(FK_Q4_1, w, row_bytes, rows, blocks, x, y); break;
    case FK_Q8_0: matvec_avx2_format(FK_Q8_0, w, row_bytes, rows, blocks, x, y); break;
    }
}

#endif

void fk_quantized_matvec(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                         const float *x, float *y) {
#if FK_HAS_X86_DISPATCH
    if (fk_cpu_has_avx2()) {
        matvec_avx2(format, w, row_bytes, rows, blocks, x, y);
        return;
    }
#endif
    matvec_portable(format, w, row_bytes, rows, blocks, x, y);
}
