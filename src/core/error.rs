//! The crate's error type: user mistakes (exit code 2) and run-time failures (exit code 1).
//!
//! Every variant's `Display` is a sentence that names the thing at fault and, where there is
//! one, the fix. Context is added once, by the layer that knows it: configuration problems carry
//! their key path, file problems their path. Bugs are panics, never an `Error`.

use std::fmt;
use std::path::PathBuf;

/// One problem found while validating a configuration: the key path, what is wrong and the
/// accepted range (`method.step_size: must be > 0 (got -0.1)`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
    /// The line of the config file where the key (or its nearest parent) is written.
    pub line: Option<usize>,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration (or a file it names) is wrong; every problem found, at once.
    #[error("{}", format_config_issues(.file, .issues))]
    Config {
        file: PathBuf,
        issues: Vec<ConfigIssue>,
    },

    /// A file given on the command line (not through the config) is missing or malformed.
    #[error("{}: {message}", .path.display())]
    Input { path: PathBuf, message: String },

    /// A command-line usage mistake the argument parser cannot see (e.g. `--resume` with no
    /// checkpoint to resume from).
    #[error("{0}")]
    Usage(String),

    /// Writing or reading a result file failed.
    #[error("{}: {message}", .path.display())]
    Output { path: PathBuf, message: String },

    /// The physics refused an input that passed validation (e.g. a non-positive velocity in a
    /// model file given to `forward`).
    #[error("{0}")]
    Physics(String),

    /// The run itself failed (too many failed members, a communication failure).
    #[error("{0}")]
    Run(String),
}

fn format_config_issues(file: &std::path::Path, issues: &[ConfigIssue]) -> String {
    let mut text = format!(
        "{}: {} problem{} in the configuration:",
        file.display(),
        issues.len(),
        if issues.len() == 1 { "" } else { "s" }
    );
    for issue in issues {
        text.push_str("\n  ");
        text.push_str(&issue.to_string());
    }
    text
}

impl Error {
    /// Exit code of the process for this error: 2 for a user mistake, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Input { .. } | Error::Usage(_) | Error::Physics(_) => 2,
            Error::Output { .. } | Error::Run(_) => 1,
        }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn output(path: impl Into<PathBuf>, message: impl fmt::Display) -> Self {
        Error::Output {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
