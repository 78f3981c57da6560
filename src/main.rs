//! The geobayes command: one SPMD binary (`geobayes run cfg.yaml`, or under `mpirun`/`srun`).

fn main() {
    std::process::exit(geobayes::cli::main());
}
