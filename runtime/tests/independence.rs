//! The runtime is connector-independent: no line of its code (comments and docs aside, which
//! use incident.io as the running example) names a connector, one of incident.io's entities or
//! a generated item, and it depends on no generated crate.

use std::path::Path;

/// Words that would tie the runtime to one connector or to generated code.
const FORBIDDEN: &[&str] = &[
    "incident",
    "escalation",
    "catalog_type",
    "schedule",
    "IncidentIo",
    "generated.rs",
    "OUT_DIR",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code part of a line: everything before a `//` that is not inside a string literal.
fn code_of(line: &str) -> &str {
    let mut in_str = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

#[test]
fn runtime_code_names_no_connector_or_entity() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found the runtime's sources");
    let mut hits = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line).to_ascii_lowercase();
            for word in FORBIDDEN {
                if code.contains(&word.to_ascii_lowercase()) {
                    hits.push(format!(
                        "{}:{}: `{word}` in `{}`",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the runtime must stay connector-independent (take names from ConnectorMeta instead):\n{}",
        hits.join("\n")
    );
}

#[test]
fn runtime_depends_on_no_generated_crate() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("readable manifest");
    for dep in [
        "incident-io-connector",
        "connector-sdk-codegen",
        "connector-sdk-emulator",
    ] {
        let normal_deps = manifest
            .split("[dev-dependencies]")
            .next()
            .unwrap_or_default();
        assert!(
            !normal_deps.contains(dep),
            "the runtime's [dependencies] must not name `{dep}`"
        );
    }
}

#[test]
fn code_of_strips_comments_but_not_strings() {
    assert_eq!(code_of("let a = 1; // incident"), "let a = 1; ");
    assert_eq!(code_of("let u = \"http://x\";"), "let u = \"http://x\";");
    assert_eq!(code_of("/// docs"), "");
}
