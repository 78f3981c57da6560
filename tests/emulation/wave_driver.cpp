// Host driver for the wave kernels (kernels/wave_step.cu, wave_step_adjoint.cu,
// wave_modelling.cu compiled as C++, tests/emulation/cuda_host.h): the launch sequences of
// src/gpu/wave.rs (`WaveStep::step_with`, `step_adjoint`) and src/gpu/wave/shots.rs
// (`forward_checkpointed` and `adjoint_shots` with one segment: every bracket kept) for one field,
// so that tests/emulated_wave.rs can compare the kernels' numbers with the CPU propagator.
//
// stdin: nz ny nx hz hy hx sz sy npml ndim len, c1[4], c2[5], per axis (count, a[count],
// b[count]), w[len], then a mode:
//   0 steps K, cur[len], prev[len]                      -> cur after K forward steps
//   1 steps K, cur, prev, psi[3][len], zeta[3][len]     -> cur after K adjoint steps
//   2 nt, wavelet[nt], cell_volume, source (count, (idx, w)...), receivers R then per receiver
//     (count, (idx, w)...), cot[R nt]                   -> traces[R nt], then dL/dw[len]
#include <map>

struct Grid {
    int nz, ny, nx;
    int hz, hy, hx;
    long sz, sy;
    int npml;
};

extern "C" {
void wave_psi(const Grid, int, long, int, const float*, const float*, const float*, const float*,
              float*);
void wave_leapfrog(const Grid, int, long, int, const float*, long, const float*, const float*,
                   float*, float*);
void wave_zeta(const Grid, int, long, int, const float*, const float*, const float*, const float*,
               long, const float*, const float*, const float*, float*, float*, float*);
void wave_adjoint_q(const Grid, long, int, long, const float*, const float*, float*);
void wave_adjoint_leapfrog(const Grid, int, long, int, const float*, const float*, float*, float*);
void wave_adjoint_copy(const Grid, int, long, int, const float*, float*);
void wave_adjoint_d1(const Grid, int, int, float, long, int, const float*, const float*, float*);
void wave_adjoint_d2(const Grid, int, int, long, int, const float*, const float*, float*);
void wave_adjoint_zeta(const Grid, int, long, int, const float*, const float*, const float*,
                       float*, float*);
void wave_adjoint_psi(const Grid, int, long, int, const float*, const float*, float*, float*);
void wave_inject(long, int, int, long, float, const long*, const float*, const float*, float*,
                 float*);
void wave_record(long, int, int, int, int, const int*, const long*, const float*, const float*,
                 double*);
void wave_inject_adjoint(long, int, int, int, int, int, const int*, const long*, const int*,
                         const float*, const double*, float*);
void wave_gradient_accumulate(long, const float*, const float*, double*);
}

using Field = std::vector<float>;

struct State {
    Field cur, prev, psi[3], zeta[3];
};

static Field floats(size_t n) {
    auto v = read_numbers(n);
    return Field(v.begin(), v.end());
}

struct Wave {
    Grid g;
    int ndim;
    long n;
    Field c1, c2, a[3], b[3], w;
    std::vector<int> axes;
    dim3 grid, block;

    // The launch over the slabs within `width` of both ends of `axis` (WaveStep::slab_config).
    dim3 slab(int axis, int width) const {
        auto extent = [&](int n) { return 2 * width < n ? 2 * width : n; };
        int ez = axis == 0 ? extent(g.nz) : g.nz, ey = axis == 1 ? extent(g.ny) : g.ny;
        int ex = axis == 2 ? extent(g.nx) : g.nx;
        return {(unsigned)((ex + 31) / 32), (unsigned)((ey + 3) / 4), (unsigned)ez};
    }

    void step(State& s, float* bracket) {
        for (int axis : axes)
            launch(slab(axis, g.npml), block, [&] {
                wave_psi(g, axis, n, 1, c1.data(), a[axis].data(), b[axis].data(), s.cur.data(),
                         s.psi[axis].data());
            });
        launch(grid, block, [&] {
            wave_leapfrog(g, ndim, n, 1, c2.data(), 0, w.data(), s.cur.data(), s.prev.data(),
                          bracket);
        });
        for (int axis : axes)
            launch(slab(axis, g.npml), block, [&] {
                wave_zeta(g, axis, n, 1, c1.data(), c2.data(), a[axis].data(), b[axis].data(), 0,
                          w.data(), s.cur.data(), s.psi[axis].data(), s.zeta[axis].data(),
                          s.prev.data(), bracket);
            });
        std::swap(s.cur, s.prev);
    }

    void minus_d1(int axis, int width, const Field& t, Field& target) {
        launch(slab(axis, width), block, [&] {
            wave_adjoint_d1(g, axis, width, -1.0f, n, 1, c1.data(), t.data(), target.data());
        });
    }

    void step_adjoint(State& s, Field& q, Field t[3]) {
        int reach = g.npml + 4;
        launch(grid, block,
               [&] { wave_adjoint_q(g, n, 1, 0, w.data(), s.cur.data(), q.data()); });
        launch(grid, block, [&] {
            wave_adjoint_leapfrog(g, ndim, n, 1, c2.data(), q.data(), s.cur.data(), s.prev.data());
        });
        for (int axis : axes) {
            Field& ta = t[axis];
            launch(slab(axis, g.npml), block,
                   [&] { wave_adjoint_copy(g, axis, n, 1, q.data(), ta.data()); });
            minus_d1(axis, g.npml, ta, s.psi[axis]);
            launch(slab(axis, g.npml), block, [&] {
                wave_adjoint_zeta(g, axis, n, 1, a[axis].data(), b[axis].data(), q.data(),
                                  s.zeta[axis].data(), ta.data());
            });
            launch(slab(axis, reach), block, [&] {
                wave_adjoint_d2(g, axis, reach, n, 1, c2.data(), ta.data(), s.prev.data());
            });
            minus_d1(axis, g.npml, ta, s.psi[axis]);
            launch(slab(axis, g.npml), block, [&] {
                wave_adjoint_psi(g, axis, n, 1, a[axis].data(), b[axis].data(),
                                 s.psi[axis].data(), ta.data());
            });
            minus_d1(axis, reach, ta, s.prev);
        }
        std::swap(s.cur, s.prev);
    }
};

static State zero_state(long n) {
    State s;
    s.cur.assign(n, 0.0f);
    s.prev.assign(n, 0.0f);
    for (int d = 0; d < 3; d++) {
        s.psi[d].assign(n, 0.0f);
        s.zeta[d].assign(n, 0.0f);
    }
    return s;
}

static void points(std::vector<long>& idx, std::vector<float>& weight) {
    int count = (int)read_numbers(1)[0];
    for (int j = 0; j < count; j++) {
        auto p = read_numbers(2);
        idx.push_back((long)p[0]);
        weight.push_back((float)p[1]);
    }
}

int main() {
    auto h = read_numbers(11);
    Wave wv;
    wv.g = {(int)h[0], (int)h[1], (int)h[2], (int)h[3], (int)h[4], (int)h[5], (long)h[6],
            (long)h[7], (int)h[8]};
    wv.ndim = (int)h[9];
    wv.n = (long)h[10];
    wv.c1 = floats(4);
    wv.c2 = floats(5);
    for (int d = 0; d < 3; d++) {
        int count = (int)read_numbers(1)[0];
        wv.a[d] = floats(count);
        wv.b[d] = floats(count);
    }
    wv.w = floats(wv.n);
    for (int d = 0; d < 3; d++)
        if (wv.g.npml > 0 && (wv.ndim == 3 || d != 1)) wv.axes.push_back(d);
    wv.block = {32, 4, 1};
    wv.grid = {(unsigned)((wv.g.nx + 31) / 32), (unsigned)((wv.g.ny + 3) / 4), (unsigned)wv.g.nz};
    long n = wv.n;
    int mode = (int)read_numbers(1)[0];
    State s = zero_state(n);
    if (mode == 0 || mode == 1) {
        int steps = (int)read_numbers(1)[0];
        s.cur = floats(n);
        s.prev = floats(n);
        if (mode == 0) {
            for (int k = 0; k < steps; k++) wv.step(s, nullptr);
        } else {
            for (int d = 0; d < 3; d++) s.psi[d] = floats(n);
            for (int d = 0; d < 3; d++) s.zeta[d] = floats(n);
            Field q(n, 0.0f), t[3] = {Field(n, 0.0f), Field(n, 0.0f), Field(n, 0.0f)};
            for (int k = 0; k < steps; k++) wv.step_adjoint(s, q, t);
        }
        std::vector<double> out(s.cur.begin(), s.cur.end());
        write_numbers(out.data(), n);
        return 0;
    }
    // mode 2: one shot's traces and its gradient, every bracket kept (one segment).
    int nt = (int)read_numbers(1)[0];
    auto wavelet = read_numbers(nt);
    double cell_volume = read_numbers(1)[0];
    std::vector<long> src_idx;
    std::vector<float> src_w;
    points(src_idx, src_w);
    int receivers = (int)read_numbers(1)[0];
    std::vector<int> first{0};
    std::vector<long> rec_idx;
    std::vector<float> rec_w;
    for (int r = 0; r < receivers; r++) {
        points(rec_idx, rec_w);
        first.push_back((int)rec_idx.size());
    }
    auto cot = read_numbers((size_t)receivers * nt);
    // The receivers' transpose by grid point, contributions in receiver order (as shots.rs).
    std::map<long, std::vector<std::pair<int, float>>> by_point;
    for (int r = 0; r < receivers; r++)
        for (int j = first[r]; j < first[r + 1]; j++) by_point[rec_idx[j]].push_back({r, rec_w[j]});
    std::vector<int> adj_first{0}, adj_receiver;
    std::vector<long> adj_idx;
    std::vector<float> adj_weight;
    for (auto& [i, contributions] : by_point) {
        adj_idx.push_back(i);
        for (auto& [r, w] : contributions) {
            adj_receiver.push_back(r);
            adj_weight.push_back(w);
        }
        adj_first.push_back((int)adj_receiver.size());
    }
    int per_source = (int)src_idx.size(), adj_points = (int)adj_idx.size();
    std::vector<double> traces((size_t)receivers * nt, 0.0);
    std::vector<Field> brackets(nt - 1, Field(n, 0.0f));
    dim3 rec_grid{(unsigned)((receivers + 63) / 64), 1, 1}, rec_block{64, 1, 1};
    for (int k = 0; k + 1 < nt; k++) {
        wv.step(s, brackets[k].data());
        float amplitude = (float)(wavelet[k] / cell_volume);
        if (amplitude != 0.0f)
            launch({1, 1, 1}, {(unsigned)per_source, 1, 1}, [&] {
                wave_inject(n, 1, per_source, 0, amplitude, src_idx.data(), src_w.data(),
                            wv.w.data(), s.cur.data(), brackets[k].data());
            });
        launch(rec_grid, rec_block, [&] {
            wave_record(n, 1, receivers, nt, k + 1, first.data(), rec_idx.data(), rec_w.data(),
                        s.cur.data(), traces.data());
        });
    }
    State adj = zero_state(n);
    Field q(n, 0.0f), t[3] = {Field(n, 0.0f), Field(n, 0.0f), Field(n, 0.0f)};
    std::vector<double> grad(n, 0.0);
    for (int k = nt - 2; k >= 0; k--) {
        launch({(unsigned)((adj_points + 63) / 64), 1, 1}, {64, 1, 1}, [&] {
            wave_inject_adjoint(n, 1, adj_points, receivers, nt, k + 1, adj_first.data(),
                                adj_idx.data(), adj_receiver.data(), adj_weight.data(), cot.data(),
                                adj.cur.data());
        });
        launch({(unsigned)((n + 255) / 256), 1, 1}, {256, 1, 1}, [&] {
            wave_gradient_accumulate(n, adj.cur.data(), brackets[k].data(), grad.data());
        });
        wv.step_adjoint(adj, q, t);
    }
    write_numbers(traces.data(), traces.size());
    write_numbers(grad.data(), n);
    return 0;
}
