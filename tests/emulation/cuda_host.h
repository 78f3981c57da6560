// Host emulation of the CUDA built-ins the kernels of kernels/ use, for tests without a GPU:
// a kernel file compiled as C++ with this header force-included (`-include`) runs its threads one
// after another on the CPU through `launch`. Valid for kernels whose threads do not communicate
// within a launch (no __syncthreads, no shared memory, no warp functions), which is every kernel
// of kernels/; launches on one stream are ordered, as here. The device keeps the reference's
// rounding (kernels are compiled with fmad off; this header's users with -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

inline dim3 blockIdx, threadIdx, blockDim, gridDim;

// Runs `kernel()` (a lambda calling the kernel with its arguments) for every thread of `grid`
// blocks of `block` threads.
template <class Kernel>
void launch(dim3 grid, dim3 block, Kernel kernel) {
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++)
                for (unsigned tz = 0; tz < block.z; tz++)
                    for (unsigned ty = 0; ty < block.y; ty++)
                        for (unsigned tx = 0; tx < block.x; tx++) {
                            blockIdx = {bx, by, bz};
                            threadIdx = {tx, ty, tz};
                            kernel();
                        }
}

inline float atomicAdd(float* a, float v) {
    float old = *a;
    *a += v;
    return old;
}

inline double atomicAdd(double* a, double v) {
    double old = *a;
    *a += v;
    return old;
}

inline int atomicOr(int* a, int v) {
    int old = *a;
    *a |= v;
    return old;
}

// Whitespace-separated numbers from stdin / to stdout (17 significant digits: round trip).
inline std::vector<double> read_numbers(size_t count) {
    std::vector<double> v(count);
    for (auto& x : v)
        if (std::scanf("%lf", &x) != 1) {
            std::fprintf(stderr, "emulation driver: input ended early\n");
            std::exit(2);
        }
    return v;
}

inline void write_numbers(const double* v, size_t count) {
    for (size_t i = 0; i < count; i++) std::printf("%.17g\n", v[i]);
}
