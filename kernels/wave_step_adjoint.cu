// Port of `physics::wave::Propagator::step_adjoint` (src/physics/wave/propagator.rs): the exact
// transpose of one forward step (kernels/wave_step.cu), float32, radius R = 4, same storage and
// batching. With q = w u_bar^{n+1} and a scratch field t_d per axis (written on its layer only):
//   q <- w a;  out <- out + 2a + L q,  a <- -a                          everywhere
//   per axis d:  t <- q (layer);        psi <- psi - D1 t (layer)
//                z = zeta + q, t <- a_d z, zeta <- b_d z (layer)
//                out <- out + D2 t (layer + R);  psi <- psi - D1 t (layer)
//                t <- a_d psi, psi <- b_d psi (layer);  out <- out - D1 t (layer + R)
// The host launches them in this order on one stream, then swaps (out, a).

// The grid, `point` and `slab_point`: kernels/wave_grid.cuh, prepended where embedded.

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
