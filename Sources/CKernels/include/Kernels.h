#ifndef CKERNELS_KERNELS_H
#define CKERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// Vectorised loops over contiguous float32 memory. Shapes are given in each comment;
// every array is row-major and dense.

#endif
