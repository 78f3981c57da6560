//! Configuration: one YAML file → serde structs (`raw`, `deny_unknown_fields`) → one validation
//! pass (`check`) that reports every problem at once with its key path → checked types (`spec`).
//! Paths inside a config are relative to the config file. `--set key.path=value` overrides are
//! applied to the YAML tree before parsing.

mod analytic;
mod check;
mod dispersion;
mod fwi;
pub mod hypotheses;
pub mod keys;
mod method;
mod problem;
pub mod raw;
pub mod spec;

use std::path::Path;

use serde_yaml_ng::Value;

use crate::core::error::{ConfigIssue, Error, Result};
pub use check::{Issues, Mode, read_values, resolve, validate_with};
pub use keys::KeyLines;
pub use method::{CheckedMethod, EvidenceInputs, MethodCatalog, MethodCheck};

/// Reads a config file, applies `key.path=value` overrides and parses it into the raw structs.
/// Returns the raw config and the text it was parsed from.
pub fn load(path: &Path, overrides: &[String]) -> Result<(raw::RawConfig, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "config file not found".to_string()
        } else {
            e.to_string()
        };
        Error::input(path, why)
    })?;
    let mut lines = KeyLines::from_text(&text);
    let text = if overrides.is_empty() {
        text
    } else {
        for item in overrides {
            lines.overridden(item.split_once('=').map_or(item.as_str(), |(k, _)| k));
        }
        apply_overrides(path, &text, overrides)?
    };
    let mut parsed = parse(&text).map_err(|mut issue| {
        issue.line = issue.line.or_else(|| lines.line(&issue.key));
        Error::Config {
            file: path.to_path_buf(),
            issues: vec![issue],
        }
    })?;
    parsed.lines = lines;
    Ok((parsed, text))
}

/// Parses a config text into the raw structs. The `problem` block is dispatched on its `kind`
/// before the variant is deserialized (so that errors inside it keep their key path); the
/// `method` block is kept as YAML for the method registry of `inference` to check.
pub fn parse(text: &str) -> Result<raw::RawConfig, ConfigIssue> {
    let root: Value = serde_yaml_ng::from_str(text).map_err(|e| serde_issue(&e))?;
    let mut root = match root {
        Value::Mapping(map) => map,
        Value::Null => Default::default(),
        _ => {
            return Err(keys::issue(
                "",
                "a config is a mapping of blocks (name, seed, problem, prior, likelihood, method, parallel, output, gpu)",
            ));
        }
    };
    let problem = root.remove("problem");
    let method = root.remove("method");
    let mut raw: raw::RawConfig = keys::from_value_at(Value::Mapping(root), "")?;
    raw.problem = problem
        .map(|block| raw::RawProblem::from_block(block, "problem"))
        .transpose()?;
    raw.method = method;
    Ok(raw)
}

/// Turns a serde_yaml_ng message (`a.b: invalid type ... at line 3 column 5`) into an issue with
/// the key path split off.
fn serde_issue(e: &serde_yaml_ng::Error) -> ConfigIssue {
    let message = e.to_string();
    match message.split_once(": ") {
        Some((key, rest)) if !key.contains(' ') => keys::issue(key, rest),
        _ => keys::issue("", message),
    }
}

fn apply_overrides(path: &Path, text: &str, overrides: &[String]) -> Result<String> {
    use serde_yaml_ng::Value;
    let bad = |key: &str, message: String| Error::Config {
        file: path.to_path_buf(),
        issues: vec![keys::issue(key, message)],
    };
    let mut root: Value = serde_yaml_ng::from_str(text).map_err(|e| Error::Config {
        file: path.to_path_buf(),
        issues: vec![serde_issue(&e)],
    })?;
    for item in overrides {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| bad(item, "an override is written key.path=value".into()))?;
        let value: Value = serde_yaml_ng::from_str(value)
            .map_err(|e| bad(key, format!("the override value is not YAML ({e})")))?;
        let mut node = &mut root;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if !node.is_mapping() {
                return Err(bad(
                    key,
                    format!("`{}` is not a mapping", parts[..i].join(".")),
                ));
            }
            let map = node.as_mapping_mut().expect("checked above");
            let k = Value::String(part.to_string());
            if i + 1 == parts.len() {
                map.insert(k, value.clone());
                break;
            }
            if !map.contains_key(&k) {
                map.insert(k.clone(), Value::Mapping(Default::default()));
            }
            node = map.get_mut(&k).expect("inserted above");
        }
    }
    serde_yaml_ng::to_string(&root).map_err(|e| bad("(overrides)", e.to_string()))
}

/// FNV-1a 64-bit hash, hex: a stable fingerprint of a resolved config.
pub fn fingerprint(text: &str) -> String {
    fingerprint_bytes(text.bytes())
}

/// FNV-1a 64 of a byte stream, hex.
pub fn fingerprint_bytes(bytes: impl IntoIterator<Item = u8>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
