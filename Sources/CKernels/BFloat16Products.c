// Matrix products in bfloat16 with float32 sums (AVX512-BF16's vdpbf16ps: 32 multiply-adds an
// instruction, twice float32's), for products with a frozen weight when the compute dtype is
// bfloat16. Both operands are rounded to bfloat16 (nearest, ties to even) as they are packed;
// the sums stay float32.
//
// Packed layouts (32-bit words, each a pair of bfloat16 values adjacent along the summed depth,
// the lower index in the low half; a missing partner of an odd depth is zero):
//   A (rows, depth):    panels of FK_BF16_ROWS rows: word [panel][pair][row]
//   B (depth, columns): panels of FK_BF16_COLUMNS columns: word [panel][pair][column]
// Rows and columns past the matrix's edge are zero in the packing and never written back.

#include "Kernels.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define FK_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int fk_bf16_products_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

// One float32 rounded to bfloat16, nearest with ties to even (NaNs stay NaNs).
static inline uint32_t fk_round_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bits >> 16) | 0x40u;
    return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
}

// Pairs along a contiguous run: word p of `pairs` = (x[2p], x[2p+1]) for p < pairs, where
// values past `count` are zero; written `stride` words apart.
FK_BF16_TARGET static void fk_pack_run(const float *x, size_t count, size_t pairs, uint32_t *out, size_t stride) {
    size_t p = 0;
    uint32_t words[16];
    for (; 2 * p + 32 <= count; p += 16) {
        __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 2 * p + 16), _mm512_loadu_ps(x + 2 * p));
        _mm512_storeu_si512(words, (__m512i)packed);
        for (size_t i = 0; i < 16; i++) out[(p + i) * stride] = words[i];
    }
    for (; p < pairs; p++) {
        uint32_t low = 2 * p < count ? fk_round_to_bf16(x[2 * p]) : 0;
        uint32_t high = 2 * p + 1 < count ? fk_round_to_bf16(x[2 * p + 1]) : 0;
        out[p * stride] = low | (high << 16);
    }
}

FK_BF16_TARGET void fk_bf16_pack_rows(const float *x, size_t rows, size_t depth, size_t ldx,
                                      size_t panel_width, uint32_t *packed) {
    size_t pairs = (depth + 1) / 2;
    for (size_t first = 0; first < rows; first += panel_width) {
        uint32_t *panel = packed + first * pairs;
        for (size_t r = 0; r < panel_width; r++) {
            if (first + r < rows) {
                fk_pack_run(x + (first + r) * ldx, depth, pairs, panel + r, panel_width);
            } else {
                for (size_t p = 0; p < pairs; p++) panel[p * panel_width + r] = 0;
            }
        }
    }
}

FK_BF16_TARGET void fk_bf16_pack_columns(const float *x, size_t depth, size_t columns, size_t ldx, uint32_t *packed) {
    size_t pairs = (depth + 1) / 2;
    const size_t width = FK_BF16_COLUMNS;
    const __m512i interleave_low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                                    39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i interleave_high = _mm512_add_epi16(interleave_low, _mm512_set1_epi16(16));
    for (size_t first = 0; first < columns; first += width) {
        uint32_t *panel = packed + first * pairs;
        size_t valid = columns - first < width ? columns - first : width;
        __mmask16 low_mask = valid >= 16 ? 0xffff : (__mmask16)((1u << valid) - 1);
        __mmask16 high_mask = valid >= 32 ? 0xffff : valid <= 16 ? 0 : (__mmask16)((1u << (valid - 16)) - 1);
        for (size_t p = 0; p < pairs; p++) {
            const float *even = x + 2 * p * ldx + first, *odd = even + ldx;
            int has_odd = 2 * p + 1 < depth;
            // 32 columns of the even row and of the odd row, as bfloat16.
            __m512bh even_values = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high_mask, even + 16),
                                                       _mm512_maskz_loadu_ps(low_mask, even));
            __m512bh odd_values = has_odd ? _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high_mask, odd + 16),
                                                                _mm512_maskz_loadu_ps(low_mask, odd))
                                          : (__m512bh)_mm512_setzero_si512();
            __m512i low = _mm512_permutex2var_epi16((__m512i)even_values, interleave_low, (__m512i)odd_values);
            __m512i high = _mm512_permutex2var_epi16((__m512i)even_values, interleave_high, (__m512i)odd_values);
            _mm512_storeu_si512(panel + p * width, low);
            _mm512_storeu_si512(panel + p * width + 16, high);
        }
    }
}

// c[rows ≤ FK_BF16_ROWS, columns ≤ FK_BF16_COLUMNS] (=, or += when accumulate) a-panel · b-panel.
FK_BF16_TARGET static void fk_bf16_tile(const uint32_t *a, const uint32_t *b, size_t pairs, float *c, size_t ldc,
                                        size_t rows, size_t columns, int accumulate) {
    enum { ROWS = FK_BF16_ROWS, WIDTH = FK_BF16_COLUMNS };
    __m512 sums[ROWS][2];
    for (int r = 0; r < ROWS; r++) sums[r][0] = sums[r][1] = _mm512_setzero_ps();
    for (size_t p = 0; p < pairs; p++) {
        __m512bh left = (__m512bh)_mm512_loadu_si512(b + p * WIDTH);
        __m512bh right = (__m512bh)_mm512_loadu_si512(b + p * WIDTH + 16);
        const uint32_t *column = a + p * ROWS;
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) {
            __m512bh value = (__m512bh)_mm512_set1_epi32((int)column[r]);
            sums[r][0] = _mm512_dpbf16_ps(sums[r][0], value, left);
            sums[r][1] = _mm512_dpbf16_ps(sums[r][1], value, right);
        }
    }
    __mmask16 low_mask = columns >= 16 ? 0xffff : (__mmask16)((1u << columns) - 1);
    __mmask16 high_mask = columns >= 32 ? 0xffff : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    for (size_t r = 0; r < rows; r++) {
        float *out = c + r * ldc;
        if (accumulate) {
            sums[r][0] = _mm512_add_ps(sums[r][0], _mm512_maskz_loadu_ps(low_mask, out));
            sums[r][1] = _mm512_add_ps(sums[r][1], _mm512_maskz_loadu_ps(high_mask, out + 16));
        }
        _mm512_mask_storeu_ps(out, low_mask, sums[r][0]);
        _mm512_mask_storeu_ps(out + 16, high_mask, sums[r][1]);
    }
}

FK_BF16_TARGET void fk_bf16_gemm(const uint32_t *a, size_t a_pairs, size_t first_pair, const uint32_t *b,
                                 size_t rows, size_t columns, size_t pairs, float *c, size_t ldc, int accumulate) {
    for (size_t column = 0; column < columns; column += FK_BF16_COLUMNS) {
        const uint32_t *b_panel = b + column * pairs;
        size_t width = columns - column < FK_BF16_COLUMNS ? columns - column : FK_BF16_COLUMNS;
        for (size_t row = 0; row < rows; row += FK_BF16_ROWS) {
            const uint32_t *a_panel = a + row * a_pairs + first_pair * FK_BF16_ROWS;
            size_t height = rows - row < FK_BF16_ROWS ? rows - row : FK_BF16_ROWS;
            fk_bf16_tile(a_panel, b_panel, pairs, c + row * ldc + column, ldc, height, width, accumulate);
        }
    }
}

#else

int fk_bf16_products_available(void) { return 0; }
void fk_bf16_pack_rows(const float *x, size_t rows, size_t depth, size_t ldx, size_t panel_width, uint32_t *packed) {
    __builtin_trap();
}
void fk_bf16_pack_columns(const float *x, size_t depth, size_t columns, size_t ldx, uint32_t *packed) { __builtin_trap(); }
void fk_bf16_gemm(const uint32_t *a, size_t a_pairs, size_t first_pair, const uint32_t *b, size_t rows, size_t columns,
                  size_t pairs, float *c, size_t ldc, int accumulate) {
    __builtin_trap();
}

#endif
