//! Runs a peer-comparison script (`scripts/bench_*.py`) with the given Python: the cases go in
//! as JSON on stdin, the measurements come back as a JSON list on stdout.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The script's JSON list of results, or why there is none (the bench reports it and goes on
/// with its own measurements).
pub(super) fn run_script(
    python: &Path,
    script: &str,
    input: &str,
) -> std::result::Result<Vec<serde_json::Value>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(script);
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}); give --python or run scripts/install_bench_peers.sh",
                python.display()
            )
        })?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", script.display(), out.status));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{} output is not JSON: {e}", script.display()))?;
    v.as_array()
        .cloned()
        .ok_or_else(|| format!("{} output is not a list", script.display()))
}
