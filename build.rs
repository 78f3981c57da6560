//! Links HDF5's high-level library (for netCDF-4 dimension scales, H5DS*) and records the git
//! commit for the result files' provenance.

use std::process::Command;

fn main() {
    // Debian/Ubuntu put the serial HDF5 libraries here; `pkg-config --libs hdf5` names only -lhdf5.
    for dir in [
        "/usr/lib/x86_64-linux-gnu/hdf5/serial",
        "/usr/lib/aarch64-linux-gnu/hdf5/serial",
    ] {
        if std::path::Path::new(dir).exists() {
            println!("cargo:rustc-link-search=native={dir}");
        }
    }
    if let Ok(dir) = std::env::var("HDF5_DIR") {
        println!("cargo:rustc-link-search=native={dir}/lib");
    }
    println!("cargo:rustc-link-lib=dylib=hdf5_hl");
    println!("cargo:rerun-if-env-changed=HDF5_DIR");

    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=GEOBAYES_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
