//! `disc lsp`: the language server, over standard input and output.
//!
//! The editor queries themselves are pure (`disc_compiler::ide`); this module is the IO around
//! them: JSON-RPC framing (lsp-server), the open documents, positions in UTF-16 code units as the
//! protocol counts them, URIs, reading imported files (an open document wins over the file on
//! disk), and the standard library written once to a temporary directory so that go to definition
//! can open `<stdlib/arch.dis>` as an ordinary read-only file in any editor.
//!
//! Every change re-checks the whole document (full document sync) and publishes its diagnostics
//! at once, the same as `disc check` reports them, in the document and in the files it imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use disc_compiler::diagnostic::{Diagnostic, Severity};
use disc_compiler::ide::{self, Analysis, CompletionKind};
use disc_compiler::{Loader, Source};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;

/// Arguments of `disc lsp`.
#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; standard input and output are always used.
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the server until the editor sends `shutdown` and `exit`.
pub fn run(_args: LspArgs) -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let result = serve(&connection);
    drop(connection);
    let joined = io_threads.join();
    match (result, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(message), _) => {
            eprintln!("error: disc lsp: {message}");
            ExitCode::from(1)
        }
        (Ok(()), Err(err)) => {
            eprintln!("error: disc lsp: {err}");
            ExitCode::from(1)
        }
    }
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::FULL,
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["(".into(), ",".into(), ".".into(), "{".into()]),
            ..lsp::CompletionOptions::default()
        }),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        ..lsp::ServerCapabilities::default()
    }
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "disc", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server::new();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let response = server.request(request);
                send(connection, response.into())?;
            }
            Message::Notification(notification) => {
                for out in server.notification(notification) {
                    send(connection, out.into())?;
                }
            }
            // The server sends no requests, so it expects no responses.
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|_| "the editor closed the connection".to_string())
}

/// One open document.
struct Document {
    text: String,
    /// The analysis of the last version that parsed (completion needs names while the user is in
    /// the middle of typing something that does not parse yet).
    last_parsed: Option<Analysis>,
    /// Other files this document's diagnostics were last published to (to clear them later).
    published_elsewhere: BTreeSet<String>,
}

struct Server {
    documents: BTreeMap<String, Document>,
    stdlib_dir: Option<PathBuf>,
}

impl Server {
    fn new() -> Server {
        Server {
            documents: BTreeMap::new(),
            stdlib_dir: write_stdlib(),
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        let result = match method.as_str() {
            lsp::request::HoverRequest::METHOD => self.with_params(request, Server::hover),
            lsp::request::GotoDefinition::METHOD => self.with_params(request, Server::definition),
            lsp::request::Completion::METHOD => self.with_params(request, Server::completion),
            lsp::request::Formatting::METHOD => self.with_params(request, Server::formatting),
            _ => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("disc lsp does not handle `{method}`"),
                );
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(message) => Response::new_err(id, ErrorCode::InvalidParams as i32, message),
        }
    }

    fn with_params<P: serde::de::DeserializeOwned, R: serde::Serialize>(
        &mut self,
        request: Request,
        handler: fn(&mut Server, P) -> Option<R>,
    ) -> Result<serde_json::Value, String> {
        let params: P = serde_json::from_value(request.params)
            .map_err(|e| format!("bad parameters for `{}`: {e}", request.method))?;
        serde_json::to_value(handler(self, params)).map_err(|e| e.to_string())
    }

    fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        match notification.method.as_str() {
            lsp::notification::DidOpenTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidOpenTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                let uri = params.text_document.uri.as_str().to_string();
                self.change(uri, params.text_document.text)
            }
            lsp::notification::DidChangeTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidChangeTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                // Full sync: the last change holds the whole text.
                let Some(change) = params.content_changes.into_iter().last() else {
                    return Vec::new();
                };
                let uri = params.text_document.uri.as_str().to_string();
                self.change(uri, change.text)
            }
            lsp::notification::DidCloseTextDocument::METHOD => {
                let Ok(params) =
                    serde_json::from_value::<lsp::DidCloseTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                let uri = params.text_document.uri.as_str().to_string();
                let Some(doc) = self.documents.remove(&uri) else {
                    return Vec::new();
                };
                std::iter::once(uri)
                    .chain(doc.published_elsewhere)
                    .filter_map(|u| publish(&u, Vec::new()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Stores a document's new text, checks it and returns its diagnostics to publish.
    fn change(&mut self, uri: String, text: String) -> Vec<Notification> {
        let analysis = self.analyse(&uri, &text);
        let mut by_uri: BTreeMap<String, Vec<lsp::Diagnostic>> = BTreeMap::new();
        by_uri.insert(uri.clone(), Vec::new());
        for diagnostic in analysis.diagnostics() {
            let index = diagnostic.source.0 as usize;
            let Some(source) = analysis.sources().get(index) else {
                continue;
            };
            let target = if index == 0 {
                uri.clone()
            } else {
                match self.source_uri(&source.name) {
                    Some(u) => u,
                    None => continue,
                }
            };
            by_uri
                .entry(target)
                .or_default()
                .push(to_lsp_diagnostic(diagnostic, &source.text));
        }
        // An imported file that is open itself shows its own diagnostics, not this document's.
        by_uri.retain(|u, _| *u == uri || !self.documents.contains_key(u));
        let elsewhere: BTreeSet<String> = by_uri.keys().filter(|u| **u != uri).cloned().collect();
        let previous = self.documents.remove(&uri);
        let mut out = Vec::new();
        if let Some(prev) = &previous {
            for stale in prev.published_elsewhere.difference(&elsewhere) {
                if !self.documents.contains_key(stale) {
                    out.extend(publish(stale, Vec::new()));
                }
            }
        }
        for (target, diagnostics) in by_uri {
            out.extend(publish(&target, diagnostics));
        }
        let last_parsed = if analysis.parsed() {
            Some(analysis)
        } else {
            previous.and_then(|p| p.last_parsed)
        };
        self.documents.insert(
            uri,
            Document {
                text,
                last_parsed,
                published_elsewhere: elsewhere,
            },
        );
        out
    }

    fn analyse(&self, uri: &str, text: &str) -> Analysis {
        let name = uri_to_path(uri).map_or_else(|| uri.to_string(), |p| p.display().to_string());
        let loader = OverlayLoader {
            documents: &self.documents,
        };
        Analysis::new(
            Source {
                name,
                text: text.to_string(),
            },
            &loader,
        )
    }

    /// The URI of a source by its name: a path, or `<stdlib/x.dis>` in the stdlib directory.
    fn source_uri(&self, name: &str) -> Option<String> {
        if let Some(file) = name
            .strip_prefix("<stdlib/")
            .and_then(|n| n.strip_suffix('>'))
        {
            return Some(path_to_uri(&self.stdlib_dir.as_ref()?.join(file)));
        }
        let path = Path::new(name);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(path)
        };
        Some(path_to_uri(&absolute))
    }

    fn document(&self, uri: &lsp::Uri) -> Option<(&Document, &Analysis)> {
        let doc = self.documents.get(uri.as_str())?;
        Some((doc, doc.last_parsed.as_ref()?))
    }

    fn hover(&mut self, params: lsp::HoverParams) -> Option<lsp::Hover> {
        let at = params.text_document_position_params;
        let (doc, analysis) = self.document(&at.text_document.uri)?;
        if analysis.sources().first()?.text != doc.text {
            return None;
        }
        let offset = position_to_offset(&doc.text, at.position);
        let hover = analysis.hover(offset)?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: hover.markdown,
            }),
            range: Some(span_to_range(&doc.text, hover.span.start, hover.span.end)),
        })
    }

    fn definition(&mut self, params: lsp::GotoDefinitionParams) -> Option<lsp::Location> {
        let at = params.text_document_position_params;
        let (doc, analysis) = self.document(&at.text_document.uri)?;
        if analysis.sources().first()?.text != doc.text {
            return None;
        }
        let offset = position_to_offset(&doc.text, at.position);
        let location = analysis.definition(offset)?;
        let source = analysis.sources().get(location.source)?;
        let uri = if location.source == 0 {
            at.text_document.uri.as_str().to_string()
        } else {
            self.source_uri(&source.name)?
        };
        Some(lsp::Location {
            uri: lsp::Uri::from_str(&uri).ok()?,
            range: span_to_range(&source.text, location.span.start, location.span.end),
        })
    }

    fn completion(&mut self, params: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let at = params.text_document_position;
        let (doc, analysis) = self.document(&at.text_document.uri)?;
        let offset = position_to_offset(&doc.text, at.position);
        let items = analysis
            .completions(&doc.text, offset)
            .into_iter()
            .map(|c| {
                let (kind, rank) = match (c.kind, &c.import) {
                    (CompletionKind::Argument, _) => (lsp::CompletionItemKind::FIELD, 0),
                    (CompletionKind::Variable, _) => (lsp::CompletionItemKind::VARIABLE, 1),
                    (CompletionKind::Definition, None) => (lsp::CompletionItemKind::FUNCTION, 2),
                    (CompletionKind::Module, _) => (lsp::CompletionItemKind::MODULE, 2),
                    (CompletionKind::Primitive, _) => (lsp::CompletionItemKind::FUNCTION, 3),
                    (CompletionKind::Definition, Some(_)) => (lsp::CompletionItemKind::FUNCTION, 4),
                };
                let additional_text_edits = c.import.map(|(at, line)| {
                    vec![lsp::TextEdit {
                        range: span_to_range(&doc.text, at, at),
                        new_text: line,
                    }]
                });
                lsp::CompletionItem {
                    sort_text: Some(format!("{rank}{}", c.label)),
                    label: c.label,
                    kind: Some(kind),
                    detail: Some(c.detail),
                    documentation: c.documentation.map(lsp::Documentation::String),
                    insert_text: Some(c.insert),
                    additional_text_edits,
                    ..lsp::CompletionItem::default()
                }
            })
            .collect();
        Some(lsp::CompletionResponse::Array(items))
    }

    fn formatting(&mut self, params: lsp::DocumentFormattingParams) -> Option<Vec<lsp::TextEdit>> {
        let doc = self.documents.get(params.text_document.uri.as_str())?;
        let formatted = ide::format(&doc.text).ok()?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        Some(vec![lsp::TextEdit {
            range: span_to_range(&doc.text, 0, doc.text.len()),
            new_text: formatted,
        }])
    }
}

fn publish(uri: &str, diagnostics: Vec<lsp::Diagnostic>) -> Option<Notification> {
    let params = lsp::PublishDiagnosticsParams {
        uri: lsp::Uri::from_str(uri).ok()?,
        diagnostics,
        version: None,
    };
    Some(Notification::new(
        lsp::notification::PublishDiagnostics::METHOD.to_string(),
        params,
    ))
}

fn to_lsp_diagnostic(diagnostic: &Diagnostic, text: &str) -> lsp::Diagnostic {
    let mut message = diagnostic.message.clone();
    if !diagnostic.label.is_empty() {
        message.push_str(&format!(" ({})", diagnostic.label));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    lsp::Diagnostic {
        range: span_to_range(text, diagnostic.span.start, diagnostic.span.end),
        severity: Some(match diagnostic.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(diagnostic.code.to_string())),
        source: Some("disc".to_string()),
        message,
        ..lsp::Diagnostic::default()
    }
}

/// Reads imports from open documents first, then from the file system (relative to the importer).
struct OverlayLoader<'a> {
    documents: &'a BTreeMap<String, Document>,
}

impl Loader for OverlayLoader<'_> {
    fn load(&self, importer: &str, path: &str) -> Result<String, String> {
        let dir = Path::new(importer).parent().unwrap_or(Path::new(""));
        let full = dir.join(path);
        let uri = path_to_uri(&full);
        if let Some(doc) = self.documents.get(&uri) {
            return Ok(doc.text.clone());
        }
        std::fs::read_to_string(&full).map_err(|err| err.to_string())
    }

    fn array_facts(
        &self,
        request: &disc_compiler::ArrayRequest,
    ) -> Result<disc_compiler::ArrayFacts, disc_compiler::ArrayFileError> {
        super::arrays::array_facts(request)
    }
}

/// Writes the standard library to `<temp>/disc-<version>-stdlib/` (once per content) and returns
/// the directory; `None` when it cannot be written (go to definition into the stdlib then finds
/// nothing, everything else works).
fn write_stdlib() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("disc-{}-stdlib", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&dir).ok()?;
    for (name, text) in ide::stdlib_sources() {
        let file = name.strip_prefix("<stdlib/")?.strip_suffix('>')?;
        let path = dir.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).ok()?;
        }
    }
    Some(dir)
}

// ---- positions and URIs -----------------------------------------------------------------------

/// The byte offset of an LSP position (UTF-16 columns), clamped to the line and the text.
fn position_to_offset(text: &str, position: lsp::Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text.get(line_start..).and_then(|rest| rest.find('\n')) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(line_start..).unwrap_or("");
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        if c == '\n' || units >= position.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

/// The LSP position of a byte offset (UTF-16 columns).
fn offset_to_position(text: &str, offset: usize) -> lsp::Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = before
        .get(line_start..)
        .map_or(0, |s| s.chars().map(|c| c.len_utf16() as u32).sum());
    lsp::Position { line, character }
}

fn span_to_range(text: &str, start: usize, end: usize) -> lsp::Range {
    lsp::Range {
        start: offset_to_position(text, start),
        end: offset_to_position(text, end),
    }
}

/// `file:///a/b%20c.dis` → `/a/b c.dis`; `None` for other schemes.
fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// An absolute path as a `file://` URI, percent-encoding what a URI path may not hold.
fn path_to_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a×b\n😀x\nlast";
        // `×` is one UTF-16 unit (two bytes), `😀` two units (four bytes).
        assert_eq!(offset_to_position(text, 3), lsp::Position::new(0, 2));
        // `x` starts at byte 9: after the emoji's two units.
        assert_eq!(offset_to_position(text, 9), lsp::Position::new(1, 2));
        assert_eq!(position_to_offset(text, lsp::Position::new(1, 2)), 9);
        assert_eq!(position_to_offset(text, lsp::Position::new(0, 99)), 4);
        assert_eq!(
            position_to_offset(text, lsp::Position::new(9, 0)),
            text.len()
        );
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a dir/ß.dis");
        let uri = path_to_uri(path);
        assert_eq!(uri, "file:///tmp/a%20dir/%C3%9F.dis");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(path));
    }
}
