//! The one error type of the generator: a problem in the spec, located by file and JSON pointer.

use std::fmt;

/// A problem in a connector spec that stops code generation.
///
/// `Display` renders one line a maintainer can act on:
/// `spec/incident-io.yaml: at /paths/~1v2~1incidents/get: <what is wrong and how to fix it>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file (as given to the loader).
    pub file: String,
    /// RFC 6901 JSON pointer to the offending node (`""` is the document root).
    pub pointer: String,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl SpecError {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError {
            file: String::new(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    pub(crate) fn in_file(mut self, file: &str) -> Self {
        if self.file.is_empty() {
            self.file = file.to_string();
        }
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        // Always one line, whatever the underlying parser's message looked like.
        let message = self.message.replace(['\n', '\r'], " ");
        write!(f, "{}: at {}: {}", self.file, pointer, message)
    }
}

impl std::error::Error for SpecError {}

/// Escapes one reference token for a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Joins a parent pointer and one unescaped token.
pub fn ptr(parent: &str, token: &str) -> String {
    format!("{parent}/{}", escape_token(token))
}
