//! The spec loader and generator on arbitrary input: a `SpecError` or generated code, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = connector_sdk_codegen::parse("fuzz.yaml", text) {
        let _ = connector_sdk_codegen::generate(&spec);
    }
});
