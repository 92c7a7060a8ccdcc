#ifndef CKERNELS_KERNELS_H
#define CKERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// Vectorised loops over contiguous float32 memory, each with its backward beside it.
// All arrays are row-major and dense; shapes are given in each comment.
// Backward kernels *accumulate* into their gradient outputs (dx += ...).

// ---- elementwise -------------------------------------------------------------------------
// y[n] = a[n] + b[n]
void fk_add(const float *a, const float *b, float *y, size_t n);
// y[n] += alpha * x[n]
void fk_axpy(float alpha, const float *x, float *y, size_t n);
// y[n] = a[n] * b[n]
void fk_mul(const float *a, const float *b, float *y, size_t n);
// y[n] = alpha * x[n]
void fk_scale(float alpha, const float *x, float *y, size_t n);
// y[rows, cols] = x[rows, cols] + bias[cols]
void fk_add_bias(const float *x, const float *bias, float *y, size_t rows, size_t cols);
// dbias[cols] += sum over rows of dy[rows, cols]
void fk_sum_rows(const float *dy, float *dbias, size_t rows, size_t cols);

// ---- activations -------------------------------------------------------------------------
// exact GELU, x * Φ(x) with erf
void fk_gelu(const float *x, float *y, size_t n);
void fk_gelu_backward(const float *x, const float *dy, float *dx, size_t n);
// tanh-approximated GELU ("gelu_new", GPT-2)
void fk_gelu_tanh(const float *x, float *y, size_t n);
void fk_gelu_tanh_backward(const float *x, const float *dy, float *dx, size_t n);
void fk_tanh(const float *x, float *y, size_t n);
// dx += dy * (1 - y^2), y = tanh(x)
void fk_tanh_backward(const float *y, const float *dy, float *dx, size_t n);
void fk_relu(const float *x, float *y, size_t n);
void fk_relu_backward(const float *x, const float *dy, float *dx, size_t n);
// SiLU x * sigmoid(x)
void fk_silu(const float *x, float *y, size_t n);
void fk_silu_backward(const float *x, const float *dy, float *dx, size_t n);

// ---- normalisation -----------------------------------------------------------------------
// LayerNorm over the last dim: x[rows, cols] → y; saves mean[rows] and rstd[rows].
// gamma/beta may be NULL (no affine).
void fk_layernorm(const float *x, const float *gamma, const float *beta, float *y,
                  float *mean, float *rstd, size_t rows, size_t cols, float eps);
// dx, dgamma, dbeta may each be NULL (not needed).
void fk_layernorm_backward(const float *x, const float *gamma, const float *mean, const float *rstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta,
                           size_t rows, size_t cols);
// RMSNorm: y = x * rsqrt(mean(x^2) + eps) * gamma; saves rstd[rows].
void fk_rmsnorm(const float *x, const float *gamma, float *y, float *rstd, size_t rows, size_t cols, float eps);
void fk_rmsnorm_backward(const float *x, const float *gamma, const float *rstd, const float *dy,
                         float *dx, float *dgamma, size_t rows, size_t cols);

// ---- softmax -----------------------------------------------------------------------------
// Attention dropout without a stored mask: element (r, c) of a head's (rows, cols) probabilities
// is element r·row_stride + c of a counter-based stream, dropped where the top 16 bits of a hash
// of (key, element) fall below `threshold` (p·65536), kept scaled by keep_scale = 1/(1 − p).
// Any block of the stream is drawn without the elements before it.
typedef struct {
    uint64_t key;
    size_t row_stride;
    uint32_t threshold;
    float keep_scale;
} fk_dropout_stream;

// In place over rows of s[rows, cols]: s = softmax(s * scale + bias), bias[cols] may be NULL
// (an additive key mask: 0 or -inf/-large). A row whose every entry is masked becomes zeros.
// With `dropout` (else NULL), also dropped = s after dropout, row by row while it is in cache
// (dropped may be s).
void fk_softmax_rows(float *s, const float *bias, float scale, size_t rows, size_t cols,
                     const fk_dropout_stream *dropout, float *dropped);
// Causal variant: row i only sees columns ≤ i + offset; later columns become 0.
void fk_softmax_rows_causal(float *s, const float *bias, float scale, size_t rows, size_t cols, size_t offset,
                            const fk_dropout_stream *dropout, float *dropped);
// ds = p * (g - rowsum(g * p)), written (not accumulated) over rows of [rows, cols], where g = dp,
// or with `dropout` dp back through the dropout that made the probabilities used.
void fk_softmax_rows_backward(const float *p, const float *dp, float *ds, size_t rows, size_t cols,
                              const fk_dropout_stream *dropout);
// The same for probabilities from fk_softmax_rows_causal: row r reads only its first
// min(cols, r + offset + 1) columns of dp (the rest may hold anything) and its ds is 0 beyond.
void fk_softmax_rows_backward_causal(const float *p, const float *dp, float *ds, size_t rows, size_t cols,
                                     size_t offset, const fk_dropout_stream *dropout);

// ---- losses ------------------------------------------------------------------------------
// Mean cross-entropy of logits[rows, classes] against labels[rows]; rows with label < 0 are
// ignored. Writes probabilities to probs (for backward) and returns the summed loss;
// *count receives the number of counted rows.
double fk_cross_entropy(const float *logits, const int32_t *labels, float *probs,
                        size_t rows, size_t classes, size_t *count);
// dlogits += scale * (probs - onehot(label)) on counted rows.
void fk_cross_entropy_backward(const float *probs, const int32_t *labels, float *dlogits,
                               size_t rows, size_t classes, float scale);
// The loss and its gradient in one pass, in place: returns the summed loss of the counted rows
// and overwrites logits with scale * (softmax - onehot(label)) (zeros on ignored rows).
double fk_cross_entropy_to_gradient(float *logits, const int32_t *labels, size_t rows, size_t classes,
                                    float scale);

// ---- optimiser ---------------------------------------------------------------------------
// One AdamW step (decoupled weight decay, bias-corrected moments) on param[rows][cols], row by
// row, so tables whose rows mostly get no gradient (an embedding's unseen tokens) cost little: a
// row whose `started` flag is 0 has zero moments; while its gradient row is zero it is only
// decayed and its moments stay untouched, and its first nonzero gradient sets the flag. The
// values written equal a dense update's. `has_grad` (rows), when not NULL, flags the rows whose
// gradient may be nonzero; the others' gradient rows are zero and not read (a sparse gradient's
// pages that were never written).
void fk_adamw_rows(float *param, const float *grad, const uint8_t *has_grad, float *m, float *v, uint8_t *started,
                   size_t rows, size_t cols, float lr, float beta1, float beta2, float eps, float weight_decay,
                   float bias_correction1, float bias_correction2);
// Sum of squares (for gradient-norm clipping and finiteness checks): runs of 64 in float, their
// sums in double.
double fk_sum_squares(const float *x, size_t n);

// ---- memory ------------------------------------------------------------------------------
// Limits the C allocator to two arenas, so worker threads share heaps instead of each growing
// its own (glibc; no-op elsewhere). Large tensor buffers bypass malloc (see BufferPool).
void fk_configure_allocator(void);

// BLAS threads (OpenBLAS; Accelerate manages its own). Work that runs several small products
// at once on its own threads sets BLAS to one thread around them.
int fk_blas_threads(void);
void fk_set_blas_threads(int count);

// ---- conversions -------------------------------------------------------------------------
void fk_bf16_to_f32(const uint16_t *x, float *y, size_t n);
void fk_f16_to_f32(const uint16_t *x, float *y, size_t n);

// ---- quantised weights (ggml blocks of 32 values) ----------------------------------------------
// Frozen weights stay in ggml's block layouts (little-endian; d and m are IEEE halves), rows of
// `row_bytes` bytes, each a whole number of blocks:
//   FK_Q4_0  18 bytes: d, qs[16]          w[j] = d·((qs[j] & 15) − 8), w[j+16] = d·((qs[j] >> 4) − 8)
//   FK_Q4_1  20 bytes: d, m, qs[16]       w[j] = d·(qs[j] & 15) + m,   w[j+16] = d·(qs[j] >> 4) + m
//   FK_Q8_0  34 bytes: d, qs[32] (int8)   w[j] = d·qs[j]
typedef enum { FK_Q4_0 = 0, FK_Q4_1 = 1, FK_Q8_0 = 2 } fk_block_format;
// Bytes of one block of the format.
size_t fk_block_bytes(fk_block_format format);
// Decodes `rows` rows of `blocks` blocks (from w, rows row_bytes apart) into y[rows, ldy], 32·blocks
// values a row; exact (bit-identical to any correct decoder).
void fk_dequantize_blocks(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                          size_t blocks, float *y, size_t ldy);
// x[rows, 32·blocks] (row-major) encoded as Q8_0 blocks into w (rows row_bytes apart), as
// ggml's reference quantiser does: d = max|x_b|/127 stored as a half, q = x·(1/d) rounded half
// away from zero (all zero when the block is).
void fk_quantize_q8_0(const float *x, size_t rows, size_t blocks, uint8_t *w, size_t row_bytes);
// y[rows] = W[rows, 32·blocks] · x[32·blocks], reading the blocks directly (x stays float32).
void fk_quantized_matvec(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                         const float *x, float *y);
// x[32·blocks] quantised per block of 32 to int8, as llama.cpp's Q8_1: scale[b] = max|x_b|/127,
// q = x/scale rounded to nearest (ties to even), sum[b] = scale[b]·Σq (≈ Σx_b).
void fk_quantize_activations(const float *x, size_t blocks, int8_t *q, float *scale, float *sum);
// y[rows] = W · x with x given as fk_quantize_activations made it: each block one integer dot
// product of quants, times d·scale (plus m·sum for Q4_1, minus 8·d·sum for Q4_0). An
// approximation of the float product (x keeps ~8 bits a block), for generation steps.
void fk_quantized_matvec_int8(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows, size_t blocks,
                              const int8_t *q, const float *scale, const float *sum, float *y);

// ---- bfloat16 products (AVX512-BF16) ---------------------------------------------------------
// c = a · b with both operands rounded to bfloat16 (nearest, ties to even) and float32 sums, for
// products with a frozen weight when the compute dtype is bfloat16. Operands are packed first
// (see BFloat16Products.c for the layouts): a in panels of FK_BF16_ROWS rows, b in panels of
// FK_BF16_COLUMNS columns, pairs of values along the summed depth in 32-bit words.
#define FK_BF16_ROWS 12
#define FK_BF16_COLUMNS 32
// Whether this CPU has AVX512-BF16; the other fk_bf16_ functions run only where it does.
int fk_bf16_products_available(void);
// x[rows, depth] (rows ldx apart) packed in panels of `panel_width` rows: the left operand with
// FK_BF16_ROWS, or a weight W[out, in] as the right operand of x·Wᵀ with FK_BF16_COLUMNS.
// Takes ceil(rows / panel_width)·panel_width·ceil(depth / 2) words.
void fk_bf16_pack_rows(const float *x, size_t rows, size_t depth, size_t ldx, size_t panel_width, uint32_t *packed);
// A quantised W[out, in] read straight from its blocks (`rows` rows of `blocks` blocks, row_bytes
// apart; values as fk_dequantize_blocks decodes them) and packed as the right operand: of x·Wᵀ
// (panels of FK_BF16_COLUMNS outputs, pairs along a row), and of dY·W (panels of FK_BF16_COLUMNS
// inputs, pairs of adjacent rows; an odd row count's missing partner is zero).
void fk_bf16_pack_block_rows(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                             size_t blocks, uint32_t *packed);
void fk_bf16_pack_block_columns(fk_block_format format, const uint8_t *w, size_t row_bytes, size_t rows,
                                size_t blocks, uint32_t *packed);
// c[rows, columns] (rows ldc apart) = (or += when accumulate) a · b over `pairs` pairs of depth:
// b packed with exactly that depth, a packed with `a_pairs` pairs of which the product reads
// those from `first_pair` on.
void fk_bf16_gemm(const uint32_t *a, size_t a_pairs, size_t first_pair, const uint32_t *b,
                  size_t rows, size_t columns, size_t pairs, float *c, size_t ldc, int accumulate);

// ---- worker threads ---------------------------------------------------------------------------
// One part of a parallel region: part is 0 on the calling thread, 1… on the pool's threads.
typedef void (*fk_parallel_task)(void *context, size_t part);
// Persistent worker threads; between regions they spin briefly, then sleep.
typedef struct fk_pool fk_pool;
// A pool of up to `threads` worker threads (fewer if the system refuses some); NULL if out of memory.
fk_pool *fk_pool_create(size_t threads);
// The threads the pool runs.
size_t fk_pool_threads(const fk_pool *pool);
// Stops and joins the threads (no region may be running) and frees the pool.
void fk_pool_destroy(fk_pool *pool);
// Runs task(context, part) for every part in 0..<parts, part 0 on the calling thread and part p
// on the pool's thread p, and returns when all are done. With too few threads, or while another
// region runs, the caller runs every part itself, in order.
void fk_pool_run(fk_pool *pool, size_t parts, fk_parallel_task task, void *context);

// ---- rotary position embedding ------------------------------------------------------------
// Rotates pairs (i, i + half) of every head of x[rows, heads, 2·half] by the angle whose cosine
// and sine are cosine[rows, half] and sine[rows, half] (the "rotate_half" layout):
// y[i] = x[i]·cos − x[i+half]·sin, y[i+half] = x[i+half]·cos + x[i]·sin.
void fk_rotary(const float *x, const float *cosine, const float *sine, float *y,
               size_t rows, size_t heads, size_t half);
// The inverse rotation of dy, accumulated: dx[i] += dy[i]·cos + dy[i+half]·sin,
// dx[i+half] += dy[i+half]·cos − dy[i]·sin.
void fk_rotary_backward(const float *dy, const float *cosine, const float *sine, float *dx,
                        size_t rows, size_t heads, size_t half);

#endif
