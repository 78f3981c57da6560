// Ports of the shot bookkeeping of `physics::wave::WaveSolver` (src/physics/wave/modelling.rs):
// source injection (`inject`: u[i] += w[i] s for the source's interpolation weights, and
// bracket[i] += s when the bracket is recorded), receiver recording (`record`: trace[r][n] = sum
// of weight u[i]), and in the adjoint (`adjoint`) the receivers' cotangent injection
// (u_bar[i] += weight c[r][n]) and the gradient accumulation (grad += u_bar^{n+1} * G^n, in double
// precision). Every kernel is deterministic: no atomics, a fixed summation order. Batched like
// kernels/wave_step.cu: field f of `batch` starts at f n. Each field has its own source points
// (`points` per field, padded with zero weights); the receiver points are shared; traces are
// field-major.

// u[f n + i] += w[f w_stride + i] * (weight * amplitude) for the source points (i, weight) of
// field f; `amplitude` is the wavelet sample over the cell volume. With `bracket` non-null,
// bracket[f n + i] += weight * amplitude as well. A field's points are distinct (one thread each).
extern "C" __global__ void wave_inject(long n, int batch, int points, long w_stride,
                                       float amplitude, const long* __restrict__ idx,
                                       const float* __restrict__ weight,
                                       const float* __restrict__ w, float* __restrict__ u,
                                       float* __restrict__ bracket) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int f = blockIdx.y;
    if (j >= points || f >= batch) return;
    float wt = weight[(long)f * points + j];
    if (wt == 0.0f) return;  // padding of a field with fewer points (its index repeats another's)
    long i = idx[(long)f * points + j];
    float s = wt * amplitude;
    u[f * n + i] += w[f * w_stride + i] * s;
    if (bracket) bracket[f * n + i] += s;
}

// traces[(f receivers + r) nt + step] = sum_j weight[j] u[f n + idx[j]] over receiver r's points
// (receiver r owns points first[r] .. first[r + 1]).
extern "C" __global__ void wave_record(long n, int batch, int receivers, int nt, int step,
                                       const int* __restrict__ first,
                                       const long* __restrict__ idx,
                                       const float* __restrict__ weight,
                                       const float* __restrict__ u, double* __restrict__ traces) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    int f = blockIdx.y;
    if (r >= receivers || f >= batch) return;
    double sum = 0.0;
    for (int j = first[r]; j < first[r + 1]; j++) sum += (double)weight[j] * (double)u[f * n + idx[j]];
    traces[((long)f * receivers + r) * nt + step] = sum;
}

// The transpose of `wave_record` at sample `step`, as a gather so that it is deterministic
// (neighbouring receivers share grid points): for each grid point p touched by a receiver,
// u[f n + idx[p]] += sum over its contributions j (first[p] .. first[p + 1], in receiver order) of
// weight[j] c[receiver[j]], c[r] = cot[(f receivers + r) nt + step], summed in double.
extern "C" __global__ void wave_inject_adjoint(long n, int batch, int points, int receivers,
                                               int nt, int step, const int* __restrict__ first,
                                               const long* __restrict__ idx,
                                               const int* __restrict__ receiver,
                                               const float* __restrict__ weight,
                                               const double* __restrict__ cot,
                                               float* __restrict__ u) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int f = blockIdx.y;
    if (p >= points || f >= batch) return;
    const double* c = cot + (long)f * receivers * nt + step;
    double sum = 0.0;
    for (int j = first[p]; j < first[p + 1]; j++) sum += (double)weight[j] * c[(long)receiver[j] * nt];
    u[f * n + idx[p]] += (float)sum;
}

// grad[f n + i] += a[f n + i] * bracket[f n + i], in double precision, over all stored values.
extern "C" __global__ void wave_gradient_accumulate(long total, const float* __restrict__ a,
                                                    const float* __restrict__ bracket,
                                                    double* __restrict__ grad) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    grad[i] += (double)a[i] * (double)bracket[i];
}
