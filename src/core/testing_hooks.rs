//! Test-only fault injection through environment variables, so that integration tests can kill
//! a run at exact points and check that nothing is lost and nothing stands half-written:
//!
//! - `GEOBAYES_TEST_ABORT_AFTER_CHECKPOINT=k`: abort the process right after the k-th checkpoint
//!   (1-based) has been written and renamed into place;
//! - `GEOBAYES_TEST_ABORT_DURING_WRITE=k`: abort during the k-th result write, after the
//!   temporary file is complete but before it is renamed.
//!
//! Neither is set in normal use; reading them costs one environment lookup per write.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static WRITES: AtomicUsize = AtomicUsize::new(0);
static CHECKPOINTS: AtomicUsize = AtomicUsize::new(0);

fn env_count(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

/// Called after a temporary result file has been written, before it is renamed.
pub fn after_temporary_write(_tmp: &Path) {
    let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    if env_count("GEOBAYES_TEST_ABORT_DURING_WRITE") == Some(n) {
        eprintln!("test hook: aborting during result write {n}");
        std::process::abort();
    }
}

/// Called after a checkpoint is in place under its final name.
pub fn after_checkpoint() {
    let n = CHECKPOINTS.fetch_add(1, Ordering::SeqCst) + 1;
    if env_count("GEOBAYES_TEST_ABORT_AFTER_CHECKPOINT") == Some(n) {
        eprintln!("test hook: aborting after checkpoint {n}");
        std::process::abort();
    }
}
