//! The checked-in snapshot of the generated code (`snapshot/generated.rs`, written by
//! `cargo xtask regen`) is exactly what build.rs generated for this build.

#[test]
fn snapshot_matches_build_rs_output() {
    let built = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshot/generated.rs");
    let snapshot = std::fs::read_to_string(&path).expect("snapshot/generated.rs is checked in");
    if built != snapshot {
        let first = built
            .lines()
            .zip(snapshot.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| built.lines().count().min(snapshot.lines().count()) + 1);
        panic!(
            "snapshot/generated.rs is stale (first difference at line {first}); run `cargo xtask regen` and commit it"
        );
    }
}
