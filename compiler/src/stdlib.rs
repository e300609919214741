//! The standard library: `.dis` sources embedded in the compiler.
//!
//! Each module is written in the language itself and shown in diagnostics under `<stdlib/NAME.dis>`.
//! This module only maps module names to text; it must not parse or evaluate anything.

/// `(module name, display name, source text)` of every stdlib module.
pub(crate) const MODULES: &[(&str, &str, &str)] = &[
    (
        "data",
        "<stdlib/data.dis>",
        include_str!("../../stdlib/data.dis"),
    ),
    (
        "arch",
        "<stdlib/arch.dis>",
        include_str!("../../stdlib/arch.dis"),
    ),
    (
        "models",
        "<stdlib/models.dis>",
        include_str!("../../stdlib/models.dis"),
    ),
    (
        "metrics",
        "<stdlib/metrics.dis>",
        include_str!("../../stdlib/metrics.dis"),
    ),
];

/// Looks a stdlib module up by name.
pub(crate) fn module(name: &str) -> Option<(&'static str, &'static str)> {
    MODULES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, display, text)| (*display, *text))
}
