// Ports of the shot bookkeeping of `physics::wave::WaveSolver` (src/physics/wave/modelling.rs):
// source injection (`inject`: u[i] += w[i] s for the source's interpolation weights), receiver
// recording (`record`: trace[r][n] = sum of weight u[i]) and the gradient accumulation of the
// adjoint (`adjoint`: grad += u_bar^{n+1} * G^n, in double precision). Batched like
// kernels/wave_step.cu: field f of `batch` starts at f n. Each field has its own source points
// (`points` per field, padded with zero weights); the receiver points are shared; traces are
// field-major.

// u[f n + i] += w[f w_stride + i] * (weight * amplitude) for the source points (i, weight) of
// field f; `amplitude` is the wavelet sample over the cell volume.
extern "C" __global__ void wave_inject(long n, int batch, int points, long w_stride,
                                       float amplitude, const long* __restrict__ idx,
                                       const float* __restrict__ weight,
                                       const float* __restrict__ w, float* __restrict__ u) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int f = blockIdx.y;
    if (j >= points || f >= batch) return;
    long i = idx[(long)f * points + j];
    u[f * n + i] += w[f * w_stride + i] * (weight[(long)f * points + j] * amplitude);
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

// grad[f n + i] += a[f n + i] * bracket[f n + i], in double precision, over all stored values.
extern "C" __global__ void wave_gradient_accumulate(long total, const float* __restrict__ a,
                                                    const float* __restrict__ bracket,
                                                    double* __restrict__ grad) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    grad[i] += (double)a[i] * (double)bracket[i];
}
