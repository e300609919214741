//! dSprites and its colour, noise and Scream variants (reference §4.1–4.4).
//!
//! Five latent factors, in the released file's axis order: shape 3 (square, ellipse, heart), scale 6
//! (0.5..1), orientation 40 (0..2π, excluding 2π), posX 32 and posY 32 (0..1). The size-1 colour
//! factor of the released file is not latent and consumes no draws (`randint(1)`).
//!
//! The binary sprite ("mask") comes either from the procedural renderer below or from the released
//! `.npz` file; the variants then draw their colour, noise or background patch from the RNG in the
//! reference's order. A mask is 64 rows of one `u64` each (bit `x` of word `y` is pixel `(y, x)`), so
//! the whole released dataset fits in 377 MB instead of 3 GB of `u8`.
//!
//! # Procedural sprites
//! Pixel `(y, x)` is on when its centre `(x + ½, y + ½)`, taken relative to the sprite centre, rotated
//! by −orientation and divided by the sprite radius `R = 7.5 px · scale`, falls inside the unit shape:
//! - square `max(|u|, |v|) ≤ 1` (side 15 px at scale 1, 7.5 px at scale 0.5, like the released sprites);
//! - ellipse `u² + (v/0.5)² ≤ 1` (15 × 7.5 px at scale 1);
//! - heart `(p² + q² − 1)³ − p² q³ ≤ 0` with `(p, q) = 1.14·(u, −v + 0.1)` (lobes up, point down).
//!
//! The centre is `11 + 42·pos` px on each axis (posX is the column, posY the row), so a full-scale
//! rotated square still fits in the frame, as in the released data. Only correctly rounded f64
//! operations and `geometry`'s libm-free trigonometry are used, so every machine renders the same bits.
//!
//! This module must not allocate per pixel or keep state between calls.

use std::path::{Path, PathBuf};

use crate::{
    DataError, FactorSpace, GroundTruthData, RandomState, geometry::sin_cos_turns, npz::NpzFile,
};

/// Height and width of a dSprites image.
pub const SIDE: usize = 64;
/// The latent factor sizes: shape, scale, orientation, posX, posY.
pub const FACTOR_SIZES: [u32; 5] = [3, 6, 40, 32, 32];
/// The latent factor names, in order.
pub const FACTOR_NAMES: [&str; 5] = ["shape", "scale", "orientation", "pos_x", "pos_y"];
/// Sprite radius at scale 1, in pixels.
const RADIUS_AT_SCALE_1: f64 = 7.5;
/// Sprite centre at position 0, in pixels; position 1 is at `POS_OFFSET + POS_SPAN`.
const POS_OFFSET: f64 = 11.0;
const POS_SPAN: f64 = 42.0;

/// A binary 64×64 sprite: word `y` holds row `y`, bit `x` is column `x`.
pub type Mask = [u64; SIDE];

/// Where the binary sprites come from.
#[derive(Debug)]
pub enum SpriteSource {
    /// Rendered on demand from the factors.
    Procedural,
    /// The released `imgs` array (737,280 images), bit-packed, indexed by the row-major factor index.
    Released {
        /// The file it was read from, for error messages.
        path: PathBuf,
        /// 64 words per image, image `i` at `masks[64·i..64·(i+1)]`.
        masks: Vec<u64>,
    },
}

/// What is drawn on top of the binary sprite (reference §4.1–4.4).
#[derive(Debug)]
pub enum Variant {
    /// `dsprites_full`: 64×64×1, values in {0, 1}.
    Binary,
    /// `color_dsprites`: 64×64×3, the sprite in one colour `c ~ U(0.5, 1)³` per image on black.
    Color,
    /// `noisy_dsprites`: 64×64×3, `min(mask + U(0,1), 1)` per pixel and channel.
    Noisy,
    /// `scream_dsprites`: 64×64×3 on a patch of a texture, inverted under the sprite.
    Scream(ScreamTexture),
}

/// The background image of Scream-dSprites, `u8` RGB, row-major `(height, width, 3)`.
#[derive(Debug, Clone)]
pub struct ScreamTexture {
    height: usize,
    width: usize,
    /// INVARIANT: `height · width · 3` bytes, `height > 64` and `width > 64`.
    pixels: Vec<u8>,
}

impl ScreamTexture {
    /// The fixed procedural texture: 274×222 (the size of the thumbnailed painting), smooth coloured
    /// value noise with swirling bands, generated from `RandomState(1893)` (the painting's year), so it
    /// is the same everywhere.
    pub fn procedural() -> Self {
        let (height, width) = (274usize, 222usize);
        let mut rng = RandomState::new(1893);
        // Three octaves of value noise per channel on coarse lattices, bilinearly interpolated with a
        // smoothstep; lattice values are drawn in a fixed order from the fixed seed.
        let octaves: [(usize, f64); 3] = [(6, 0.55), (14, 0.3), (34, 0.15)];
        let lattices: Vec<Vec<f64>> = octaves
            .iter()
            .flat_map(|&(cells, _)| (0..3).map(move |_| cells))
            .map(|cells| {
                (0..(cells + 1) * (cells + 1))
                    .map(|_| rng.random_sample())
                    .collect()
            })
            .collect();
        // A warm palette tilt (sky orange, water blue) like the painting.
        let tint = [[0.95, 0.55, 0.25], [0.25, 0.35, 0.6]];
        let mut pixels = Vec::with_capacity(height * width * 3);
        for y in 0..height {
            for x in 0..width {
                let fy = y as f64 / height as f64;
                let fx = x as f64 / width as f64;
                // Swirl: bands along a warped diagonal.
                let (band, _) = sin_cos_turns(3.0 * fy + 1.5 * fx * fx, 1.0);
                let sky = (1.0 - fy).clamp(0.0, 1.0);
                for channel in 0..3 {
                    let mut value = 0.0;
                    for (octave, &(cells, weight)) in octaves.iter().enumerate() {
                        let lattice = &lattices[octave * 3 + channel];
                        value += weight * value_noise(lattice, cells, fx, fy);
                    }
                    let base = sky * tint[0][channel] + (1.0 - sky) * tint[1][channel];
                    let shade = 0.45 * value + 0.35 * base + 0.2 * (0.5 + 0.5 * band);
                    pixels.push((shade.clamp(0.0, 1.0) * 255.0).round() as u8);
                }
            }
        }
        ScreamTexture {
            height,
            width,
            pixels,
        }
    }

    /// Opens a user-given image (PNG or JPEG) and shrinks it, keeping its aspect ratio, to fit inside
    /// 350×274 as PIL's `thumbnail((350, 274))` does (reference §4.4). The resampling filter is
    /// Catmull–Rom (bicubic, Pillow's default for `thumbnail`); pixels may differ from Pillow's by
    /// rounding, so Scream-dSprites from a file is not bit-identical to the reference's.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let image = image::open(path)
            .map_err(|source| DataError::Image {
                path: path.to_path_buf(),
                source,
            })?
            .to_rgb8();
        let (width, height) = thumbnail_size(image.width(), image.height(), 350, 274);
        let image = if (width, height) == (image.width(), image.height()) {
            image
        } else {
            image::imageops::resize(
                &image,
                width,
                height,
                image::imageops::FilterType::CatmullRom,
            )
        };
        if width <= SIDE as u32 || height <= SIDE as u32 {
            return Err(DataError::ImageTooSmall {
                path: path.to_path_buf(),
                width,
                height,
            });
        }
        Ok(ScreamTexture {
            height: height as usize,
            width: width as usize,
            pixels: image.into_raw(),
        })
    }

    /// `(height, width)` in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.height, self.width)
    }
}

/// PIL `thumbnail`'s target size (Pillow ≥ 7): unchanged if it already fits; otherwise the side that
/// binds is set to the maximum and the other is `floor` or `ceil` of the exact value, whichever keeps
/// the aspect ratio closer (`floor` on a tie), and at least 1.
pub(crate) fn thumbnail_size(width: u32, height: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if max_w >= width && max_h >= height {
        return (width, height);
    }
    let aspect = f64::from(width) / f64::from(height);
    let (x, y) = (f64::from(max_w), f64::from(max_h));
    let closer = |exact: f64, error: &dyn Fn(f64) -> f64| -> u32 {
        let (lo, hi) = (exact.floor(), exact.ceil());
        let best = if error(hi) < error(lo) { hi } else { lo };
        (best as u32).max(1)
    };
    if x / y >= aspect {
        (closer(y * aspect, &|n| (aspect - n / y).abs()), max_h)
    } else {
        (
            max_w,
            closer(x / aspect, &|n| {
                if n == 0.0 {
                    0.0
                } else {
                    (aspect - x / n).abs()
                }
            }),
        )
    }
}

/// Bilinear value noise with smoothstep weights on a `(cells + 1)²` lattice over the unit square.
fn value_noise(lattice: &[f64], cells: usize, fx: f64, fy: f64) -> f64 {
    let gx = fx * cells as f64;
    let gy = fy * cells as f64;
    let (ix, iy) = (gx.floor() as usize, gy.floor() as usize);
    let (tx, ty) = (gx - ix as f64, gy - iy as f64);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let at = |cx: usize, cy: usize| {
        let cx = cx.min(cells);
        let cy = cy.min(cells);
        lattice.get(cy * (cells + 1) + cx).copied().unwrap_or(0.0)
    };
    let top = at(ix, iy) * (1.0 - sx) + at(ix + 1, iy) * sx;
    let bottom = at(ix, iy + 1) * (1.0 - sx) + at(ix + 1, iy + 1) * sx;
    top * (1.0 - sy) + bottom * sy
}

/// dSprites, procedural or from the released file, in one of the four variants.
#[derive(Debug)]
pub struct Dsprites {
    name: String,
    source: SpriteSource,
    variant: Variant,
    space: FactorSpace,
    names: Vec<String>,
}

impl Dsprites {
    /// Procedural dSprites in the given variant.
    pub fn procedural(variant: Variant) -> Self {
        Self::with_source(SpriteSource::Procedural, variant)
    }

    /// dSprites from the released `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` (array `imgs`,
    /// uint8 `(737280, 64, 64)` with values in {0, 1}).
    pub fn from_npz(path: &Path, variant: Variant) -> Result<Self, DataError> {
        let masks = read_masks(path, 737_280)?;
        Ok(Self::with_source(
            SpriteSource::Released {
                path: path.to_path_buf(),
                masks,
            },
            variant,
        ))
    }

    fn with_source(source: SpriteSource, variant: Variant) -> Self {
        let name = match variant {
            Variant::Binary => "dsprites_full",
            Variant::Color => "color_dsprites",
            Variant::Noisy => "noisy_dsprites",
            Variant::Scream(_) => "scream_dsprites",
        };
        Dsprites {
            name: name.to_string(),
            source,
            variant,
            space: FactorSpace::new(FACTOR_SIZES.to_vec())
                .expect("INVARIANT: the dSprites sizes are non-zero and small"),
            names: FACTOR_NAMES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The binary sprite for one (checked) factor row.
    pub fn mask(&self, row: &[u32]) -> Mask {
        match &self.source {
            SpriteSource::Procedural => render_mask(row),
            SpriteSource::Released { masks, .. } => {
                let start = self.space.ravel(row) as usize * SIDE;
                let mut mask = [0u64; SIDE];
                if let Some(words) = masks.get(start..start + SIDE) {
                    mask.copy_from_slice(words);
                }
                mask
            }
        }
    }
}

/// Reads array `imgs` of a dSprites `.npz` (uint8 `(count, 64, 64)`, values 0 and 1) into bit masks,
/// 64 words per image.
pub(crate) fn read_masks(path: &Path, count: u64) -> Result<Vec<u64>, DataError> {
    let mut file = NpzFile::open(path)?;
    let expected = format!("uint8 [{count}, 64, 64] with values 0 and 1");
    let mut masks = Vec::with_capacity(usize::try_from(count).unwrap_or(0).saturating_mul(SIDE));
    // One image (64 rows of 64 bytes) per chunk, packed as it streams in.
    file.array_u8_chunks(
        "imgs",
        &expected,
        |shape| shape == [count, 64, 64],
        SIDE * SIDE,
        |image| {
            for row in image.chunks_exact(SIDE) {
                let mut word = 0u64;
                for (x, &value) in row.iter().enumerate() {
                    match value {
                        0 => {}
                        1 => word |= 1 << x,
                        other => {
                            let row_index = masks.len();
                            return Err(DataError::Malformed {
                                path: path.to_path_buf(),
                                format: "dSprites npz",
                                expected: "pixel values 0 or 1 in `imgs`".to_string(),
                                found: format!(
                                    "{other} in image {}, row {}, column {x}",
                                    row_index / SIDE,
                                    row_index % SIDE
                                ),
                            });
                        }
                    }
                }
                masks.push(word);
            }
            Ok(())
        },
    )?;
    Ok(masks)
}

/// Renders the procedural sprite of one factor row `[shape, scale, orientation, pos_x, pos_y]`.
/// Values past a factor's size are clamped to its last value; rows should be checked first.
pub fn render_mask(row: &[u32]) -> Mask {
    let get = |i: usize| row.get(i).copied().unwrap_or(0).min(FACTOR_SIZES[i] - 1);
    let shape = get(0);
    // scale: linspace(0.5, 1, 6); positions: linspace(0, 1, 32).
    let scale = 0.5 + 0.1 * f64::from(get(1));
    let (sin, cos) = sin_cos_turns(f64::from(get(2)), 40.0);
    let centre_x = POS_OFFSET + POS_SPAN * f64::from(get(3)) / 31.0;
    let centre_y = POS_OFFSET + POS_SPAN * f64::from(get(4)) / 31.0;
    let radius = RADIUS_AT_SCALE_1 * scale;
    let inv_radius = 1.0 / radius;
    // Every shape lies within 1.5 R of its centre (the square's corner is at √2 R).
    let reach = 1.5 * radius + 1.0;
    let lo = |c: f64| ((c - reach).floor().max(0.0)) as usize;
    let hi = |c: f64| ((c + reach).ceil().min(SIDE as f64)) as usize;
    let mut mask = [0u64; SIDE];
    for (y, word) in mask
        .iter_mut()
        .enumerate()
        .take(hi(centre_y))
        .skip(lo(centre_y))
    {
        let dy = y as f64 + 0.5 - centre_y;
        for x in lo(centre_x)..hi(centre_x) {
            let dx = x as f64 + 0.5 - centre_x;
            // Rotate the offset by −θ into the sprite's own frame, in units of R.
            let u = (dx * cos + dy * sin) * inv_radius;
            let v = (dy * cos - dx * sin) * inv_radius;
            if inside(shape, u, v) {
                *word |= 1 << x;
            }
        }
    }
    mask
}

/// Whether `(u, v)` (sprite frame, units of R, v pointing down the image) is inside the shape.
fn inside(shape: u32, u: f64, v: f64) -> bool {
    match shape {
        0 => u.abs() <= 1.0 && v.abs() <= 1.0,
        1 => u * u + 4.0 * v * v <= 1.0,
        _ => {
            // The classic implicit heart, y up; scaled so it spans about [-1, 1] and centred.
            let p = 1.14 * u;
            let q = 1.14 * (-v + 0.1);
            let r = p * p + q * q - 1.0;
            r * r * r - p * p * q * q * q <= 0.0
        }
    }
}

impl GroundTruthData for Dsprites {
    fn name(&self) -> &str {
        &self.name
    }

    fn factor_space(&self) -> &FactorSpace {
        &self.space
    }

    fn factor_names(&self) -> &[String] {
        &self.names
    }

    fn observation_shape(&self) -> [usize; 3] {
        match self.variant {
            Variant::Binary => [SIDE, SIDE, 1],
            Variant::Color | Variant::Noisy | Variant::Scream(_) => [SIDE, SIDE, 3],
        }
    }

    fn observations(
        &self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.space.check_rows(factors)?;
        let len = self.observation_len();
        let start = out.len();
        out.resize(start + factors.len() * len, 0.0);
        let images = out[start..].chunks_exact_mut(len);
        for (row, image) in factors.iter().zip(images) {
            let mask = self.mask(row);
            // Arithmetic is f64 and cast at the end, as numpy computes these in float64 before the
            // pipeline casts to float32.
            match &self.variant {
                Variant::Binary => {
                    for (pixel, bit) in image.iter_mut().zip(mask_bits(&mask)) {
                        *pixel = f32::from(bit);
                    }
                }
                Variant::Color => {
                    // One `uniform(0.5, 1, (N, 1, 1, 3))` draw: three values per image, in order.
                    let colour: [f64; 3] = std::array::from_fn(|_| rng.uniform(0.5, 1.0));
                    for (pixel, bit) in image.chunks_exact_mut(3).zip(mask_bits(&mask)) {
                        if bit == 1 {
                            for (value, c) in pixel.iter_mut().zip(colour) {
                                *value = c as f32;
                            }
                        }
                    }
                }
                Variant::Noisy => {
                    // `uniform(0, 1, (N, 64, 64, 3))`: row-major, channel fastest.
                    for (pixel, bit) in image.chunks_exact_mut(3).zip(mask_bits(&mask)) {
                        for value in pixel.iter_mut() {
                            let noise = rng.uniform(0.0, 1.0);
                            *value = (f64::from(bit) + noise).min(1.0) as f32;
                        }
                    }
                }
                Variant::Scream(texture) => scream_image(texture, &mask, rng, image),
            }
        }
        Ok(())
    }
}

/// The 4096 bits of a mask in row-major order, as 0 or 1.
fn mask_bits(mask: &Mask) -> impl Iterator<Item = u8> + '_ {
    mask.iter()
        .flat_map(|&word| (0..SIDE).map(move |x| ((word >> x) & 1) as u8))
}

/// One Scream-dSprites image (reference §4.4): draws the crop corner (row then column) and a colour,
/// background `(patch + colour) / 2`, inverted under the sprite. `image` is 64·64·3 values.
fn scream_image(texture: &ScreamTexture, mask: &Mask, rng: &mut RandomState, image: &mut [f32]) {
    // INVARIANT: height, width > 64, so both ranges are non-empty.
    let row0 = rng.randint(0, (texture.height - SIDE) as i64) as usize;
    let col0 = rng.randint(0, (texture.width - SIDE) as i64) as usize;
    let colour: [f64; 3] = std::array::from_fn(|_| rng.uniform(0.0, 1.0));
    for (y, out_row) in image.chunks_exact_mut(SIDE * 3).enumerate() {
        let src_start = ((row0 + y) * texture.width + col0) * 3;
        let src_row = texture
            .pixels
            .get(src_start..src_start + SIDE * 3)
            .unwrap_or(&[]);
        let word = mask[y];
        for (x, (out_px, src_px)) in out_row
            .chunks_exact_mut(3)
            .zip(src_row.chunks_exact(3))
            .enumerate()
        {
            let on = (word >> x) & 1 == 1;
            for ((value, &src), c) in out_px.iter_mut().zip(src_px).zip(colour) {
                let background = (f64::from(src) / 255.0 + c) / 2.0;
                *value = if on { 1.0 - background } else { background } as f32;
            }
        }
    }
}
