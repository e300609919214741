//! Measures the data pipeline's throughput: `sample_batch` of 64 images (training order, reference
//! §1.9) for each procedural dataset, on one thread.
//!
//! `cargo run -p disc-data --release --example throughput` prints images/s per dataset. Shapes3D is
//! timed after a warm-up that renders all 480 geometries (its one-off cost is printed separately).

use std::time::Instant;

use disc_data::{DatasetConfig, RandomState, open, sample_batch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let batch = 64;
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
        ("dummy", DatasetConfig::Dummy),
    ];
    for (name, config) in configs {
        let started = Instant::now();
        let data = open(&config)?;
        let mut rng = RandomState::new(0);
        // Warm-up: enough batches to fill lazy caches (Shapes3D's 480 geometries).
        let mut warm = 0;
        while warm < 200 {
            sample_batch(data.as_ref(), batch, &mut rng)?;
            warm += 1;
        }
        let setup = started.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut images = 0usize;
        let mut checksum = 0f64;
        while start.elapsed().as_secs_f64() < 2.0 {
            let (_, obs) = sample_batch(data.as_ref(), batch, &mut rng)?;
            checksum += f64::from(obs[obs.len() / 2]);
            images += batch;
        }
        let rate = images as f64 / start.elapsed().as_secs_f64();
        println!(
            "{name:>16}: {rate:>10.0} img/s (batch {batch}, open + 200 warm-up batches {setup:.2} s, checksum {checksum:.1})"
        );
    }
    Ok(())
}
