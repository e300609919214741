//! The contact sheet of `disc plot`: for chosen runs, the pictures each run wrote (reconstructions,
//! samples, traversals) side by side under a caption naming the job and its setting, so that a
//! reader can compare what the models learned without opening every run directory.
//!
//! Pictures are read back from the PNG files the runtime wrote; a run that lacks one (an InfoGAN has
//! no reconstructions; `--no-eval` writes none) shows the others. The sheet is a PNG: its content
//! is pixels, and an SVG would only wrap them.

use std::path::Path;

use disc_runtime::artifacts::{RgbImage, RunDir};
use plotters::prelude::*;

use super::results::{Row, Status};

/// Space around and between pictures, and the caption's height, in pixels.
const MARGIN: u32 = 12;
const CAPTION: u32 = 26;

/// The pictures of one run, each `(name, picture)`, in the order they are shown.
type Panels = Vec<(&'static str, RgbImage)>;

/// Reads an 8-bit PNG (grey, grey + alpha, RGB or RGBA) as RGB; `None` if it is missing or
/// unreadable (the sheet then leaves that panel out).
fn read_png(path: &Path) -> Option<RgbImage> {
    let file = std::fs::File::open(path).ok()?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut buffer = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buffer).ok()?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return None,
    };
    let (width, height) = (info.width, info.height);
    let pixels = buffer
        .get(..info.buffer_size())?
        .chunks_exact(info.line_size)
        .take(height as usize)
        .flat_map(|line| {
            line.chunks_exact(channels)
                .take(width as usize)
                .flat_map(|pixel| match pixel {
                    [grey] | [grey, _] => [*grey, *grey, *grey],
                    [r, g, b] | [r, g, b, _] => [*r, *g, *b],
                    _ => [0, 0, 0],
                })
        })
        .collect::<Vec<u8>>();
    (pixels.len() == (width as usize) * (height as usize) * 3).then_some(RgbImage {
        width,
        height,
        pixels,
    })
}

/// The pictures a run wrote, in the order the sheet shows them.
fn panels(run: &RunDir) -> Panels {
    [
        ("reconstructions", run.reconstructions_path()),
        ("samples", run.samples_path()),
        ("traversals", run.traversals_path()),
    ]
    .into_iter()
    .filter_map(|(name, path)| Some((name, read_png(&path)?)))
    .collect()
}

/// The runs the sheet shows: `chosen` job indices when given (in that order), else the first
/// finished run of every setting. Returns `(caption, row)` pairs and the chosen indices that
/// are not finished runs.
pub fn choose<'a>(
    rows: &'a [Row],
    chosen: &[u64],
    setting: impl Fn(&Row) -> String,
) -> (Vec<(String, &'a Row)>, Vec<u64>) {
    let done: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Done).collect();
    let caption = |row: &Row| {
        let seed = row
            .swept
            .iter()
            .find(|(path, _)| super::plot::is_seed(path))
            .map_or_else(String::new, |(_, value)| format!(", seed {value}"));
        format!("job {}: {}{seed}", row.index, setting(row))
    };
    if !chosen.is_empty() {
        let mut missing = Vec::new();
        let mut shown = Vec::new();
        for index in chosen {
            match done.iter().find(|r| r.index == *index) {
                Some(row) => shown.push((caption(row), *row)),
                None => missing.push(*index),
            }
        }
        return (shown, missing);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut shown = Vec::new();
    for row in done {
        let s = setting(row);
        if !seen.contains(&s) {
            seen.push(s);
            shown.push((caption(row), row));
        }
    }
    (shown, Vec::new())
}

/// Copies `picture` into `canvas` (of width `canvas_width`) with its top-left corner at `(x, y)`.
fn blit(canvas: &mut [u8], canvas_width: u32, picture: &RgbImage, x: u32, y: u32) {
    let row_bytes = picture.width as usize * 3;
    for (line, source) in picture.pixels.chunks_exact(row_bytes).enumerate() {
        let start = ((y as usize + line) * canvas_width as usize + x as usize) * 3;
        if let Some(target) = canvas.get_mut(start..start + row_bytes) {
            target.copy_from_slice(source);
        }
    }
}

/// Lays out the runs' pictures: one band per run, its caption above its panels, left to right.
/// `None` when no chosen run has a picture.
pub fn draw(runs_dir: &Path, shown: &[(String, &Row)]) -> Result<Option<RgbImage>, String> {
    let bands: Vec<(&str, Panels)> = shown
        .iter()
        .map(|(caption, row)| {
            let run = RunDir::new(runs_dir, row.index, &row.hash);
            (caption.as_str(), panels(&run))
        })
        .filter(|(_, panels)| !panels.is_empty())
        .collect();
    if bands.is_empty() {
        return Ok(None);
    }
    let band_width = |panels: &Panels| -> u32 {
        panels.iter().map(|(_, p)| p.width + MARGIN).sum::<u32>() + MARGIN
    };
    let band_height = |panels: &Panels| -> u32 {
        CAPTION + panels.iter().map(|(_, p)| p.height).max().unwrap_or(0) + MARGIN
    };
    let width = bands
        .iter()
        .map(|(_, panels)| band_width(panels))
        .max()
        .unwrap_or(MARGIN)
        .max(480);
    let height = bands
        .iter()
        .map(|(_, panels)| band_height(panels))
        .sum::<u32>()
        + MARGIN;
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    let mut captions = Vec::new();
    let mut y = MARGIN;
    for (caption, panels) in &bands {
        let names: Vec<&str> = panels.iter().map(|(name, _)| *name).collect();
        captions.push((format!("{caption}   ({})", names.join(", ")), y));
        let mut x = MARGIN;
        for (_, picture) in panels {
            blit(&mut pixels, width, picture, x, y + CAPTION);
            x += picture.width + MARGIN;
        }
        y += band_height(panels);
    }
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        let style = TextStyle::from(("sans-serif", 15).into_font()).color(&BLACK);
        for (text, y) in &captions {
            let at = (MARGIN as i32, *y as i32 + 4);
            root.draw_text(text, &style, at)
                .map_err(|e| format!("caption: {e}"))?;
        }
        root.present().map_err(|e| format!("contact sheet: {e}"))?;
    }
    Ok(Some(RgbImage {
        width,
        height,
        pixels,
    }))
}
