// Port of `physics::wave::Propagator::step_adjoint` (src/physics/wave/propagator.rs): the exact
// transpose of one forward step (kernels/wave_step.cu), float32, radius R = 4, same storage and
// batching. With q = w u_bar^{n+1} and a scratch field t_d per axis (written on its layer only):
//   q <- w a;  out <- out + 2a + L q,  a <- -a                          everywhere
//   per axis d:  t <- q (layer);        psi <- psi - D1 t (layer)
//                z = zeta + q, t <- a_d z, zeta <- b_d z (layer)
//                out <- out + D2 t (layer + R);  psi <- psi - D1 t (layer)
//                t <- a_d psi, psi <- b_d psi (layer);  out <- out - D1 t (layer + R)
// The host launches them in this order on one stream, then swaps (out, a).

#define R 4

struct Grid {
    int nz, ny, nx;
    int hz, hy, hx;
    long sz, sy;
    int npml;
};

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
// the thread's point of field `f`, or -1 when the thread is outside (the same definition in
// wave_step.cu and wave_step_adjoint.cu; the host's slab launch configuration matches it).
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

// Stride and storage coordinate of axis `axis` at (z, y, x); whether the point is within
// `width` of either end of that axis.
__device__ __forceinline__ bool near_ends(const Grid g, int axis, int z, int y, int x, int width,
                                          long* stride, int* stored) {
    int j, n;
    if (axis == 0) { *stride = g.sz; j = z; n = g.nz; *stored = z + g.hz; }
    else if (axis == 1) { *stride = g.sy; j = y; n = g.ny; *stored = y + g.hy; }
    else { *stride = 1; j = x; n = g.nx; *stored = x + g.hx; }
    return j < width || j >= n - width;
}

// q <- w a (w shared by the batch when w_stride = 0, else one per field); then
// out <- out + 2a + L q must wait for every q: a separate launch.
extern "C" __global__ void wave_adjoint_q(const Grid g, long n, int batch, long w_stride,
                                          const float* __restrict__ w,
                                          const float* __restrict__ a, float* __restrict__ q) {
    int z, y, x, f;
    long i = point(g, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    q[i] = w[i - f * n + f * w_stride] * a[i];
}

extern "C" __global__ void wave_adjoint_leapfrog(const Grid g, int ndim, long n, int batch,
                                                 const float* __restrict__ c2,
                                                 const float* __restrict__ q,
                                                 float* __restrict__ a, float* __restrict__ out) {
    int z, y, x, f;
    long i = point(g, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    float lap = c2[0] * (float)ndim * q[i];
    for (int k = 0; k < R; k++) {
        long o = k + 1;
        float s = (q[i - o] + q[i + o]) + (q[i - o * g.sz] + q[i + o * g.sz]);
        if (ndim == 3) s += q[i - o * g.sy] + q[i + o * g.sy];
        lap += c2[k + 1] * s;
    }
    out[i] += a[i] + a[i] + lap;
    a[i] = -a[i];
}

// t <- q on the layer of `axis`.
extern "C" __global__ void wave_adjoint_copy(const Grid g, int axis, long n, int batch,
                                             const float* __restrict__ q, float* __restrict__ t) {
    int z, y, x, f;
    long i = slab_point(g, axis, g.npml, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int js;
    if (!near_ends(g, axis, z, y, x, g.npml, &s, &js)) return;
    t[i] = q[i];
}

// target <- target + sign D1 t within `width` of the ends of `axis`.
extern "C" __global__ void wave_adjoint_d1(const Grid g, int axis, int width, float sign, long n,
                                           int batch, const float* __restrict__ c1,
                                           const float* __restrict__ t,
                                           float* __restrict__ target) {
    int z, y, x, f;
    long i = slab_point(g, axis, width, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int js;
    if (!near_ends(g, axis, z, y, x, width, &s, &js)) return;
    float d = 0.0f;
    for (int k = 0; k < R; k++) d += c1[k] * (t[i + (k + 1) * s] - t[i - (k + 1) * s]);
    target[i] += sign * d;
}

// target <- target + D2 t within `width` of the ends of `axis`.
extern "C" __global__ void wave_adjoint_d2(const Grid g, int axis, int width, long n, int batch,
                                           const float* __restrict__ c2,
                                           const float* __restrict__ t,
                                           float* __restrict__ target) {
    int z, y, x, f;
    long i = slab_point(g, axis, width, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int js;
    if (!near_ends(g, axis, z, y, x, width, &s, &js)) return;
    float d = c2[0] * t[i];
    for (int k = 0; k < R; k++) d += c2[k + 1] * (t[i + (k + 1) * s] + t[i - (k + 1) * s]);
    target[i] += d;
}

// On the layer: z = zeta + q, t <- a z, zeta <- b z.
extern "C" __global__ void wave_adjoint_zeta(const Grid g, int axis, long n, int batch,
                                             const float* __restrict__ a,
                                             const float* __restrict__ b,
                                             const float* __restrict__ q,
                                             float* __restrict__ zeta, float* __restrict__ t) {
    int z, y, x, f;
    long i = slab_point(g, axis, g.npml, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int js;
    if (!near_ends(g, axis, z, y, x, g.npml, &s, &js)) return;
    float v = zeta[i] + q[i];
    t[i] = a[js] * v;
    zeta[i] = b[js] * v;
}

// On the layer: t <- a psi, psi <- b psi.
extern "C" __global__ void wave_adjoint_psi(const Grid g, int axis, long n, int batch,
                                            const float* __restrict__ a,
                                            const float* __restrict__ b,
                                            float* __restrict__ psi, float* __restrict__ t) {
    int z, y, x, f;
    long i = slab_point(g, axis, g.npml, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int js;
    if (!near_ends(g, axis, z, y, x, g.npml, &s, &js)) return;
    t[i] = a[js] * psi[i];
    psi[i] = b[js] * psi[i];
}
