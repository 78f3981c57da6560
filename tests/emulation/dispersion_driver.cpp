// Host driver of kernels/dispersion_curves.cu for tests/emulated_dispersion.rs: reads a batch
// from stdin, launches the four entry points as src/gpu/dispersion.rs does (blocks of 64
// threads over members × queries) and writes every result to stdout.
//
// Input (whitespace-separated numbers): members layers queries, then the models
// (members × layers × 4: thickness, vp, vs, rho per layer), then per query: wave period mode.
// Output: phase, group, group (from dispersion_group_gradient), phase gradient, group gradient,
// each member-major (see the kernel file).

extern "C" void dispersion_phase(const double* models, int layers, int members, const int* waves,
                                 const double* periods, const int* modes, int queries, double* phase);
extern "C" void dispersion_group(const double* models, int layers, int members, const int* waves,
                                 const double* periods, int queries, const double* phase, double* group);
extern "C" void dispersion_phase_gradient(const double* models, int layers, int members, const int* waves,
                                          const double* periods, int queries, const double* phase,
                                          double* gradient);
extern "C" void dispersion_group_gradient(const double* models, int layers, int members, const int* waves,
                                          const double* periods, int queries, const double* phase,
                                          double* group, double* gradient);

int main() {
    std::vector<double> head = read_numbers(3);
    int members = (int)head[0], layers = (int)head[1], queries = (int)head[2];
    std::vector<double> models = read_numbers((size_t)members * layers * 4);
    std::vector<double> q = read_numbers((size_t)queries * 3);
    std::vector<int> waves(queries), modes(queries);
    std::vector<double> periods(queries);
    for (int j = 0; j < queries; j++) {
        waves[j] = (int)q[3 * j];
        periods[j] = q[3 * j + 1];
        modes[j] = (int)q[3 * j + 2];
    }
    size_t n = (size_t)members * queries;
    std::vector<double> phase(n), group(n), group2(n), dphase(n * 4 * layers), dgroup(n * 4 * layers);
    dim3 block;
    block.x = 64;
    dim3 grid;
    grid.x = (unsigned)((n + 63) / 64);
    launch(grid, block, [&] {
        dispersion_phase(models.data(), layers, members, waves.data(), periods.data(), modes.data(), queries,
                         phase.data());
    });
    launch(grid, block, [&] {
        dispersion_group(models.data(), layers, members, waves.data(), periods.data(), queries, phase.data(),
                         group.data());
    });
    launch(grid, block, [&] {
        dispersion_phase_gradient(models.data(), layers, members, waves.data(), periods.data(), queries,
                                  phase.data(), dphase.data());
    });
    launch(grid, block, [&] {
        dispersion_group_gradient(models.data(), layers, members, waves.data(), periods.data(), queries,
                                  phase.data(), group2.data(), dgroup.data());
    });
    write_numbers(phase.data(), n);
    write_numbers(group.data(), n);
    write_numbers(group2.data(), n);
    write_numbers(dphase.data(), dphase.size());
    write_numbers(dgroup.data(), dgroup.size());
    return 0;
}
