// Batched travel times: physics::eikonal::fmm (FmmWorkspace::solve, local_update, axis_term,
// estimate, initial_box; Cartesian geometry only) solved by parallel Jacobi iteration, and
// physics::eikonal::adjoint::adjoint_into by Jacobi iteration of the transposed system.
//
// Every thread owns one (pair, node); a pair is a point source with the slowness field of its
// member. The forward sweep recomputes each node as fast marching leaves it when it is accepted,
// with fast marching's acceptance order ("a before b") read from the previous iterate (read one
// buffer, write the other; the host repeats sweeps until no value, rule or exclusion changes):
//  - box nodes come first (fast marching accepts the whole initial box first);
//  - two face neighbours a, b by X_a(without b) < X_b(without a), X being each node's value with
//    that one neighbour left out (the `excl` buffers): whichever of the two fast marching pops
//    first had the smaller trial value while the other was not yet accepted. Where neither uses
//    the other this is T_a < T_b; where they would use each other (two nearly simultaneous
//    neighbours along a curve ∂_kT ≈ 0, where the plain T rule has no fixed point and the sweeps
//    cycle) it reproduces fast marching's non-monotone order;
//  - any other two nodes by (T, node index), the heap's order (ties to the smaller index).
// Fast marching recomputes a trial node i from scratch when a face neighbour is accepted, and
// when an edge neighbour is accepted while i's rules have an axis that is not one-sided in the
// plane of that diagonal; the last recomputation before i is accepted gives i's value, and sees
// exactly the nodes accepted up to its trigger. The sweep replays this (`node_update`): the update
// triggered by the latest face neighbour accepted before i, then, in acceptance order, every edge
// neighbour accepted after it and before i, each recomputing i if the rules of the current value
// say fast marching would. In each update the face neighbours accepted before i are known, and
// any other node (j₂ of a second-order difference, the nodes of an estimate) is known when it is
// in the box, is the trigger, or came before the trigger. At the fixed point every node holds the
// value fast marching computes from the same acceptance order. Measured
// (tests/emulated_traveltime.rs, 26 random 2D and 3D cases): times bit-identical to the CPU,
// gradients within 3.1e-15 relative.
// The converged rules define τ_i = f_i(τ_upwind), a triangular system, whose transpose
// λ = r + (∂f/∂τ)ᵀ λ is iterated the same way until λ stops changing (exact after as many
// sweeps as the longest dependency chain), gathering each node's coefficients from the nodes
// that can depend on it.
//
// No headers (NVRTC), double precision; also compiled as host C++ with
// tests/emulation/cuda_host.h, so threads never communicate within a launch.

#define FAR_TIME 1e300

// Rules of one axis, as in fmm.rs; a node's rules packed one byte per axis (axis k at bits 8k).
#define R_UNUSED 0
#define R_MINUS_FIRST 1
#define R_MINUS_SECOND 2
#define R_PLUS_FIRST 3
#define R_PLUS_SECOND 4
#define R_ESTIMATED 0x80
#define R_DIAG_BOTH 1
#define R_DIAG_PLUS 2
#define R_DIAG_MINUS 3
#define R_INITIAL 0xFF

// Dependency slots per node in the adjoint: up to 4 per axis.
#define SLOTS 12

// A Cartesian grid (km): axes beyond `ndim` have shape 1. Node index = x fastest.
struct EikonalGrid {
    int ndim;
    int shape[3];
    double spacing[3];
    double origin[3];
};

__device__ __forceinline__ long long thread_index() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long grid_nodes(const EikonalGrid& g) {
    return (long long)g.shape[0] * g.shape[1] * g.shape[2];
}

__device__ void node_coords(const EikonalGrid& g, long long i, int* c, long long* st) {
    long long rest = i;
    long long s = 1;
    for (int a = 0; a < 3; a++) {
        c[a] = (int)(rest % g.shape[a]);
        rest /= g.shape[a];
        st[a] = s;
        s *= g.shape[a];
    }
}

// Cartesian::node_factor: T₀ = |x − x_s| and ∇T₀ (zero at the source).
__device__ void node_factor(const EikonalGrid& g, const int* c, const double* src, double* t0,
                            double* grad) {
    double diff[3];
    double r2 = 0.0;
    for (int a = 0; a < g.ndim; a++) {
        diff[a] = g.origin[a] + g.spacing[a] * (double)c[a] - src[a];
        r2 += diff[a] * diff[a];
    }
    double r = sqrt(r2);
    for (int a = 0; a < 3; a++) grad[a] = (a < g.ndim && r > 0.0) ? diff[a] / r : 0.0;
    *t0 = r;
}

// fmm::initial_box: the inclusive node range [lo, hi] per axis of the trapezoid box.
__device__ void box_bounds(const EikonalGrid& g, const double* src, int* lo, int* hi) {
    double h_max = 0.0;
    for (int a = 0; a < g.ndim; a++) h_max = fmax(h_max, g.spacing[a]);
    for (int a = 0; a < 3; a++) {
        if (a >= g.ndim) {
            lo[a] = 0;
            hi[a] = 0;
            continue;
        }
        double u = (src[a] - g.origin[a]) / g.spacing[a];
        double f = fmax(floor(u), 0.0);
        int cell = f > (double)(g.shape[a] - 2) ? g.shape[a] - 2 : (int)f;
        int w = (int)ceil(2.0 * h_max / g.spacing[a]);
        if (w < 2) w = 2;
        lo[a] = cell - (w - 1) < 0 ? 0 : cell - (w - 1);
        hi[a] = cell + w > g.shape[a] - 1 ? g.shape[a] - 1 : cell + w;
    }
}

// One axis term of fmm::axis_term: A and B's dependencies (node, weight), B = Σ w τ_node.
struct Term {
    double a;
    long long node[4];
    double w[4];
    int n;
};

__device__ __forceinline__ bool one_sided(int code) {
    return code >= R_MINUS_FIRST && code <= R_PLUS_SECOND;
}

__device__ Term axis_term(const EikonalGrid& g, const long long* st, long long i, int k,
                          int code, double t0, const double* grad) {
    Term t;
    t.a = 0.0;
    t.n = 0;
    if (code == R_UNUSED) return t;
    if (one_sided(code)) {
        long long dir = code <= R_MINUS_SECOND ? -1 : 1;
        double h = g.spacing[k];
        long long j1 = i + dir * st[k];
        double a0 = -(double)dir * grad[k];
        if (code == R_MINUS_SECOND || code == R_PLUS_SECOND) {
            t.a = a0 + t0 * 1.5 / h;
            t.node[0] = j1;
            t.w[0] = t0 * 2.0 / h;
            t.node[1] = j1 + dir * st[k];
            t.w[1] = -t0 * 0.5 / h;
            t.n = 2;
        } else {
            t.a = a0 + t0 / h;
            t.node[0] = j1;
            t.w[0] = t0 / h;
            t.n = 1;
        }
        return t;
    }
    int via = (code >> 4) & 0x3;
    long long via_dir = (code & 0x08) ? 1 : -1;
    bool extrapolated = (code & 0x04) != 0;
    int diagonal = code & 0x03;
    long long j = i + via_dir * st[via];
    long long sk = st[k];
    double w = t0 / g.spacing[k];
    t.a = grad[k];
    if (extrapolated) {
        long long j2 = j + via_dir * st[via];
        double w2 = t0 / g.spacing[k];
        t.node[0] = j + sk;
        t.w[0] = -w;
        t.node[1] = j - sk;
        t.w[1] = w;
        t.node[2] = j2 + sk;
        t.w[2] = 0.5 * w2;
        t.node[3] = j2 - sk;
        t.w[3] = -0.5 * w2;
        t.n = 4;
        return t;
    }
    if (diagonal == R_DIAG_BOTH) {
        t.node[0] = j + sk;
        t.w[0] = -0.5 * w;
        t.node[1] = j - sk;
        t.w[1] = 0.5 * w;
    } else if (diagonal == R_DIAG_PLUS) {
        t.node[0] = j + sk;
        t.w[0] = -w;
        t.node[1] = j;
        t.w[1] = w;
    } else {
        t.node[0] = j;
        t.w[0] = -w;
        t.node[1] = j - sk;
        t.w[1] = w;
    }
    t.n = 2;
    return t;
}

__device__ __forceinline__ double term_b(const Term& t, const double* tau) {
    double b = 0.0;
    for (int m = 0; m < t.n; m++) b += t.w[m] * tau[t.node[m]];
    return b;
}

// What the sweep reads of one pair: the previous iterate (τ, T, and X: each node's value with one
// face neighbour left out, per direction 2k + (dir > 0)), the box mask, node i's index, time and
// exclusions, the face neighbour this update leaves out (−1: none), and the trigger of the update
// being replayed: the node whose acceptance made fast marching recompute i (offset from i), or
// the initial box.
struct Upwind {
    const double* tau;
    const double* time;
    const double* excl;
    const int* box;
    long long i;
    double ti;
    const double* xi;
    long long excluded;
    long long last;
    int last_off[3];
    bool last_box;
};

// Whether node a (offset oa from i) was accepted before node b (offset ob): box nodes first; two
// face neighbours by their values without each other (X, as fast marching's heap: the one popped
// first had the smaller value while the other was not accepted); any other two by (T, index), the
// heap's order.
__device__ bool before(const Upwind& u, long long a, const int* oa, long long b, const int* ob) {
    bool ba = u.box[a] != 0, bb = u.box[b] != 0;
    if (ba || bb) return ba && !bb;
    int dist = 0, axis = 0;
    for (int k = 0; k < 3; k++) {
        int d = ob[k] - oa[k];
        if (d != 0) axis = k;
        dist += d < 0 ? -d : d;
    }
    if (dist == 1) {
        int d = 2 * axis + (ob[axis] > oa[axis] ? 1 : 0);  // direction from a to b
        double xa = u.excl[6 * a + d], xb = u.excl[6 * b + (d ^ 1)];
        return xa < xb || (xa == xb && a < b);
    }
    return u.time[a] < u.time[b] || (u.time[a] == u.time[b] && a < b);
}

// "Accepted when i was last recomputed" for a node that is not a face neighbour of i (offset o):
// in the initial box, or the trigger itself, or accepted before the trigger.
__device__ bool known(const Upwind& u, long long j, const int* o) {
    if (j == u.excluded) return false;
    if (u.box[j] != 0) return true;
    if (u.last_box) return false;
    if (j == u.last) return true;
    return before(u, j, o, u.last, u.last_off);
}

// "Accepted before i" for the face neighbour j of i in direction d: each one's value without
// the other (X, from the previous iterate) decides, as fast marching's heap does. Equals
// T_j < T_i unless i and j use each other.
__device__ __forceinline__ bool known_face(const Upwind& u, long long j, int d) {
    if (j == u.excluded) return false;
    if (u.box[j] != 0) return true;
    double xj = u.excl[6 * j + (d ^ 1)], xi = u.xi[d];
    return xj < xi || (xj == xi && j < u.i);
}

// FmmWorkspace::estimate.
__device__ int estimate(const EikonalGrid& g, const Upwind& u, const int* c, const long long* st,
                        long long j, int via, int via_code, int k) {
    long long sk = st[k];
    bool has_minus = c[k] > 0, has_plus = c[k] + 1 < g.shape[k];
    int o[3] = {0, 0, 0};
    int via_dir = via_code <= R_MINUS_SECOND ? -1 : 1;
    o[via] = via_dir;
    o[k] = 1;
    bool plus = has_plus && known(u, j + sk, o);
    o[k] = -1;
    bool minus = has_minus && known(u, j - sk, o);
    int diagonal;
    if (plus && minus)
        diagonal = R_DIAG_BOTH;
    else if (plus)
        diagonal = R_DIAG_PLUS;
    else if (minus)
        diagonal = R_DIAG_MINUS;
    else
        return R_UNUSED;
    bool j2_exists = via_dir < 0 ? c[via] >= 2 : c[via] + 2 < g.shape[via];
    bool extrapolated = false;
    if (diagonal == R_DIAG_BOTH && j2_exists) {
        long long j2 = j + via_dir * st[via];
        o[via] = 2 * via_dir;
        o[k] = 1;
        bool p2 = known(u, j2 + sk, o);
        o[k] = -1;
        extrapolated = p2 && known(u, j2 - sk, o);
    }
    return R_ESTIMATED | via << 4 | (via_dir > 0 ? 1 : 0) << 3 | (extrapolated ? 1 : 0) << 2 |
           diagonal;
}

__device__ __forceinline__ int popcount3(int x) { return (x & 1) + (x >> 1 & 1) + (x >> 2 & 1); }

// FmmWorkspace::local_update: the smallest causal candidate of the largest subset size of axes
// with a one-sided difference. Returns false when no neighbour is accepted.
__device__ bool local_update(const EikonalGrid& g, const Upwind& u, const int* c,
                             const long long* st, long long i, double s, double t0,
                             const double* grad, double* tau_out, int* rules_out) {
    const int D = g.ndim;
    int sided[3] = {R_UNUSED, R_UNUSED, R_UNUSED};
    long long j1[3] = {0, 0, 0};
    double a_sided[3] = {0.0, 0.0, 0.0}, b_sided[3] = {0.0, 0.0, 0.0};
    int available = 0;
    for (int k = 0; k < D; k++) {
        long long sk = st[k];
        bool minus = c[k] > 0 && known_face(u, i - sk, 2 * k);
        bool plus = c[k] + 1 < g.shape[k] && known_face(u, i + sk, 2 * k + 1);
        int dir;
        if (minus && plus)
            dir = u.time[i + sk] < u.time[i - sk] ? 1 : -1;
        else if (minus)
            dir = -1;
        else if (plus)
            dir = 1;
        else
            continue;
        long long n1 = i + dir * sk;
        bool has_j2 = dir < 0 ? c[k] >= 2 : c[k] + 2 < g.shape[k];
        bool second = false;
        if (has_j2) {
            long long n2 = n1 + dir * sk;
            // Fast marching sees j₂ only if it was accepted when i was last recomputed.
            int o[3] = {0, 0, 0};
            o[k] = 2 * dir;
            second = known(u, n2, o) && u.time[n2] <= u.time[n1];
        }
        sided[k] = dir < 0 ? (second ? R_MINUS_SECOND : R_MINUS_FIRST)
                           : (second ? R_PLUS_SECOND : R_PLUS_FIRST);
        j1[k] = n1;
        Term t = axis_term(g, st, i, k, sided[k], t0, grad);
        a_sided[k] = t.a;
        b_sided[k] = term_b(t, u.tau);
        available |= 1 << k;
    }
    if (available == 0) return false;
    int unavailable = ~available & ((1 << D) - 1);
    bool found = false;
    double best = 0.0;
    int best_rules = 0;
    for (int size = popcount3(available); size >= 1; size--) {
        for (int subset = 1; subset < (1 << D); subset++) {
            if ((subset & ~available) != 0 || popcount3(subset) != size) continue;
            int via = -1;
            for (int k = 0; k < D; k++)
                if ((subset >> k & 1) && (via < 0 || u.time[j1[k]] < u.time[j1[via]])) via = k;
            int rules = 0;
            double qa = 0.0, qb = 0.0, qc = -s * s;
            for (int k = 0; k < D; k++) {
                double a, b;
                if (subset >> k & 1) {
                    rules |= sided[k] << (8 * k);
                    a = a_sided[k];
                    b = b_sided[k];
                } else if (unavailable >> k & 1) {
                    int code = estimate(g, u, c, st, j1[via], via, sided[via], k);
                    rules |= code << (8 * k);
                    Term t = axis_term(g, st, i, k, code, t0, grad);
                    a = t.a;
                    b = term_b(t, u.tau);
                } else {
                    continue;  // left out of this candidate: the Godunov choice
                }
                qa += a * a;
                qb += a * b;
                qc += b * b;
            }
            double disc = qb * qb - qa * qc;
            if (disc < 0.0 || qa <= 0.0) continue;
            double tau = (qb + sqrt(disc)) / qa;
            bool causal = true;
            for (int k = 0; k < D; k++)
                if ((subset >> k & 1) && !(a_sided[k] * tau - b_sided[k] >= 0.0)) causal = false;
            if (causal && (!found || tau < best)) {
                found = true;
                best = tau;
                best_rules = rules;
            }
        }
        if (found) break;
    }
    *tau_out = best;
    *rules_out = best_rules;
    return found;
}

// Node i's value as fast marching leaves it when i is accepted: recomputed whenever a face
// neighbour is accepted and, while i's rules have an axis that is not one-sided in the plane of
// the diagonal, whenever an edge neighbour is accepted (FmmWorkspace::update_neighbours); the
// last of these updates counts, and sees the nodes accepted up to its trigger. Replays the
// updates from the latest face neighbour accepted before i (earlier ones are overwritten) through
// the later edge neighbours, in acceptance order. Returns false when no face neighbour is
// accepted before i.
__device__ bool node_update(const EikonalGrid& g, Upwind u, const int* c, const long long* st,
                            long long i, double s, double t0, const double* grad,
                            double* tau_out, int* rules_out) {
    const int D = g.ndim;
    bool have = false;
    long long f = -1;
    int f_off[3] = {0, 0, 0};
    for (int k = 0; k < D; k++)
        for (int side = 0; side < 2; side++) {
            if (side ? c[k] + 1 >= g.shape[k] : c[k] == 0) continue;
            long long j = side ? i + st[k] : i - st[k];
            if (!known_face(u, j, 2 * k + side)) continue;
            int o[3] = {0, 0, 0};
            o[k] = side ? 1 : -1;
            if (!have || before(u, f, f_off, j, o)) {
                f = j;
                for (int a = 0; a < 3; a++) f_off[a] = o[a];
            }
            have = true;
        }
    if (!have) return false;
    u.last = f;
    for (int a = 0; a < 3; a++) u.last_off[a] = f_off[a];
    u.last_box = u.box[f] != 0;
    if (!local_update(g, u, c, st, i, s, t0, grad, tau_out, rules_out)) return false;
    // Edge neighbours accepted after f and before i, in acceptance order (never face neighbours
    // of one another, so (T, index) orders them).
    long long edge[12];
    int edge_off[12][3];
    int edges = 0;
    for (int a = 0; a < D; a++)
        for (int b = a + 1; b < D; b++)
            for (int sa = -1; sa <= 1; sa += 2)
                for (int sb = -1; sb <= 1; sb += 2) {
                    if (c[a] + sa < 0 || c[a] + sa >= g.shape[a] || c[b] + sb < 0 ||
                        c[b] + sb >= g.shape[b])
                        continue;
                    int o[3] = {0, 0, 0};
                    o[a] = sa;
                    o[b] = sb;
                    long long m = i + sa * st[a] + sb * st[b];
                    if (u.box[m] != 0) continue;
                    if (!(u.time[m] < u.ti || (u.time[m] == u.ti && m < i))) continue;
                    if (!u.last_box && !before(u, f, f_off, m, o)) continue;
                    int e = edges++;
                    while (e > 0 && (u.time[edge[e - 1]] > u.time[m] ||
                                     (u.time[edge[e - 1]] == u.time[m] && edge[e - 1] > m))) {
                        edge[e] = edge[e - 1];
                        for (int x = 0; x < 3; x++) edge_off[e][x] = edge_off[e - 1][x];
                        e--;
                    }
                    edge[e] = m;
                    for (int x = 0; x < 3; x++) edge_off[e][x] = o[x];
                }
    for (int e = 0; e < edges; e++) {
        int a = -1, b = -1;
        for (int x = 0; x < D; x++)
            if (edge_off[e][x] != 0) {
                if (a < 0)
                    a = x;
                else
                    b = x;
            }
        if (one_sided(*rules_out >> (8 * a) & 0xFF) && one_sided(*rules_out >> (8 * b) & 0xFF))
            continue;
        u.last = edge[e];
        for (int x = 0; x < 3; x++) u.last_off[x] = edge_off[e][x];
        u.last_box = false;
        double tau;
        int rules;
        // No causal candidate: fast marching keeps the previous value.
        if (local_update(g, u, c, st, i, s, t0, grad, &tau, &rules)) {
            *tau_out = tau;
            *rules_out = rules;
        }
    }
    return true;
}

// Initial state of every (pair, node): the trapezoid τ = (s_src + s_i)/2 in the source's box
// (box = 1, rules INITIAL), FAR_TIME elsewhere. `member[p]` selects the pair's slowness field.
extern "C" __global__ void eikonal_init(EikonalGrid g, int pairs, const int* member,
                                        const double* slowness, const double* src_pos,
                                        const double* src_slowness, double* tau, double* time,
                                        double* excl, int* rules, int* box) {
    long long n = grid_nodes(g);
    long long t = thread_index();
    if (t >= (long long)pairs * n) return;
    int p = (int)(t / n);
    long long i = t % n;
    int c[3];
    long long st[3];
    node_coords(g, i, c, st);
    const double* src = src_pos + 3 * p;
    int lo[3], hi[3];
    box_bounds(g, src, lo, hi);
    bool in_box = true;
    for (int a = 0; a < 3; a++) in_box = in_box && c[a] >= lo[a] && c[a] <= hi[a];
    if (in_box) {
        double t0, grad[3];
        node_factor(g, c, src, &t0, grad);
        double v = 0.5 * (src_slowness[p] + slowness[(long long)member[p] * n + i]);
        tau[t] = v;
        time[t] = t0 * v;
        int r = 0;
        for (int a = 0; a < g.ndim; a++) r |= R_INITIAL << (8 * a);
        rules[t] = r;
        box[t] = 1;
        for (int d = 0; d < 6; d++) excl[6 * t + d] = t0 * v;
    } else {
        tau[t] = FAR_TIME;
        time[t] = FAR_TIME;
        rules[t] = 0;
        box[t] = 0;
        for (int d = 0; d < 6; d++) excl[6 * t + d] = FAR_TIME;
    }
}

// One Jacobi sweep: (tau_old, time_old, excl_old) → (tau_new, time_new, excl_new) and the rules
// of the new value; sets *changed when any node's value, exclusions or rules changed. Box nodes
// are copied. excl holds 6 values per node: the update without the face neighbour of direction
// 2k + (dir > 0) when that neighbour is accepted, the node's value otherwise.
extern "C" __global__ void eikonal_sweep(EikonalGrid g, int pairs, const int* member,
                                         const double* slowness, const double* src_pos,
                                         const int* box, const double* tau_old,
                                         const double* time_old, const double* excl_old,
                                         double* tau_new, double* time_new, double* excl_new,
                                         int* rules, int* changed) {
    long long n = grid_nodes(g);
    long long t = thread_index();
    if (t >= (long long)pairs * n) return;
    int p = (int)(t / n);
    long long i = t % n;
    long long base = (long long)p * n;
    if (box[t] != 0) {
        tau_new[t] = tau_old[t];
        time_new[t] = time_old[t];
        for (int d = 0; d < 6; d++) excl_new[6 * t + d] = excl_old[6 * t + d];
        return;
    }
    int c[3];
    long long st[3];
    node_coords(g, i, c, st);
    double t0, grad[3];
    node_factor(g, c, src_pos + 3 * p, &t0, grad);
    Upwind u;
    u.tau = tau_old + base;
    u.time = time_old + base;
    u.excl = excl_old + 6 * base;
    u.box = box + base;
    u.i = i;
    u.ti = time_old[t];
    u.xi = excl_old + 6 * t;
    u.excluded = -1;
    u.last = -1;
    u.last_box = true;
    for (int a = 0; a < 3; a++) u.last_off[a] = 0;
    double s = slowness[(long long)member[p] * n + i];
    double tau, time;
    int r;
    if (node_update(g, u, c, st, i, s, t0, grad, &tau, &r)) {
        time = t0 * tau;
    } else {
        tau = FAR_TIME;
        time = FAR_TIME;
        r = 0;
    }
    bool diff = tau != tau_old[t] || r != rules[t];
    for (int d = 0; d < 6; d++) {
        // X toward the face neighbour m of direction d: the update without m when m is accepted.
        double x = time;
        int k = d >> 1;
        bool inside = k < g.ndim && ((d & 1) ? c[k] + 1 < g.shape[k] : c[k] > 0);
        if (inside) {
            long long m = (d & 1) ? i + st[k] : i - st[k];
            if (known_face(u, m, d)) {
                Upwind v = u;
                v.excluded = m;
                double tau_x;
                int r_x;
                x = node_update(g, v, c, st, i, s, t0, grad, &tau_x, &r_x) ? t0 * tau_x : FAR_TIME;
            }
        }
        diff = diff || x != excl_old[6 * t + d];
        excl_new[6 * t + d] = x;
    }
    tau_new[t] = tau;
    time_new[t] = time;
    rules[t] = r;
    if (diff) atomicOr(changed, 1);
}

// The adjoint's coefficients of every node from its converged rules (adjoint_into):
// ∂τ_i/∂τ_n = Σ_k D'_k w_kn / Q per dependency slot (dep = −1 unused) and ∂τ_i/∂s_i = s_i / Q
// (1/2 in the box).
extern "C" __global__ void eikonal_adjoint_coefficients(EikonalGrid g, int pairs,
                                                        const int* member, const double* slowness,
                                                        const double* src_pos, const int* box,
                                                        const double* tau, const int* rules,
                                                        long long* dep, double* coef,
                                                        double* s_coef) {
    long long n = grid_nodes(g);
    long long t = thread_index();
    if (t >= (long long)pairs * n) return;
    int p = (int)(t / n);
    long long i = t % n;
    for (int m = 0; m < SLOTS; m++) {
        dep[t * SLOTS + m] = -1;
        coef[t * SLOTS + m] = 0.0;
    }
    if (box[t] != 0) {
        s_coef[t] = 0.5;
        return;
    }
    int c[3];
    long long st[3];
    node_coords(g, i, c, st);
    double t0, grad[3];
    node_factor(g, c, src_pos + 3 * p, &t0, grad);
    const double* tp = tau + (long long)p * n;
    Term terms[3];
    double d_prime[3];
    double q = 0.0;
    for (int k = 0; k < g.ndim; k++) {
        terms[k] = axis_term(g, st, i, k, rules[t] >> (8 * k) & 0xFF, t0, grad);
        d_prime[k] = terms[k].a * tp[i] - term_b(terms[k], tp);
    }
    for (int k = 0; k < g.ndim; k++) q += d_prime[k] * terms[k].a;
    s_coef[t] = slowness[(long long)member[p] * n + i] / q;
    for (int k = 0; k < g.ndim; k++)
        for (int m = 0; m < terms[k].n; m++) {
            dep[t * SLOTS + 4 * k + m] = terms[k].node[m];
            coef[t * SLOTS + 4 * k + m] = d_prime[k] / q * terms[k].w[m];
        }
}

// One Jacobi sweep of the transposed system: λ_new(n) = r(n) + Σ_i λ_old(i) ∂τ_i/∂τ_n, gathered
// over the nodes i that can depend on n (offsets ±1, ±2 along one axis; (±1|±2, ±1) in a plane).
extern "C" __global__ void eikonal_adjoint_sweep(EikonalGrid g, int pairs, const double* r,
                                                 const long long* dep, const double* coef,
                                                 const double* lambda_old, double* lambda_new,
                                                 int* changed) {
    long long n = grid_nodes(g);
    long long t = thread_index();
    if (t >= (long long)pairs * n) return;
    int p = (int)(t / n);
    long long node = t % n;
    long long base = (long long)p * n;
    int c[3];
    long long st[3];
    node_coords(g, node, c, st);
    double acc = r[t];
    int ext[3];
    for (int a = 0; a < 3; a++) ext[a] = a < g.ndim ? 2 : 0;
    for (int oz = -ext[2]; oz <= ext[2]; oz++)
        for (int oy = -ext[1]; oy <= ext[1]; oy++)
            for (int ox = -ext[0]; ox <= ext[0]; ox++) {
                int o[3] = {ox, oy, oz};
                int nonzero = 0, twos = 0;
                bool inside = true;
                for (int a = 0; a < 3; a++) {
                    nonzero += o[a] != 0;
                    twos += o[a] == 2 || o[a] == -2;
                    int ci = c[a] - o[a];
                    inside = inside && ci >= 0 && ci < g.shape[a];
                }
                if (nonzero == 0 || nonzero > 2 || (nonzero == 2 && twos > 1) || !inside) continue;
                long long i = node - (o[0] * st[0] + o[1] * st[1] + o[2] * st[2]);
                double li = lambda_old[base + i];
                if (li == 0.0) continue;
                for (int m = 0; m < SLOTS; m++)
                    if (dep[(base + i) * SLOTS + m] == node)
                        acc += li * coef[(base + i) * SLOTS + m];
            }
    if (acc != lambda_old[t]) atomicOr(changed, 1);
    lambda_new[t] = acc;
}

// ∂L/∂s per (pair, node) from the converged λ.
extern "C" __global__ void eikonal_adjoint_gradient(EikonalGrid g, int pairs,
                                                    const double* lambda, const double* s_coef,
                                                    double* grad_slowness) {
    long long n = grid_nodes(g);
    long long t = thread_index();
    if (t >= (long long)pairs * n) return;
    grad_slowness[t] = lambda[t] * s_coef[t];
}

// ∂L/∂s_src per pair: Σ λ/2 over the pair's box (one thread per pair, box in reverse index
// order as fast marching's reverse acceptance order visits it).
extern "C" __global__ void eikonal_source_gradient(EikonalGrid g, int pairs,
                                                   const double* src_pos, const double* lambda,
                                                   double* grad_source) {
    long long p = thread_index();
    if (p >= pairs) return;
    long long n = grid_nodes(g);
    int lo[3], hi[3];
    box_bounds(g, src_pos + 3 * p, lo, hi);
    long long st1 = g.shape[0], st2 = (long long)g.shape[0] * g.shape[1];
    double sum = 0.0;
    for (int z = hi[2]; z >= lo[2]; z--)
        for (int y = hi[1]; y >= lo[1]; y--)
            for (int x = hi[0]; x >= lo[0]; x--) sum += 0.5 * lambda[p * n + x + y * st1 + z * st2];
    grad_source[p] = sum;
}
