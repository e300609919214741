//! Helpers shared by the CLI's integration tests (each test file includes this module with
//! `mod support;`). Only what more than one test file needs belongs here.

/// A fresh empty directory under the system temp dir for one test's files, named
/// `disc-<suite>-test-<name>-<random>` and removed with everything in it when the guard is dropped
/// (also when the test fails), so a test run leaves nothing behind.
pub fn scratch(suite: &str, name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("disc-{suite}-test-{name}-"))
        .tempdir()
        .expect("the temp dir is writable")
}
