//! Fuzz target: arbitrary bytes through the parser, the checker, the plan builder and the
//! diagnostic renderer. Any panic, overflow or out-of-bounds access is a bug: the front end must
//! turn every input into diagnostics. (Stack overflow is guarded by the parser's nesting limit,
//! E0003, so deep nesting is a finding too.)
#![no_main]

use disc_compiler::diagnostic::{JsonDiagnostic, RenderOptions, render};
use disc_compiler::{NoFiles, Source, compile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The CLI rejects invalid UTF-8 before the compiler sees it, so only text is interesting.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The parser alone, then the whole pipeline (which parses again, plus the embedded stdlib).
    let _ = disc_grammar::parse_file(text);
    let compiled = compile(
        Source {
            name: "fuzz.dis".to_string(),
            text: text.to_string(),
        },
        &NoFiles,
    );
    let has_error = compiled.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(
        has_error,
        compiled.plan.is_none(),
        "a plan is produced iff there is no error"
    );
    for d in &compiled.diagnostics {
        let source = compiled
            .sources
            .get(d.source.0 as usize)
            .expect("diagnostics point at a known source");
        assert!(
            d.span.start <= d.span.end && d.span.end <= source.text.len(),
            "span inside its source"
        );
        let _ = JsonDiagnostic::new(d, &compiled.sources);
    }
    let _ = render(
        &compiled.diagnostics,
        &compiled.sources,
        RenderOptions::PLAIN,
    );
});
