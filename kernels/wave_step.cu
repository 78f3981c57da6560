// Port of `physics::wave::Propagator::step` (src/physics/wave/propagator.rs): one leapfrog step
// of (1/c^2) u_tt - Laplacian u = f with the CPML, float32, stencil radius R = 4 (order 8), on the
// same storage as the CPU (grid points surrounded by a 4-point zero halo, x fastest) and the same
// discrete equations:
//   (1) psi_d  <- b_d psi_d + a_d D1_d u                       on the layer of axis d
//   (A) out    <- 2 u - out + w L u          (bracket <- L u)  everywhere
//   (2) zeta_d <- b_d zeta_d + a_d (D2_d u + D1_d psi_d),
//       out += w (D1_d psi_d + zeta_d)       (bracket += ...)  on the layer of axis d
// Every kernel is batched: `batch` independent fields (shots x members) of `n` stored values each,
// one after another; blockIdx.z runs over (field, z-plane). w = dt^2 v^2 is per field when
// `w_stride` = n (members) or shared when it is 0 (the shots of one member). The host launches
// (1) for every axis, then (A), then (2) for every axis, on one stream.

// The grid, `point` and `slab_point`: kernels/wave_grid.cuh, prepended where embedded.

__device__ __forceinline__ bool in_layer(int j, int n, int npml) {
    return j < npml || j >= n - npml;
}

// The stride, coordinate and extent of axis `axis` (0 z, 1 y, 2 x) at a point.
__device__ __forceinline__ void axis_of(const Grid g, int axis, int z, int y, int x,
                                        long* stride, int* j, int* n, int* stored) {
    if (axis == 0) { *stride = g.sz; *j = z; *n = g.nz; *stored = z + g.hz; }
    else if (axis == 1) { *stride = g.sy; *j = y; *n = g.ny; *stored = y + g.hy; }
    else { *stride = 1; *j = x; *n = g.nx; *stored = x + g.hx; }
}

// (1) psi <- b psi + a D1 u on the layer of `axis`; a, b indexed by storage coordinate.
extern "C" __global__ void wave_psi(const Grid g, int axis, long n, int batch,
                                    const float* __restrict__ c1,
                                    const float* __restrict__ a, const float* __restrict__ b,
                                    const float* __restrict__ u, float* __restrict__ psi) {
    int z, y, x, f;
    long i = slab_point(g, axis, g.npml, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int j, nj, js;
    axis_of(g, axis, z, y, x, &s, &j, &nj, &js);
    if (!in_layer(j, nj, g.npml)) return;
    float d = 0.0f;
    for (int k = 0; k < R; k++) d += c1[k] * (u[i + (k + 1) * s] - u[i - (k + 1) * s]);
    psi[i] = b[js] * psi[i] + a[js] * d;
}

// (A) out <- 2u - out + w L u; with `bracket` non-null, bracket <- L u. `ndim` is 2 or 3.
extern "C" __global__ void wave_leapfrog(const Grid g, int ndim, long n, int batch,
                                         const float* __restrict__ c2, long w_stride,
                                         const float* __restrict__ w, const float* __restrict__ u,
                                         float* __restrict__ out, float* __restrict__ bracket) {
    int z, y, x, f;
    long i = point(g, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long iw = i - f * n + f * w_stride;
    float lap = c2[0] * (float)ndim * u[i];
    for (int k = 0; k < R; k++) {
        long o = k + 1;
        float s = (u[i - o] + u[i + o]) + (u[i - o * g.sz] + u[i + o * g.sz]);
        if (ndim == 3) s += u[i - o * g.sy] + u[i + o * g.sy];
        lap += c2[k + 1] * s;
    }
    out[i] = u[i] + u[i] - out[i] + w[iw] * lap;
    if (bracket) bracket[i] = lap;
}

// (2) zeta <- b zeta + a (D2 u + D1 psi), out += w (D1 psi + zeta) on the layer of `axis`.
extern "C" __global__ void wave_zeta(const Grid g, int axis, long n, int batch,
                                     const float* __restrict__ c1, const float* __restrict__ c2,
                                     const float* __restrict__ a, const float* __restrict__ b,
                                     long w_stride,
                                     const float* __restrict__ w, const float* __restrict__ u,
                                     const float* __restrict__ psi, float* __restrict__ zeta,
                                     float* __restrict__ out, float* __restrict__ bracket) {
    int z, y, x, f;
    long i = slab_point(g, axis, g.npml, &z, &y, &x, n, &f);
    if (i < 0 || f >= batch) return;
    long s; int j, nj, js;
    axis_of(g, axis, z, y, x, &s, &j, &nj, &js);
    if (!in_layer(j, nj, g.npml)) return;
    float t = 0.0f, l = c2[0] * u[i];
    for (int k = 0; k < R; k++) {
        long o = (k + 1) * s;
        t += c1[k] * (psi[i + o] - psi[i - o]);
        l += c2[k + 1] * (u[i + o] + u[i - o]);
    }
    float zn = b[js] * zeta[i] + a[js] * (l + t);
    zeta[i] = zn;
    out[i] += w[i - f * n + f * w_stride] * (t + zn);
    if (bracket) bracket[i] += t + zn;
}
