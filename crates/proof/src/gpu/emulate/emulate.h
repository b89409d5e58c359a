// Host emulation of the few CUDA features kernel.cu uses, so gcc can compile the kernels as C11
// and run them on the CPU: every launch runs each (block, thread) pair in turn. The kernels use
// no shared memory and no synchronisation, so a sequential loop runs them exactly as a GPU
// would, and their results can be compared with the CPU prover byte for byte.
#ifndef POIE_EMULATE_H
#define POIE_EMULATE_H

#include <stdint.h>

typedef uint32_t u32;
typedef uint64_t u64;

struct poie_dim3 {
    u32 x, y, z;
};

// The built-in variables a kernel reads, set by POIE_LAUNCH before each call.
static struct poie_dim3 threadIdx, blockIdx, blockDim, gridDim;

#define KERNEL
#define DEVICE static inline
#define __restrict__ restrict

// kernel<<<grid, block>>>(args...) for one-dimensional launches.
#define POIE_LAUNCH(grid, block, kernel, ...)                                                  \
    do {                                                                                       \
        gridDim.x = (grid);                                                                    \
        blockDim.x = (block);                                                                  \
        for (blockIdx.x = 0; blockIdx.x < gridDim.x; blockIdx.x++)                             \
            for (threadIdx.x = 0; threadIdx.x < blockDim.x; threadIdx.x++)                     \
                kernel(__VA_ARGS__);                                                           \
    } while (0)

#endif
