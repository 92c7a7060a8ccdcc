#include "Kernels.h"
#include "KernelAttributes.h"
#include <math.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define LANES 16

// exp(x) for float with range reduction and a degree-6 polynomial (~1 ulp); vectorises.
// Inputs below -87 give exactly 0 so masked softmax entries vanish as in the reference.
static inline __attribute__((always_inline)) float fk_expf(float x) {
    float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = floorf(clamped * 1.44269504088896341f + 0.5f);
    float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * z + r + 1.0f;
    union { int32_t i; float f; } scale;
    scale.i = ((int32_t)n + 127) << 23;
    y = y * scale.f;
    return x < -87.0f ? 0.0f : y;
}

// erf(x) from a Chebyshev fit of erfc with fractional error < 1.2e-7.
static inline __attribute__((always_inline)) float fk_erff(float x) {
    float z = fabsf(x);
    float t = 1.0f / (1.0f + 0.5f * z);
    float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
                 t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
                 t * (-0.82215223f + t * 0.17087277f))))))));
    float erfc = t * fk_expf(-z * z + poly);
    return x >= 0.0f ? 1.0f - erfc : erfc - 1.0f;
}

static inline __attribute__((always_inline)) float fk_tanhf(float x) {
    float clamped = x > 15.0f ? 15.0f : (x < -15.0f ? -15.0f : x);
    float e = fk_expf(2.0f * clamped);
    return (e - 1.0f) / (e + 1.0f);
}

// ---- elementwise -------------------------------------------------------------------------

FK_HOT void fk_add(const float *a, const float *b, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

FK_HOT void fk_axpy(float alpha, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

FK_HOT void fk_mul(const float *a, const float *b, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

FK_HOT void fk_scale(float alpha, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = alpha * x[i];
}

FK_HOT void fk_add_bias(const float *x, const float *bias, float *y, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        for (size_t c = 0; c < cols; c++) yr[c] = xr[c] + bias[c];
    }
}

FK_HOT void fk_sum_rows(const float *dy, float *dbias, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *d = dy + r * cols;
        for (size_t c = 0; c < cols; c++) dbias[c] += d[c];
    }
}

// ---- activations -------------------------------------------------------------------------

#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

FK_HOT void fk_gelu(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + fk_erff(x[i] * INV_SQRT2));
}

FK_HOT void fk_gelu_backward(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float cdf = 0.5f * (1.0f + fk_erff(x[i] * INV_SQRT2));
        float pdf = INV_SQRT_2PI * fk_expf(-0.5f * x[i] * x[i]);
        dx[i] += dy[i] * (cdf + x[i] * pdf);
    }
}

#define GELU_K 0.79788456080286536f  // sqrt(2/pi)
#define GELU_C 0.044715f

FK_HOT void fk_gelu_tanh(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float u = GELU_K * (x[i] + GELU_C * x[i] * x[i] * x[i]);
        y[i] = 0.5f * x[i] * (1.0f + fk_tanhf(u));
    }
}

FK_HOT void fk_gelu_tanh_backward(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x2 = x[i] * x[i];
        float u = GELU_K * (x[i] + GELU_C * x2 * x[i]);
        float t = fk_tanhf(u);
        float du = GELU_K * (1.0f + 3.0f * GELU_C * x2);
        dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * x[i] * (1.0f - t * t) * du);
    }
}

FK_HOT void fk_tanh(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = fk_tanhf(x[i]);
}

FK_HOT void fk_tanh_backward(const float *y, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

FK_HOT void fk_relu(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

FK_HOT void fk_relu_backward(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}

FK_HOT void fk_silu(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fk_expf(-x[i]));
}

FK_HOT void fk_silu_backward(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + fk_expf(-x[i]));
        dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

// ---- reductions --------------------------------------------------------------------------

// Sum with LANES independent accumulators so the loop vectorises without reassociation flags.
static inline __attribute__((always_inline)) float fk_sum(const float *x, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++) acc[j] += x[i + j];
    float s = 0.0f;
    for (size_t j = 0; j < LANES; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}

static inline __attribute__((always_inline)) float fk_dot(const float *a, const float *b, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0.0f;
    for (size_t j = 0; j < LANES; j++) s += acc[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static inline __attribute__((always_inline)) float fk_max(const float *x, size_t n) {
    float acc[LANES];
    for (size_t j = 0; j < LANES; j++) acc[j] = -INFINITY;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    float m = -INFINITY;
    for (size_t j = 0; j < LANES; j++) m = acc[j] > m ? acc[j] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// ---- normalisation -----------------------------------------------------------------------

FK_HOT void fk_layernorm(const float *x, const float *gamma, const float *beta, float *y,
                         float *mean, float *rstd, size_t rows, size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float mu = fk_sum(xr, cols) / (float)cols;
        float acc[LANES] = {0};
        size_t i = 0;
        for (; i + LANES <= cols; i += LANES)
            for (size_t j = 0; j < LANES; j++) { float d = xr[i + j] - mu; acc[j] += d * d; }
        float var = 0.0f;
        for (size_t j = 0; j < LANES; j++) var += acc[j];
        for (; i < cols; i++) { float d = xr[i] - mu; var += d * d; }
        var /= (float)cols;
        float rs = 1.0f / sqrtf(var + eps);
        if (mean) mean[r] = mu;
        if (rstd) rstd[r] = rs;
        if (gamma && beta) {
            for (size_t c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
        } else {
            for (size_t c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs;
        }
    }
}

FK_HOT void fk_layernorm_backward(const float *x, const float *gamma, const float *mean, const float *rstd,
                                  const float *dy, float *dx, float *dgamma, float *dbeta,
                                  size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        const float *dyr = dy + r * cols;
        float mu = mean[r], rs = rstd[r];
        if (dgamma) for (size_t c = 0; c < cols; c++) dgamma[c] += dyr[c] * (xr[c] - mu) * rs;
        if (dbeta) for (size_t c = 0; c < cols; c++) dbeta[c] += dyr[c];
        if (!dx) continue;
        // g = dy * gamma; dx = rs * (g - mean(g) - xhat * mean(g * xhat))
        float sum_g = 0.0f, sum_gx = 0.0f;
        float acc_g[LANES] = {0}, acc_gx[LANES] = {0};
        size_t i = 0;
        for (; i + LANES <= cols; i += LANES)
            for (size_t j = 0; j < LANES; j++) {
                float g = dyr[i + j] * (gamma ? gamma[i + j] : 1.0f);
                acc_g[j] += g;
                acc_gx[j] += g * (xr[i + j] - mu) * rs;
            }
        for (size_t j = 0; j < LANES; j++) { sum_g += acc_g[j]; sum_gx += acc_gx[j]; }
        for (; i < cols; i++) {
            float g = dyr[i] * (gamma ? gamma[i] : 1.0f);
            sum_g += g;
            sum_gx += g * (xr[i] - mu) * rs;
        }
        float mg = sum_g / (float)cols, mgx = sum_gx / (float)cols;
        float *dxr = dx + r * cols;
        for (size_t c = 0; c < cols; c++) {
            float g = dyr[c] * (gamma ? gamma[c] : 1.0f);
            float xhat = (xr[c] - mu) * rs;
            dxr[c] += rs * (g - mg - xhat * mgx);
        }
    }
}

FK_HOT void fk_rmsnorm(const float *x, const float *gamma, float *y, float *rstd, size_t rows, size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float ms = fk_dot(xr, xr, cols) / (float)cols;
        float rs = 1.0f / sqrtf(ms + eps);
        if (rstd) rstd[r] = rs;
        for (size_t c = 0; c < cols; c++) yr[c] = xr[c] * rs * gamma[c];
    }
}

FK_HOT void fk_rmsnorm_backward(const float *x, const float *gamma, const float *rstd, const float *dy,
                                float *dx, float *dgamma, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        const float *dyr = dy + r * cols;
        float rs = rstd[r];
        if (dgamma) for (size_t c = 0; c < cols; c++) dgamma[c] += dyr[c] * xr[c] * rs;
        if (!dx) continue;
        // g = dy * gamma; dx = rs * g - x * rs^3 * mean(g * x)
        float acc[LANES] = {0};
        size_t i = 0;
        for (; i + LANES <= cols; i += LANES)
            for (size_t j = 0; j < LANES; j++) acc[j] += dyr[i + j] * gamma[i + j] * xr[i + j];
        float s = 0.0f;
        for (size_t j = 0; j < LANES; j++) s += acc[j];
        for (; i < cols; i++) s += dyr[i] * gamma[i] * xr[i];
        float k = rs * rs * rs * s / (float)cols;
        float *dxr = dx + r * cols;
        for (size_t c = 0; c < cols; c++) dxr[c] += rs * dyr[c] * gamma[c] - xr[c] * k;
    }
}

// ---- softmax -----------------------------------------------------------------------------

static inline __attribute__((always_inline)) void fk_softmax_row(float *s, const float *bias, float scale, size_t cols) {
    if (bias) { for (size_t c = 0; c < cols; c++) s[c] = s[c] * scale + bias[c]; }
    else if (scale != 1.0f) { for (size_t c = 0; c < cols; c++) s[c] *= scale; }
    float m = fk_max(s, cols);
    if (m == -INFINITY) { memset(s, 0, cols * sizeof(float)); return; }
    for (size_t c = 0; c < cols; c++) s[c] = fk_expf(s[c] - m);
    float inv = 1.0f / fk_sum(s, cols);
    for (size_t c = 0; c < cols; c++) s[c] *= inv;
}

// A 32-bit integer hash with full avalanche (two multiply-xorshift rounds).
static inline uint32_t fk_mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

// y[c] = x[c] · keep_scale where element (row, c) of the stream is kept, else 0; y may be x.
// Eight elements to a vector: each draw depends on its element's number alone.
static inline __attribute__((always_inline)) void fk_dropout_row(const fk_dropout_stream *d, size_t row,
                                                                 const float *x, float *y, size_t cols) {
    // Copied out first: y's stores could otherwise alias *d and keep the loop scalar.
    const uint32_t low = (uint32_t)d->key, high = (uint32_t)(d->key >> 32), threshold = d->threshold;
    const uint32_t first = (uint32_t)(row * d->row_stride);
    const float keep_scale = d->keep_scale;
    if (x == y) {  // in place: its own loop, since the vectoriser's overlap check fails on x == y
        for (size_t c = 0; c < cols; c++) {
            uint32_t draw = fk_mix32(fk_mix32((first + (uint32_t)c) ^ low) ^ high) >> 16;
            y[c] = draw >= threshold ? y[c] * keep_scale : 0.0f;
        }
        return;
    }
    for (size_t c = 0; c < cols; c++) {
        uint32_t draw = fk_mix32(fk_mix32((first + (uint32_t)c) ^ low) ^ high) >> 16;
        y[c] = draw >= threshold ? x[c] * keep_scale : 0.0f;
    }
}

FK_HOT void fk_softmax_rows(float *s, const float *bias, float scale, size_t rows, size_t cols,
                            const fk_dropout_stream *dropout, float *dropped) {
    for (size_t r = 0; r < rows; r++) {
        fk_softmax_row(s + r * cols, bias, scale, cols);
        if (dropout) fk_dropout_row(dropout, r, s + r * cols, dropped + r * cols, cols);
    }
}

// Columns row r of a causal (rows, cols) score matrix sees: keys ≤ r + offset.
static inline size_t fk_causal_visible(size_t r, size_t offset, size_t cols) {
    size_t visible = r + offset + 1;
    return visible < cols ? visible : cols;
}

FK_HOT void fk_softmax_rows_causal(float *s, const float *bias, float scale, size_t rows, size_t cols, size_t offset,
                                   const fk_dropout_stream *dropout, float *dropped) {
    for (size_t r = 0; r < rows; r++) {
        size_t visible = fk_causal_visible(r, offset, cols);
        float *row = s + r * cols;
        fk_softmax_row(row, bias, scale, visible);
        if (visible < cols) memset(row + visible, 0, (cols - visible) * sizeof(float));
        if (dropout) fk_dropout_row(dropout, r, row, dropped + r * cols, cols);
    }
}

// One row of fk_softmax_rows_backward over its first `cols` columns.
static inline __attribute__((always_inline)) void fk_softmax_row_backward(const float *pr, const float *dpr, float *dsr,
                                                                          size_t row, size_t cols,
                                                                          const fk_dropout_stream *dropout) {
    if (dropout) {  // g = dP through dropout, held in the dS row
        fk_dropout_row(dropout, row, dpr, dsr, cols);
        dpr = dsr;
    }
    float dot = fk_dot(pr, dpr, cols);
    for (size_t c = 0; c < cols; c++) dsr[c] = pr[c] * (dpr[c] - dot);
}

FK_HOT void fk_softmax_rows_backward(const float *p, const float *dp, float *ds, size_t rows, size_t cols,
                                     const fk_dropout_stream *dropout) {
    for (size_t r = 0; r < rows; r++) fk_softmax_row_backward(p + r * cols, dp + r * cols, ds + r * cols, r, cols, dropout);
}

FK_HOT void fk_softmax_rows_backward_causal(const float *p, const float *dp, float *ds, size_t rows, size_t cols,
                                            size_t offset, const fk_dropout_stream *dropout) {
    for (size_t r = 0; r < rows; r++) {
        size_t visible = fk_causal_visible(r, offset, cols);
        fk_softmax_row_backward(p + r * cols, dp + r * cols, ds + r * cols, r, visible, dropout);
        if (visible < cols) memset(ds + r * cols + visible, 0, (cols - visible) * sizeof(float));
    }
}

// ---- losses ------------------------------------------------------------------------------

double fk_cross_entropy(const float *logits, const int32_t *labels, float *probs,
                        size_t rows, size_t classes, size_t *count) {
    double total = 0.0;
    size_t counted = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *lr = logits + r * classes;
        float *pr = probs + r * classes;
        float m = fk_max(lr, classes);
        double z = 0.0;
        for (size_t c = 0; c < classes; c++) { pr[c] = expf(lr[c] - m); z += pr[c]; }
        float inv = (float)(1.0 / z);
        for (size_t c = 0; c < classes; c++) pr[c] *= inv;
        int32_t label = labels[r];
        if (label < 0 || (size_t)label >= classes) continue;
        total += -((double)lr[label] - (double)m - log(z));
        counted++;
    }
    *count = counted;
    return total;
}

void fk_cross_entropy_backward(const float *probs, const int32_t *labels, float *dlogits,
                               size_t rows, size_t classes, float scale) {
    for (size_t r = 0; r < rows; r++) {
        int32_t label = labels[r];
        if (label < 0 || (size_t)label >= classes) continue;
        const float *pr = probs + r * classes;
        float *dr = dlogits + r * classes;
        for (size_t c = 0; c < classes; c++) dr[c] += scale * pr[c];
        dr[label] -= scale;
    }
}

double fk_cross_entropy_to_gradient(float *logits, const int32_t *labels, size_t rows, size_t classes,
                                    float scale) {
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        float *lr = logits + r * classes;
        int32_t label = labels[r];
        if (label < 0 || (size_t)label >= classes) { memset(lr, 0, classes * sizeof(float)); continue; }
        float m = fk_max(lr, classes);
        float target = lr[label];
        double z = 0.0;
        for (size_t c = 0; c < classes; c++) { lr[c] = expf(lr[c] - m); z += lr[c]; }
        total += -((double)target - (double)m - log(z));
        float factor = (float)((double)scale / z);
        for (size_t c = 0; c < classes; c++) lr[c] *= factor;
        lr[label] -= scale;
    }
    return total;
}

// ---- optimiser ---------------------------------------------------------------------------

static inline __attribute__((always_inline)) void fk_adamw_span(
    float *param, const float *grad, float *m, float *v, size_t n, float step, float inv_sqrt_bc2, float decay,
    float beta1, float beta2, float eps) {
    for (size_t i = 0; i < n; i++) {
        float g = grad ? grad[i] : 0.0f;  // NULL: a zero gradient (the branch folds where inlined)
        m[i] = beta1 * m[i] + (1.0f - beta1) * g;
        v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
        float denom = sqrtf(v[i]) * inv_sqrt_bc2 + eps;
        param[i] = param[i] * decay - step * m[i] / denom;
    }
}

// Whether x[0..<n] are all zero (−0 included; NaN is not zero).
static inline __attribute__((always_inline)) int fk_all_zero(const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int nonzero = 0;
        for (size_t j = 0; j < 16; j++) nonzero |= x[i + j] != 0.0f;
        if (nonzero) return 0;
    }
    for (; i < n; i++) if (x[i] != 0.0f) return 0;
    return 1;
}

// A row that has never had a nonzero gradient has zero moments, and AdamW's update of it with a
// zero gradient is p·decay − step·0/ε = p·decay: the same values the whole update writes,
// without reading or writing the moments. A row whose `has_grad` flag is 0 has a zero gradient
// that is not read.
FK_HOT void fk_adamw_rows(float *param, const float *grad, const uint8_t *has_grad, float *m, float *v, uint8_t *started,
                          size_t rows, size_t cols, float lr, float beta1, float beta2, float eps, float weight_decay,
                          float bias_correction1, float bias_correction2) {
    const float step = lr / bias_correction1, inv_sqrt_bc2 = 1.0f / sqrtf(bias_correction2);
    const float decay = 1.0f - lr * weight_decay;
    for (size_t r = 0; r < rows; r++) {
        size_t offset = r * cols;
        const int unlisted = has_grad && !has_grad[r];  // a zero gradient row, not to be read
        if (!started[r]) {
            if (unlisted || fk_all_zero(grad + offset, cols)) {
                if (decay != 1.0f) for (size_t c = 0; c < cols; c++) param[offset + c] *= decay;
                continue;
            }
            started[r] = 1;
        }
        if (unlisted) {
            fk_adamw_span(param + offset, NULL, m + offset, v + offset, cols, step, inv_sqrt_bc2, decay, beta1, beta2, eps);
        } else {
            fk_adamw_span(param + offset, grad + offset, m + offset, v + offset, cols, step, inv_sqrt_bc2, decay,
                          beta1, beta2, eps);
        }
    }
}

// Runs of 64 values are summed in 8 float lanes (vectorised), each run's sum then added in double.
FK_HOT double fk_sum_squares(const float *x, size_t n) {
    double total = 0.0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        float lanes[8] = {0};
        for (int j = 0; j < 64; j += 8)
            for (int k = 0; k < 8; k++) lanes[k] += x[i + j + k] * x[i + j + k];
        total += (double)(((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])));
    }
    for (; i < n; i++) total += (double)x[i] * (double)x[i];
    return total;
}

// ---- conversions -------------------------------------------------------------------------

FK_HOT void fk_bf16_to_f32(const uint16_t *x, float *y, size_t n) {
    uint32_t *out = (uint32_t *)y;
    for (size_t i = 0; i < n; i++) out[i] = (uint32_t)x[i] << 16;
}

void fk_f16_to_f32(const uint16_t *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t h = x[i];
        uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
        uint32_t bits;
        if (exponent == 0) {
            if (mantissa == 0) bits = sign;
            else {  // subnormal: normalise
                int e = -1;
                do { e++; mantissa <<= 1; } while ((mantissa & 0x400u) == 0);
                bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
            }
        } else if (exponent == 31) {
            bits = sign | 0x7f800000u | (mantissa << 13);
        } else {
            bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
        }
        memcpy(&y[i], &bits, 4);
    }
}

void fk_configure_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 2);
#endif
}

#if !defined(__APPLE__)
#include <cblas.h>
#endif

int fk_blas_threads(void) {
#if defined(__APPLE__)
    return 1;
#else
    return openblas_get_num_threads();
#endif
}

void fk_set_blas_threads(int count) {
#if !defined(__APPLE__)
    openblas_set_num_threads(count);
#else
    (void)count;
#endif
}

// ---- rotary position embedding ------------------------------------------------------------

FK_HOT void fk_rotary(const float *x, const float *cosine, const float *sine, float *y,
                      size_t rows, size_t heads, size_t half) {
    size_t width = heads * 2 * half;
    for (size_t r = 0; r < rows; r++) {
        const float *c = cosine + r * half, *s = sine + r * half;
        for (size_t h = 0; h < heads; h++) {
            const float *first = x + r * width + h * 2 * half, *second = first + half;
            float *out_first = y + r * width + h * 2 * half, *out_second = out_first + half;
            for (size_t i = 0; i < half; i++) {
                float a = first[i], b = second[i];
                out_first[i] = a * c[i] - b * s[i];
                out_second[i] = b * c[i] + a * s[i];
            }
        }
    }
}

FK_HOT void fk_rotary_backward(const float *dy, const float *cosine, const float *sine, float *dx,
                               size_t rows, size_t heads, size_t half) {
    size_t width = heads * 2 * half;
    for (size_t r = 0; r < rows; r++) {
        const float *c = cosine + r * half, *s = sine + r * half;
        for (size_t h = 0; h < heads; h++) {
            const float *first = dy + r * width + h * 2 * half, *second = first + half;
            float *grad_first = dx + r * width + h * 2 * half, *grad_second = grad_first + half;
            for (size_t i = 0; i < half; i++) {
                float a = first[i], b = second[i];
                grad_first[i] += a * c[i] + b * s[i];
                grad_second[i] += b * c[i] - a * s[i];
            }
        }
    }
}
