//! Key paths and where they are written: a map from every key path of a YAML text
//! (`method.flow[2].kind`) to its line, read off a marked parse (saphyr's events carry their
//! position), and the deserialization of tagged blocks (`{kind: ..., ...}`) that dispatches on
//! `kind` first and then deserializes the variant's own struct with serde_path_to_error, so
//! that an error inside a method or problem block still names its full key path. (serde's
//! internally tagged enums buffer the block and lose both the path and the position.)

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::core::error::ConfigIssue;

/// Line (1-based) of every key path of a YAML text; a sequence item is `key[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLines {
    lines: HashMap<String, usize>,
    /// Keys whose values came from `--set` overrides (they have no line in the file).
    overridden: Vec<String>,
}

/// A container being read: a mapping (waiting for a key or a value) or a sequence.
enum Open {
    Mapping { path: String, key: Option<String> },
    Sequence { path: String, next: usize },
}

/// Appends a key (`a` + `b` = `a.b`) or a sequence index (`a` + `[2]` = `a[2]`) to a path.
pub fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else if key.is_empty() {
        prefix.to_string()
    } else if key.starts_with('[') {
        format!("{prefix}{key}")
    } else {
        format!("{prefix}.{key}")
    }
}

impl KeyLines {
    /// Reads the key paths of `text`. A text that does not parse gives an empty map (the
    /// deserializer reports the syntax error with its own position).
    pub fn from_text(text: &str) -> Self {
        let mut lines = HashMap::new();
        let mut stack: Vec<Open> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else {
                return KeyLines::default();
            };
            let line = span.start.line();
            // The path of the node this event starts, and whether it is a mapping's key.
            let place = match stack.last_mut() {
                Some(Open::Mapping { key: None, .. }) => None,
                Some(Open::Mapping { path, key }) => {
                    let p = join_key(path, key.as_deref().unwrap_or_default());
                    *key = None;
                    Some(p)
                }
                Some(Open::Sequence { path, next }) => {
                    let p = join_key(path, &format!("[{next}]"));
                    *next += 1;
                    lines.entry(p.clone()).or_insert(line);
                    Some(p)
                }
                None => Some(String::new()),
            };
            match event {
                Event::Scalar(value, ..) => {
                    if place.is_none()
                        && let Some(Open::Mapping { path, key }) = stack.last_mut()
                    {
                        lines.insert(join_key(path, &value), line);
                        *key = Some(value.into_owned());
                    }
                }
                Event::MappingStart(..) => stack.push(Open::Mapping {
                    path: place.unwrap_or_default(),
                    key: None,
                }),
                Event::SequenceStart(..) => stack.push(Open::Sequence {
                    path: place.unwrap_or_default(),
                    next: 0,
                }),
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        KeyLines {
            lines,
            overridden: Vec::new(),
        }
    }

    /// The line of `key`, or of the nearest enclosing key that the text has; none for a key
    /// set by an override.
    pub fn line(&self, key: &str) -> Option<usize> {
        if self.overridden.iter().any(|o| is_within(key, o)) {
            return None;
        }
        let mut k = key;
        loop {
            if let Some(&l) = self.lines.get(k) {
                return Some(l);
            }
            let cut = k.rfind(['.', '['])?;
            k = &k[..cut];
        }
    }

    /// Marks `key` and everything below it as set by a `--set` override.
    pub fn overridden(&mut self, key: &str) {
        self.lines.retain(|k, _| !is_within(k, key));
        self.overridden.push(key.to_string());
    }
}

/// Whether `key` is `outer` or lies below it.
fn is_within(key: &str, outer: &str) -> bool {
    key.strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// An issue at `key`.
pub fn issue(key: &str, message: impl Into<String>) -> ConfigIssue {
    ConfigIssue {
        key: if key.is_empty() {
            "(top level)".into()
        } else {
            key.to_string()
        },
        message: message.into(),
        line: None,
    }
}

/// Deserializes `value` (the block at `key`) into `T`; an error names the full key path (an
/// unknown field names the unknown key itself). The block is read through a JSON value, whose
/// deserializer takes enums written `{variant: ...}` (serde_yaml_ng's reads them only from YAML
/// tags; the derived internally tagged enums used to hide that by buffering).
pub fn from_value_at<T: DeserializeOwned>(value: Value, key: &str) -> Result<T, ConfigIssue> {
    let json = serde_json::to_value(&value)
        .map_err(|e| issue(key, format!("keys must be plain names ({e})")))?;
    serde_path_to_error::deserialize(json).map_err(|e| {
        let inner = e.path().to_string();
        let mut path = if inner == "." {
            key.to_string()
        } else {
            join_key(key, &inner)
        };
        let message = e.into_inner().to_string();
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            && !path.ends_with(field)
        {
            path = join_key(&path, field);
        }
        issue(&path, message)
    })
}

/// Splits a tagged block `{kind: K, ...}` at `key` into K (one of `kinds`) and the rest.
pub fn split_kind(block: Value, key: &str, kinds: &[&str]) -> Result<(String, Value), ConfigIssue> {
    let expected = || {
        kinds
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Value::Mapping(mut map) = block else {
        return Err(issue(
            key,
            format!("must be a block with a `kind` (one of {})", expected()),
        ));
    };
    let kind_key = join_key(key, "kind");
    let kind = match map.remove("kind") {
        Some(Value::String(k)) => k,
        Some(other) => {
            return Err(issue(
                &kind_key,
                format!("must be one of {} (got {other:?})", expected()),
            ));
        }
        None => {
            return Err(issue(&kind_key, format!("required: one of {}", expected())));
        }
    };
    if !kinds.contains(&kind.as_str()) {
        return Err(issue(
            &kind_key,
            format!("unknown variant `{kind}`, expected one of {}", expected()),
        ));
    }
    Ok((kind, Value::Mapping(map)))
}

/// Declares a registry of tagged blocks: an enum, `#[serde(tag = "kind")]`, whose variants are
/// the kinds with their config structs, plus `KINDS`, `kind()` and `from_block`, which
/// dispatches on `kind` before the variant is deserialized so that errors keep their key path.
/// The invocation is the only list of the kinds.
#[macro_export]
macro_rules! tagged_registry {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $kind:literal => $variant:ident($ty:ty), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind")]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $kind)] $variant($ty), )+
        }

        impl $name {
            /// Every kind, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($kind),+];

            /// The block's `kind`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( $name::$variant(_) => $kind, )+
                }
            }

            /// Reads the tagged block at `key`.
            pub fn from_block(
                block: serde_yaml_ng::Value,
                key: &str,
            ) -> Result<Self, $crate::core::error::ConfigIssue> {
                let (kind, body) = $crate::core::config::keys::split_kind(block, key, Self::KINDS)?;
                match kind.as_str() {
                    $( $kind => $crate::core::config::keys::from_value_at(body, key).map($name::$variant), )+
                    _ => unreachable!("split_kind checked the kind"),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: x\nmethod:\n  kind: vi\n  flow:\n    - {kind: linear, structure: diagonal}\n    - kind: planar\n      depth: 3\n  iterations: 10\nhypotheses:\n  - prior:\n      lower: 1\n  - prior: {lower: 2}\n";

    #[test]
    fn key_paths_map_to_their_lines() {
        let k = KeyLines::from_text(TEXT);
        assert_eq!(k.line("name"), Some(1));
        assert_eq!(k.line("method"), Some(2));
        assert_eq!(k.line("method.kind"), Some(3));
        assert_eq!(k.line("method.flow[0]"), Some(5));
        assert_eq!(k.line("method.flow[0].structure"), Some(5));
        assert_eq!(k.line("method.flow[1].kind"), Some(6));
        assert_eq!(k.line("method.flow[1].depth"), Some(7));
        assert_eq!(k.line("method.iterations"), Some(8));
        assert_eq!(k.line("hypotheses[0].prior.lower"), Some(11));
        assert_eq!(k.line("hypotheses[1].prior.lower"), Some(12));
        // A key the text lacks falls back to its nearest parent.
        assert_eq!(k.line("method.flow[1].hidden"), Some(6));
        assert_eq!(k.line("nowhere"), None);
    }

    #[test]
    fn overridden_keys_have_no_line() {
        let mut k = KeyLines::from_text(TEXT);
        k.overridden("method.flow");
        assert_eq!(k.line("method.flow[1].depth"), None);
        assert_eq!(k.line("method.flow"), None);
        assert_eq!(k.line("method.flows"), Some(2));
        assert_eq!(k.line("method.iterations"), Some(8));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: usize,
        #[serde(default)]
        items: Vec<f64>,
        #[serde(default)]
        rule: Option<Rule>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Rule {
        Fixed,
        Linear([f64; 2]),
    }

    #[test]
    fn externally_tagged_enums_read_as_single_key_maps() {
        let v: Value = serde_yaml_ng::from_str("count: 1\nrule: {linear: [1, 2.5]}").unwrap();
        let inner = from_value_at::<Inner>(v, "").unwrap();
        assert_eq!(inner.rule, Some(Rule::Linear([1.0, 2.5])));
        let v: Value = serde_yaml_ng::from_str("count: 1\nrule: fixed").unwrap();
        assert_eq!(
            from_value_at::<Inner>(v, "").unwrap().rule,
            Some(Rule::Fixed)
        );
    }

    #[test]
    fn deserialization_errors_name_the_full_key_path() {
        let v: Value = serde_yaml_ng::from_str("count: -5").unwrap();
        let e = from_value_at::<Inner>(v, "method").unwrap_err();
        assert_eq!(e.key, "method.count");
        assert!(e.message.contains("-5"), "{}", e.message);
        let v: Value = serde_yaml_ng::from_str("count: 1\nitems: [1, x]").unwrap();
        assert_eq!(
            from_value_at::<Inner>(v, "a[2]").unwrap_err().key,
            "a[2].items[1]"
        );
        let v: Value = serde_yaml_ng::from_str("count: 1\ncuont: 2").unwrap();
        let e = from_value_at::<Inner>(v, "method").unwrap_err();
        assert_eq!(e.key, "method.cuont");
        assert!(e.message.starts_with("unknown field `cuont`"));
    }

    #[test]
    fn tagged_blocks_dispatch_on_kind() {
        let v: Value = serde_yaml_ng::from_str("{count: 1}").unwrap();
        assert_eq!(
            split_kind(v, "problem", &["a"]).unwrap_err().key,
            "problem.kind"
        );
        let v: Value = serde_yaml_ng::from_str("{kind: b}").unwrap();
        let e = split_kind(v, "problem", &["a"]).unwrap_err();
        assert!(e.message.contains("unknown variant `b`"), "{}", e.message);
        let v: Value = serde_yaml_ng::from_str("{kind: a, count: 2}").unwrap();
        let (kind, rest) = split_kind(v, "problem", &["a"]).unwrap();
        assert_eq!(kind, "a");
        assert_eq!(from_value_at::<Inner>(rest, "problem").unwrap().count, 2);
    }
}
