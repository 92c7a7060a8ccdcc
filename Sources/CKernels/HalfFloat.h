#ifndef CKERNELS_HALF_FLOAT_H
#define CKERNELS_HALF_FLOAT_H

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

#endif
