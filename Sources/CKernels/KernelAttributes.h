#ifndef CKERNELS_KERNEL_ATTRIBUTES_H
#define CKERNELS_KERNEL_ATTRIBUTES_H

// Hot loops get AVX-512 and AVX2 clones chosen at load time (ifunc), so the package builds for
// baseline x86-64 and still runs wide vectors where the CPU has them.
#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define FK_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FK_HOT
#endif

#endif
