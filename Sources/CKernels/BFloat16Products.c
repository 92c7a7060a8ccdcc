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
#include "HalfFloat.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define FK_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int fk_bf16_products_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

// Where packing reads its values: rows of floats (`values`, rows `ld` apart, `count` values a
// row; zero beyond), or rows of ggml blocks (`blocks`, rows `row_bytes` apart) when values is NULL.
typedef struct {
    const float *values;
    size_t ld, count;
    const uint8_t *blocks;
    size_t row_bytes, block_bytes;
    fk_block_format format;
} fk_bf16_source;

// Values 32·chunk ..< 32·chunk + 32 of `row` as 32 bfloat16 (16 words: pairs, lower index low).
FK_BF16_TARGET static inline __m512i fk_load_chunk(const fk_bf16_source *source, size_t row, size_t chunk) {
    __m512 low, high;
    if (source->values) {
        const float *x = source->values + row * source->ld + 32 * chunk;
        size_t left = source->count - 32 * chunk;
        if (left >= 32) {
            low = _mm512_loadu_ps(x);
            high = _mm512_loadu_ps(x + 16);
        } else {
            __mmask16 low_mask = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            __mmask16 high_mask = left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            low = _mm512_maskz_loadu_ps(low_mask, x);
            high = _mm512_maskz_loadu_ps(high_mask, x + 16);
        }
    } else {
        const uint8_t *block = source->blocks + row * source->row_bytes + chunk * source->block_bytes;
        __m512 d = _mm512_set1_ps(fk_half(block));
        if (source->format == FK_Q8_0) {
            low = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 2))));
            high = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 18))));
            low = _mm512_mul_ps(d, low);
            high = _mm512_mul_ps(d, high);
        } else {
            int offset = source->format == FK_Q4_1;
            __m512i quants = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(block + (offset ? 4 : 2))));
            __m512i low_quants = _mm512_and_si512(quants, _mm512_set1_epi32(15));
            __m512i high_quants = _mm512_srli_epi32(quants, 4);
            if (offset) {
                __m512 m = _mm512_set1_ps(fk_half(block + 2));
                low = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(low_quants), m);
                high = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(high_quants), m);
            } else {
                __m512i eight = _mm512_set1_epi32(8);
                low = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(low_quants, eight)));
                high = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(high_quants, eight)));
            }
        }
    }
    return (__m512i)_mm512_cvtne2ps_pbh(high, low);
}

// Transposes the 16 × 16 words in r: word j of r[i] goes to word i of r[j].
FK_BF16_TARGET static inline void fk_transpose_16x16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 8; i++) {  // rows 2i, 2i+1 interleaved by words
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; g++) {  // each 128-bit lane of u[g][c]: column 4·lane + c of rows 4g ..< 4g + 4
        r[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        r[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        r[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        r[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int c = 0; c < 4; c++) {  // lanes across the four groups: column 4·lane + c gets lane `lane` of each group
        __m512i a = r[c], b = r[4 + c], e = r[8 + c], f = r[12 + c];
        __m512i ab_low = _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)), ab_high = _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2));
        __m512i ef_low = _mm512_shuffle_i32x4(e, f, _MM_SHUFFLE(1, 0, 1, 0)), ef_high = _mm512_shuffle_i32x4(e, f, _MM_SHUFFLE(3, 2, 3, 2));
        t[c] = _mm512_shuffle_i32x4(ab_low, ef_low, _MM_SHUFFLE(2, 0, 2, 0));
        t[4 + c] = _mm512_shuffle_i32x4(ab_low, ef_low, _MM_SHUFFLE(3, 1, 3, 1));
        t[8 + c] = _mm512_shuffle_i32x4(ab_high, ef_high, _MM_SHUFFLE(2, 0, 2, 0));
        t[12 + c] = _mm512_shuffle_i32x4(ab_high, ef_high, _MM_SHUFFLE(3, 1, 3, 1));
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

// Rows of `source` in panels of `width` rows, pairs along the row: word [panel][pair][row].
FK_BF16_TARGET static void fk_pack_rows_from(const fk_bf16_source *source, size_t rows, size_t pairs, size_t width,
                                             uint32_t *packed) {
    for (size_t first = 0; first < rows; first += width) {
        uint32_t *panel = packed + first * pairs;
        for (size_t group = 0; group < width; group += 16) {  // 16 rows of the panel at a time
            size_t lanes = width - group < 16 ? width - group : 16;
            __mmask16 store_mask = (__mmask16)((1u << lanes) - 1);
            for (size_t chunk = 0; 16 * chunk < pairs; chunk++) {
                __m512i r[16];
                for (size_t i = 0; i < 16; i++) {
                    size_t row = first + group + i;
                    r[i] = i < lanes && row < rows ? fk_load_chunk(source, row, chunk) : _mm512_setzero_si512();
                }
                fk_transpose_16x16(r);  // r[c]: pair 16·chunk + c of the 16 rows
                size_t count = pairs - 16 * chunk < 16 ? pairs - 16 * chunk : 16;
                for (size_t c = 0; c < count; c++) {
                    _mm512_mask_storeu_epi32(panel + (16 * chunk + c) * width + group, store_mask, r[c]);
                }
            }
        }
    }
}

// Columns of `source` (its rows summed over) in panels of FK_BF16_COLUMNS columns, pairs of
// adjacent rows: word [panel][pair][column]; `columns` values of each row are read (a missing
// partner of an odd depth is zero).
FK_BF16_TARGET static void fk_pack_columns_from(const fk_bf16_source *source, size_t depth, size_t columns,
                                                uint32_t *packed) {
    size_t pairs = (depth + 1) / 2;
    const size_t width = FK_BF16_COLUMNS;
    const __m512i interleave_low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                                    39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i interleave_high = _mm512_add_epi16(interleave_low, _mm512_set1_epi16(16));
    for (size_t first = 0; first < columns; first += width) {
        uint32_t *panel = packed + first * pairs;
        for (size_t p = 0; p < pairs; p++) {
            __m512i even = fk_load_chunk(source, 2 * p, first / width);
            __m512i odd = 2 * p + 1 < depth ? fk_load_chunk(source, 2 * p + 1, first / width) : _mm512_setzero_si512();
            _mm512_storeu_si512(panel + p * width, _mm512_permutex2var_epi16(even, interleave_low, odd));
            _mm512_storeu_si512(panel + p * width + 16, _mm512_permutex2var_epi16(even, interleave_high, odd));
        }
    }
}

FK_BF16_TARGET void fk_bf16_pack_rows(const float *x, size_t rows, size_t depth, size_t ldx,
                                      size_t panel_width, uint32_t *packed) {
    fk_bf16_source source = {.values = x, .ld = ldx, .count = depth};
    fk_pack_rows_from(&source, rows, (depth + 1) / 2, panel_width, packed);
}

FK_BF16_TARGET void fk_bf16_pack_block_rows(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                                            size_t blocks, uint32_t *packed) {
    fk_bf16_source source = {.blocks = w, .row_bytes = row_bytes, .block_bytes = fk_block_bytes(format), .format = format};
    fk_pack_rows_from(&source, rows, 16 * blocks, FK_BF16_COLUMNS, packed);
}

FK_BF16_TARGET void fk_bf16_pack_block_columns(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                                               size_t blocks, uint32_t *packed) {
    fk_bf16_source source = {.blocks = w, .row_bytes = row_bytes, .block_bytes = fk_block_bytes(format), .format = format};
    fk_pack_columns_from(&source, rows, 32 * blocks, packed);
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
void fk_bf16_pack_block_rows(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                             uint32_t *packed) {
    __builtin_trap();
}
void fk_bf16_pack_block_columns(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                                uint32_t *packed) {
    __builtin_trap();
}
void fk_bf16_gemm(const uint32_t *a, size_t a_pairs, size_t first_pair, const uint32_t *b, size_t rows, size_t columns,
                  size_t pairs, float *c, size_t ldc, int accumulate) {
    __builtin_trap();
}

#endif
