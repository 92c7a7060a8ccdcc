#ifndef CKERNELS_HALF_FLOAT_H
#define CKERNELS_HALF_FLOAT_H

#include <math.h>
#include <stdint.h>

// The exact float value of IEEE half bits (normal, subnormal, infinite and NaN), branch-free
// apart from the rare infinity/NaN case: the exponent and mantissa moved into float position
// give the value times 2⁻¹¹², which one multiplication rescales (exact, subnormals included).
static inline __attribute__((always_inline)) float fk_half(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t magnitude = h & 0x7fffu;
    union { uint32_t u; float f; } v;
    if (magnitude >= 0x7c00u) {
        v.u = sign | 0x7f800000u | ((magnitude & 0x3ffu) << 13);
        return v.f;
    }
    v.u = magnitude << 13;
    v.f *= 0x1p112f;
    v.u |= sign;
    return v.f;
}

// The IEEE half bits nearest to `value` (ties to even), as a correct converter gives them: NaN
// stays NaN, magnitudes from 65520 on become infinity, those below 2⁻¹⁴ subnormal halves.
static inline uint16_t fk_half_bits(float value) {
    union { float f; uint32_t u; } v = { value };
    uint16_t sign = (uint16_t)((v.u >> 16) & 0x8000u);
    uint32_t magnitude = v.u & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  // NaN
    if (magnitude >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds past 65504
    if (magnitude < 0x38800000u) {
        // A subnormal half counts units of 2⁻²⁴; the float's default rounding is to nearest even.
        union { uint32_t u; float f; } m = { magnitude };
        return (uint16_t)(sign | (uint16_t)nearbyintf(m.f * 0x1p24f));
    }
    // Rebias the exponent (127 → 15) and round the 23-bit significand to 10 bits, ties to even.
    uint32_t rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
    return (uint16_t)(sign | (uint16_t)((rounded - 0x38000000u) >> 13));
}

#endif
