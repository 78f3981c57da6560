// The grid of the wave kernels (kernels/wave_step.cu, kernels/wave_step_adjoint.cu), prepended to
// each of them where they are embedded (src/gpu/mod.rs, KERNELS: NVRTC compiles every file alone,
// without headers): the stencil radius, the storage of a batch of fields, and the thread-to-point
// maps of the passes over the whole grid and over the CPML slabs of one axis.

#define R 4

struct Grid {
    int nz, ny, nx;      // grid points per axis (model and CPML)
    int hz, hy, hx;      // halo per axis (4, or 0 for the missing y of a 2D grid)
    long sz, sy;         // storage strides of z and y (x: 1)
    int npml;            // CPML width in points
};

// Storage index of grid point (z, y, x) of field `f`, or -1 when the thread is outside the grid.
__device__ __forceinline__ long point(const Grid g, int* z, int* y, int* x, long n, int* f) {
    *x = blockIdx.x * blockDim.x + threadIdx.x;
    *y = blockIdx.y * blockDim.y + threadIdx.y;
    *f = blockIdx.z / g.nz;
    *z = blockIdx.z % g.nz;
    if (*x >= g.nx || *y >= g.ny) return -1;
    return *f * n + (long)(*z + g.hz) * g.sz + (long)(*y + g.hy) * g.sy + (*x + g.hx);
}

// The points within `width` of both ends of `axis` (0 z, 1 y, 2 x), for the passes that only run
// there: the launch covers min(2 width, n) coordinates along that axis, the first `width` mapped
// to the start and the rest to the end, and the whole grid along the others. Storage index of
// the thread's point of field `f`, or -1 when the thread is outside (the host's slab launch
// configuration, `WaveStep::slab_config`, matches it).
__device__ __forceinline__ int slab_extent(int n, int width) { return 2 * width < n ? 2 * width : n; }

__device__ __forceinline__ long slab_point(const Grid g, int axis, int width, int* z, int* y,
                                           int* x, long n, int* f) {
    int ex = axis == 2 ? slab_extent(g.nx, width) : g.nx;
    int ey = axis == 1 ? slab_extent(g.ny, width) : g.ny;
    int ez = axis == 0 ? slab_extent(g.nz, width) : g.nz;
    *x = blockIdx.x * blockDim.x + threadIdx.x;
    *y = blockIdx.y * blockDim.y + threadIdx.y;
    *f = blockIdx.z / ez;
    *z = blockIdx.z % ez;
    if (*x >= ex || *y >= ey) return -1;
    if (axis == 2 && ex < g.nx && *x >= width) *x += g.nx - 2 * width;
    if (axis == 1 && ey < g.ny && *y >= width) *y += g.ny - 2 * width;
    if (axis == 0 && ez < g.nz && *z >= width) *z += g.nz - 2 * width;
    return *f * n + (long)(*z + g.hz) * g.sz + (long)(*y + g.hy) * g.sy + (*x + g.hx);
}
