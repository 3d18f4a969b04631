//! The spec loader and generator never panic: random mutations of the real spec (deleted,
//! duplicated or swapped lines, corrupted characters, changed indentation) either generate or
//! give a `SpecError`.

use connector_sdk_codegen::{generate, parse};
use proptest::prelude::*;

fn spec() -> &'static str {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/incident-io.yaml"),
        )
        .unwrap()
    })
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteLines(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Corrupt(usize, char),
    Indent(usize, bool),
    ReplaceWord(usize, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    let chars = prop::sample::select(vec![
        ':', '-', '{', '}', '[', '$', '#', ' ', '\t', '"', '\'', '~', '/', 'x',
    ]);
    let words = prop::sample::select(vec![
        "null",
        "[]",
        "{}",
        "$ref",
        "type",
        "array",
        "object",
        "integer",
        "\"#/components/schemas/Nope\"",
        "x-airbyte-action",
        "get",
        "list",
        "- ",
        "$.missing",
        "required",
        "enum",
    ]);
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::DeleteLines(a, n)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), chars).prop_map(|(a, c)| Edit::Corrupt(a, c)),
        (any::<usize>(), any::<bool>()).prop_map(|(a, b)| Edit::Indent(a, b)),
        (any::<usize>(), words).prop_map(|(a, w)| Edit::ReplaceWord(a, w)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match *e {
            Edit::DeleteLines(a, k) => {
                let a = a % n;
                let end = (a + k).min(lines.len());
                lines.drain(a..end);
            }
            Edit::DuplicateLine(a) => {
                let l = lines[a % n].clone();
                lines.insert(a % n, l);
            }
            Edit::SwapLines(a, b) => lines.swap(a % n, b % n),
            Edit::Corrupt(a, c) => {
                let line = &mut lines[a % n];
                if !line.is_empty() {
                    let at = (a / n) % line.len();
                    if line.is_char_boundary(at) {
                        line.insert(at, c);
                    }
                }
            }
            Edit::Indent(a, more) => {
                let line = &mut lines[a % n];
                if more {
                    line.insert_str(0, "  ");
                } else if line.starts_with("  ") {
                    line.drain(..2);
                }
            }
            Edit::ReplaceWord(a, w) => {
                let line = &mut lines[a % n];
                if let Some(colon) = line.find(": ") {
                    line.truncate(colon + 2);
                    line.push_str(w);
                }
            }
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn mutated_specs_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(spec(), &edits);
        match parse("spec/incident-io.yaml", &text) {
            Ok(s) => match generate(&s) {
                Ok(g) => prop_assert!(!g.code.is_empty()),
                Err(e) => prop_assert!(e.to_string().starts_with("spec/incident-io.yaml: at ")),
            },
            Err(e) => {
                let line = e.to_string();
                prop_assert!(line.starts_with("spec/incident-io.yaml: at "), "{line}");
                prop_assert!(!line.contains('\n'), "{line}");
            }
        }
    }
}
