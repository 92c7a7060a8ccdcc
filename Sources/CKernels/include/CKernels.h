#ifndef CKERNELS_H
#define CKERNELS_H

// The BLAS shim: OpenBLAS's cblas.h on Linux, Accelerate on macOS.
#if defined(__APPLE__)
#define ACCELERATE_NEW_LAPACK 1
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#include "Kernels.h"

#endif
