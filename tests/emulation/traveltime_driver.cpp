// Host driver of kernels/eikonal_fim.cu (tests/emulated_traveltime.rs): the launch sequence of
// src/gpu/traveltime.rs (init, forward sweeps until unchanged, adjoint coefficients, adjoint
// sweeps until unchanged, gradients), with the kernel's threads run one after another.
//
// stdin: ndim, shape[3], spacing[3], origin[3], pairs, members, max_iterations; member[pairs];
// source positions[3 pairs]; source slowness[pairs]; slowness[members × n]; τ̄[pairs × n].
// stdout: forward sweeps (−1: no convergence), adjoint sweeps (−1: no convergence), τ, T and
// ∂L/∂s per (pair, node), ∂L/∂s_src per pair.
#include <utility>

// Declarations of kernels/eikonal_fim.cu (a separate translation unit).
struct EikonalGrid {
    int ndim;
    int shape[3];
    double spacing[3];
    double origin[3];
};
const int SLOTS = 12;
extern "C" {
void eikonal_init(EikonalGrid g, int pairs, const int* member, const double* slowness,
                  const double* src_pos, const double* src_slowness, double* tau, double* time,
                  double* excl, int* rules, int* box);
void eikonal_sweep(EikonalGrid g, int pairs, const int* member, const double* slowness,
                   const double* src_pos, const int* box, const double* tau_old,
                   const double* time_old, const double* excl_old, double* tau_new,
                   double* time_new, double* excl_new, int* rules, int* changed);
void eikonal_adjoint_coefficients(EikonalGrid g, int pairs, const int* member,
                                  const double* slowness, const double* src_pos, const int* box,
                                  const double* tau, const int* rules, long long* dep,
                                  double* coef, double* s_coef);
void eikonal_adjoint_sweep(EikonalGrid g, int pairs, const double* r, const long long* dep,
                           const double* coef, const double* lambda_old, double* lambda_new,
                           int* changed);
void eikonal_adjoint_gradient(EikonalGrid g, int pairs, const double* lambda,
                              const double* s_coef, double* grad_slowness);
void eikonal_source_gradient(EikonalGrid g, int pairs, const double* src_pos,
                             const double* lambda, double* grad_source);
}

int main() {
    std::vector<double> h = read_numbers(13);
    EikonalGrid g;
    g.ndim = (int)h[0];
    for (int a = 0; a < 3; a++) {
        g.shape[a] = (int)h[1 + a];
        g.spacing[a] = h[4 + a];
        g.origin[a] = h[7 + a];
    }
    int pairs = (int)h[10], members = (int)h[11], max_iterations = (int)h[12];
    long long n = (long long)g.shape[0] * g.shape[1] * g.shape[2];
    long long total = pairs * n;
    std::vector<double> member_f = read_numbers(pairs);
    std::vector<int> member(member_f.begin(), member_f.end());
    std::vector<double> src_pos = read_numbers(3 * pairs);
    std::vector<double> src_s = read_numbers(pairs);
    std::vector<double> slowness = read_numbers(members * n);
    std::vector<double> tau_bar = read_numbers(total);

    std::vector<double> tau[2] = {std::vector<double>(total), std::vector<double>(total)};
    std::vector<double> time[2] = {std::vector<double>(total), std::vector<double>(total)};
    std::vector<double> excl[2] = {std::vector<double>(6 * total), std::vector<double>(6 * total)};
    std::vector<int> rules(total), box(total);
    dim3 block{128, 1, 1};
    dim3 grid{(unsigned)((total + 127) / 128), 1, 1};
    launch(grid, block, [&] {
        eikonal_init(g, pairs, member.data(), slowness.data(), src_pos.data(), src_s.data(),
                     tau[0].data(), time[0].data(), excl[0].data(), rules.data(), box.data());
    });
    int cur = 0, sweeps = -1;
    for (int it = 1; it <= max_iterations; it++) {
        int changed = 0;
        launch(grid, block, [&] {
            eikonal_sweep(g, pairs, member.data(), slowness.data(), src_pos.data(), box.data(),
                          tau[cur].data(), time[cur].data(), excl[cur].data(),
                          tau[1 - cur].data(), time[1 - cur].data(), excl[1 - cur].data(),
                          rules.data(), &changed);
        });
        cur = 1 - cur;
        if (!changed) {
            sweeps = it;
            break;
        }
    }

    std::vector<long long> dep(total * SLOTS);
    std::vector<double> coef(total * SLOTS), s_coef(total);
    launch(grid, block, [&] {
        eikonal_adjoint_coefficients(g, pairs, member.data(), slowness.data(), src_pos.data(),
                                     box.data(), tau[cur].data(), rules.data(), dep.data(),
                                     coef.data(), s_coef.data());
    });
    std::vector<double> lambda[2] = {tau_bar, std::vector<double>(total)};
    int lc = 0, adjoint_sweeps = -1;
    for (int it = 1; it <= max_iterations; it++) {
        int changed = 0;
        launch(grid, block, [&] {
            eikonal_adjoint_sweep(g, pairs, tau_bar.data(), dep.data(), coef.data(),
                                  lambda[lc].data(), lambda[1 - lc].data(), &changed);
        });
        lc = 1 - lc;
        if (!changed) {
            adjoint_sweeps = it;
            break;
        }
    }
    std::vector<double> grad_s(total), grad_src(pairs);
    launch(grid, block, [&] {
        eikonal_adjoint_gradient(g, pairs, lambda[lc].data(), s_coef.data(), grad_s.data());
    });
    launch(dim3{(unsigned)((pairs + 127) / 128), 1, 1}, block, [&] {
        eikonal_source_gradient(g, pairs, src_pos.data(), lambda[lc].data(), grad_src.data());
    });
    double counts[2] = {(double)sweeps, (double)adjoint_sweeps};
    write_numbers(counts, 2);
    write_numbers(tau[cur].data(), total);
    write_numbers(time[cur].data(), total);
    write_numbers(grad_s.data(), total);
    write_numbers(grad_src.data(), pairs);
    return 0;
}
