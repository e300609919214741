//! The disc compiler: `.dis` source text in, a [`plan::Plan`] and diagnostics out.
//!
//! Pure: no file IO, no printing, no process exit. The CLI owns all of that.

pub mod plan;
