//! Writes PNG contact sheets of the procedural datasets, to look at them:
//! `cargo run -p disc-data --release --example contact_sheet -- /tmp` writes
//! `dsprites.png`, `color_dsprites.png`, `noisy_dsprites.png`, `scream_dsprites.png` and `shapes3d.png`.
//! Each row of a sheet varies one factor over its range with the others fixed, then a few random rows.

use std::path::PathBuf;

use disc_data::{DataError, DatasetConfig, GroundTruthData, RandomState, open};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp".to_string()),
    );
    let configs = [
        ("dsprites", DatasetConfig::Dsprites { file: None }),
        (
            "color_dsprites",
            DatasetConfig::ColorDsprites { file: None },
        ),
        (
            "noisy_dsprites",
            DatasetConfig::NoisyDsprites { file: None },
        ),
        (
            "scream_dsprites",
            DatasetConfig::ScreamDsprites {
                file: None,
                image: None,
            },
        ),
        ("shapes3d", DatasetConfig::Shapes3d { file: None }),
    ];
    for (name, config) in configs {
        let data = open(&config)?;
        let path = dir.join(format!("{name}.png"));
        write_sheet(data.as_ref(), &path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// One row per factor (8 evenly spaced values of it, others at a fixed base row), then 3 random rows.
fn write_sheet(
    data: &dyn GroundTruthData,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let sizes = data.factor_space().sizes().to_vec();
    let columns = 8usize;
    let base: Vec<u32> = sizes.iter().map(|&s| s / 3).collect();
    let mut rows: Vec<Vec<u32>> = Vec::new();
    for (factor, &size) in sizes.iter().enumerate() {
        for column in 0..columns {
            let mut row = base.clone();
            row[factor] = ((column as u64 * u64::from(size - 1)) / (columns as u64 - 1)) as u32;
            rows.push(row);
        }
    }
    let mut rng = RandomState::new(0);
    rows.extend(data.sample_factors(3 * columns, &mut rng));
    let mut pixels = Vec::new();
    data.observations(&rows, &mut rng, &mut pixels)
        .map_err(|e: DataError| e)?;
    let [h, w, c] = data.observation_shape();
    let scale = 2usize;
    let gap = 2usize;
    let grid_rows = rows.len() / columns;
    let sheet_w = columns * (w * scale + gap);
    let sheet_h = grid_rows * (h * scale + gap);
    let mut sheet =
        image::RgbImage::from_pixel(sheet_w as u32, sheet_h as u32, image::Rgb([128, 0, 128]));
    for (index, image) in pixels.chunks_exact(h * w * c).enumerate() {
        let (gy, gx) = (index / columns, index % columns);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let p = ((y / scale) * w + x / scale) * c;
                let rgb: [u8; 3] = std::array::from_fn(|k| {
                    let v = image[p + if c == 3 { k } else { 0 }];
                    (v.clamp(0.0, 1.0) * 255.0).round() as u8
                });
                let sx = gx * (w * scale + gap) + x;
                let sy = gy * (h * scale + gap) + y;
                sheet.put_pixel(sx as u32, sy as u32, image::Rgb(rgb));
            }
        }
    }
    sheet.save(path)?;
    Ok(())
}
