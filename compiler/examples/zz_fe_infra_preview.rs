use disc_compiler::diagnostic::{render, RenderOptions};
use disc_compiler::{compile, NoFiles, Source};
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let c = compile(Source { name: path.clone(), text }, &NoFiles);
        print!("{}", render(&c.diagnostics, &c.sources, RenderOptions::PLAIN));
    }
}
