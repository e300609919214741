//! Pictures of a trained model: image grids (PNG) and latent-traversal animations (GIF).
//!
//! Input images are plain `f32` slices in NHWC order (`[n, h, w, c]`, row-major, the plan's layout)
//! with values in [0, 1] (decoder logits must already be mapped through the model's output
//! activation) and 1 (grey) or 3 (RGB) channels. Values outside [0, 1] are clamped; NaN or
//! infinite values are an error, never a silently black pixel. Output pictures are 8-bit RGB.
//!
//! This module must not depend on burn or on the plan: the training loop decodes, this module
//! draws. Reference issue #26 (animations that come out plain grey) is avoided by converting every
//! value to 8 bits exactly once, with an exact palette whenever a GIF has at most 256 colours.

use std::collections::BTreeMap;

use super::error::ArtifactsError;

/// Grey level of the gaps between tiles: halfway, so that tiles stand out from black backgrounds
/// (dSprites) and white ones alike.
pub const PAD_GREY: u8 = 128;

/// An 8-bit RGB picture, rows top to bottom, pixels left to right, `[r, g, b]` per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    /// `width · height · 3` bytes.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// A picture filled with one grey level.
    pub fn filled(width: u32, height: u32, grey: u8) -> Self {
        Self {
            width,
            height,
            pixels: vec![grey; width as usize * height as usize * 3],
        }
    }

    /// The `[r, g, b]` of pixel (x, y), or `None` outside the picture.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let offset = (y as usize * self.width as usize + x as usize) * 3;
        let rgb = self.pixels.get(offset..offset + 3)?;
        Some([rgb[0], rgb[1], rgb[2]])
    }
}

/// Shape of a batch of NHWC images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    /// Number of images.
    pub count: usize,
    pub height: usize,
    pub width: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
}

impl ImageShape {
    /// Values in one image.
    fn image_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Checks the channel count and that `values` holds exactly `count` images.
    fn check(&self, values: &[f32]) -> Result<(), ArtifactsError> {
        if self.channels != 1 && self.channels != 3 {
            return Err(ArtifactsError::UnsupportedChannels {
                channels: self.channels,
            });
        }
        let expected = self.count * self.image_len();
        if values.len() != expected {
            return Err(ArtifactsError::ImageBufferLength {
                actual: values.len(),
                expected,
                count: self.count,
                height: self.height,
                width: self.width,
                channels: self.channels,
            });
        }
        Ok(())
    }
}

/// Converts a value in [0, 1] to 8 bits (clamping), refusing NaN and infinities.
fn to_byte(value: f32, image: usize, offset: usize) -> Result<u8, ArtifactsError> {
    if !value.is_finite() {
        return Err(ArtifactsError::NonFinitePixel {
            image,
            offset,
            value,
        });
    }
    // INVARIANT: the clamped value times 255 lies in [0, 255], so the cast cannot saturate.
    Ok((value.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// A picture being assembled from equal tiles separated by `pad` pixels of [`PAD_GREY`].
struct Canvas {
    picture: RgbImage,
    tile_height: usize,
    tile_width: usize,
    pad: usize,
}

impl Canvas {
    fn new(
        rows: usize,
        columns: usize,
        tile_height: usize,
        tile_width: usize,
        pad: usize,
    ) -> Result<Self, ArtifactsError> {
        let width = columns * tile_width + (columns + 1) * pad;
        let height = rows * tile_height + (rows + 1) * pad;
        let too_large = || ArtifactsError::PictureTooLarge {
            width,
            height,
            format: "a picture",
        };
        let width_u32 = u32::try_from(width).map_err(|_| too_large())?;
        let height_u32 = u32::try_from(height).map_err(|_| too_large())?;
        Ok(Self {
            picture: RgbImage::filled(width_u32, height_u32, PAD_GREY),
            tile_height,
            tile_width,
            pad,
        })
    }

    /// Draws image `index` of `images` (shape `shape`) into cell (row, column).
    fn put(
        &mut self,
        row: usize,
        column: usize,
        images: &[f32],
        shape: ImageShape,
        index: usize,
    ) -> Result<(), ArtifactsError> {
        let image_len = shape.image_len();
        let start = index * image_len;
        let Some(image) = images.get(start..start + image_len) else {
            // Callers index only images they checked exist; an empty cell is harmless anyway.
            return Ok(());
        };
        let picture_width = self.picture.width as usize;
        let top = self.pad + row * (self.tile_height + self.pad);
        let left = self.pad + column * (self.tile_width + self.pad);
        for y in 0..self.tile_height {
            for x in 0..self.tile_width {
                let source = (y * self.tile_width + x) * shape.channels;
                let target = ((top + y) * picture_width + left + x) * 3;
                for rgb in 0..3 {
                    // Grey images repeat their one channel into r, g and b.
                    let channel = if shape.channels == 1 { 0 } else { rgb };
                    let byte = to_byte(image[source + channel], index, source + channel)?;
                    self.picture.pixels[target + rgb] = byte;
                }
            }
        }
        Ok(())
    }
}

/// Lays out `count` NHWC images (values in [0, 1]) in a grid of `columns` columns, row by row,
/// separated and surrounded by `pad` grey pixels.
///
/// `images` has shape `[count, height, width, channels]`. The grid has `ceil(count / columns)` rows;
/// cells after the last image stay grey. Columns beyond `count` are not drawn.
pub fn image_grid(
    images: &[f32],
    count: usize,
    height: usize,
    width: usize,
    channels: usize,
    columns: usize,
    pad: usize,
) -> Result<RgbImage, ArtifactsError> {
    let shape = ImageShape {
        count,
        height,
        width,
        channels,
    };
    shape.check(images)?;
    if count == 0 || columns == 0 || height == 0 || width == 0 {
        return Err(ArtifactsError::EmptyGrid {
            count,
            height,
            width,
            columns,
        });
    }
    let columns = columns.min(count);
    let rows = count.div_ceil(columns);
    let mut canvas = Canvas::new(rows, columns, height, width, pad)?;
    for index in 0..count {
        canvas.put(index / columns, index % columns, images, shape, index)?;
    }
    Ok(canvas.picture)
}

/// Inputs above their reconstructions: for every block of `columns` examples, one row of inputs and
/// under it the row of their reconstructions.
///
/// `inputs` and `reconstructions` both have shape `[count, height, width, channels]`, values in
/// [0, 1] (reconstructions after the output activation).
#[allow(clippy::too_many_arguments)] // The image shape is four numbers; grouping them hides the NHWC order.
pub fn reconstruction_grid(
    inputs: &[f32],
    reconstructions: &[f32],
    count: usize,
    height: usize,
    width: usize,
    channels: usize,
    columns: usize,
    pad: usize,
) -> Result<RgbImage, ArtifactsError> {
    let shape = ImageShape {
        count,
        height,
        width,
        channels,
    };
    shape.check(inputs)?;
    shape.check(reconstructions)?;
    if count == 0 || columns == 0 || height == 0 || width == 0 {
        return Err(ArtifactsError::EmptyGrid {
            count,
            height,
            width,
            columns,
        });
    }
    let columns = columns.min(count);
    let blocks = count.div_ceil(columns);
    let mut canvas = Canvas::new(2 * blocks, columns, height, width, pad)?;
    for index in 0..count {
        let (block, column) = (index / columns, index % columns);
        canvas.put(2 * block, column, inputs, shape, index)?;
        canvas.put(2 * block + 1, column, reconstructions, shape, index)?;
    }
    Ok(canvas.picture)
}

/// Number of columns that makes a grid of `count` tiles as square as possible.
pub fn square_columns(count: usize) -> usize {
    let mut columns = 1;
    while columns * columns < count {
        columns += 1;
    }
    columns
}

/// The `steps` values a latent takes in a traversal: evenly spaced over [−limit, limit], both ends
/// included. One step gives the centre, 0.
pub fn traversal_values(steps: usize, limit: f64) -> Vec<f32> {
    match steps {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => (0..steps)
            .map(|step| (-limit + 2.0 * limit * step as f64 / (steps - 1) as f64) as f32)
            .collect(),
    }
}

/// The latent codes to decode for a traversal around `base` (one code of `n_latents` values).
///
/// Returns shape `[n_latents · steps, n_latents]`: row `i · steps + j` is `base` with latent `i`
/// set to `traversal_values(steps, limit)[j]`. Decoding these rows in order gives exactly the
/// images [`traversal_grid`] and [`traversal_frames`] expect.
pub fn traversal_codes(base: &[f32], steps: usize, limit: f64) -> Vec<f32> {
    let n_latents = base.len();
    let values = traversal_values(steps, limit);
    let mut codes = Vec::with_capacity(n_latents * steps * n_latents);
    for latent in 0..n_latents {
        for value in &values {
            let start = codes.len();
            codes.extend_from_slice(base);
            codes[start + latent] = *value;
        }
    }
    codes
}

/// One row per latent, one column per traversal value: `images` has shape
/// `[n_latents · steps, height, width, channels]`, in the order of [`traversal_codes`].
#[allow(clippy::too_many_arguments)] // See `reconstruction_grid`.
pub fn traversal_grid(
    images: &[f32],
    n_latents: usize,
    steps: usize,
    height: usize,
    width: usize,
    channels: usize,
    pad: usize,
) -> Result<RgbImage, ArtifactsError> {
    image_grid(
        images,
        n_latents * steps,
        height,
        width,
        channels,
        steps,
        pad,
    )
}

/// The frames of one latent's traversal animation, forth then back: values 0, 1, …, steps−1,
/// steps−2, …, 1, so that a looping GIF moves smoothly without pausing on the ends.
///
/// `images` holds the `steps` decoded images of this latent, shape `[steps, height, width, channels]`.
/// Each frame is drawn `scale` times larger (nearest neighbour) so that 64×64 images are legible.
pub fn traversal_frames(
    images: &[f32],
    steps: usize,
    height: usize,
    width: usize,
    channels: usize,
    scale: usize,
) -> Result<Vec<RgbImage>, ArtifactsError> {
    let shape = ImageShape {
        count: steps,
        height,
        width,
        channels,
    };
    shape.check(images)?;
    if steps == 0 || height == 0 || width == 0 || scale == 0 {
        return Err(ArtifactsError::EmptyGrid {
            count: steps,
            height,
            width,
            columns: scale,
        });
    }
    let order = (0..steps).chain((1..steps.saturating_sub(1)).rev());
    order
        .map(|index| {
            let start = index * shape.image_len();
            let one = &images[start..start + shape.image_len()];
            let frame = image_grid(one, 1, height, width, channels, 1, 0)?;
            Ok(upscale(&frame, scale))
        })
        .collect()
}

/// Nearest-neighbour enlargement by an integer factor.
fn upscale(picture: &RgbImage, scale: usize) -> RgbImage {
    if scale == 1 {
        return picture.clone();
    }
    let (width, height) = (picture.width as usize, picture.height as usize);
    let mut pixels = Vec::with_capacity(width * height * scale * scale * 3);
    for y in 0..height * scale {
        for x in 0..width * scale {
            let source = ((y / scale) * width + x / scale) * 3;
            pixels.extend_from_slice(&picture.pixels[source..source + 3]);
        }
    }
    RgbImage {
        width: (width * scale) as u32,
        height: (height * scale) as u32,
        pixels,
    }
}

/// Encodes a picture as an 8-bit RGB PNG.
pub fn encode_png(picture: &RgbImage) -> Result<Vec<u8>, ArtifactsError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, picture.width, picture.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(ArtifactsError::Png)?;
        writer
            .write_image_data(&picture.pixels)
            .map_err(ArtifactsError::Png)?;
        writer.finish().map_err(ArtifactsError::Png)?;
    }
    Ok(bytes)
}

/// Encodes frames of equal size as an animated GIF that loops forever, each frame shown for
/// `delay_centiseconds` hundredths of a second.
///
/// When all frames together use at most 256 colours (always the case for grey images) they share
/// one exact global palette, so decoding gives back the very same pixels. Otherwise each frame gets
/// its own palette from NeuQuant colour quantisation (lossy, but never flat grey).
pub fn encode_gif(frames: &[RgbImage], delay_centiseconds: u16) -> Result<Vec<u8>, ArtifactsError> {
    let first = frames.first().ok_or(ArtifactsError::NoFrames)?;
    for (index, frame) in frames.iter().enumerate() {
        if (frame.width, frame.height) != (first.width, first.height) {
            return Err(ArtifactsError::FrameSizeMismatch {
                frame: index,
                width: frame.width,
                height: frame.height,
                first_width: first.width,
                first_height: first.height,
            });
        }
    }
    let too_large = ArtifactsError::PictureTooLarge {
        width: first.width as usize,
        height: first.height as usize,
        format: "GIF",
    };
    let (Ok(width), Ok(height)) = (u16::try_from(first.width), u16::try_from(first.height)) else {
        return Err(too_large);
    };
    if width == 0 || height == 0 {
        return Err(too_large);
    }

    let palette = exact_palette(frames);
    let global_palette: Vec<u8> = match &palette {
        Some(colours) => colours.keys().flat_map(|rgb| rgb.iter().copied()).collect(),
        None => Vec::new(),
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, width, height, &global_palette)
            .map_err(ArtifactsError::Gif)?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(ArtifactsError::Gif)?;
        for picture in frames {
            let mut frame = match &palette {
                Some(colours) => {
                    let indices: Vec<u8> = picture
                        .pixels
                        .chunks_exact(3)
                        // INVARIANT: the palette was built from these very pixels.
                        .map(|rgb| colours.get(&[rgb[0], rgb[1], rgb[2]]).copied().unwrap_or(0))
                        .collect();
                    gif::Frame::from_indexed_pixels(width, height, indices, None)
                }
                // Speed 1 (best quality): frames are a few thousand pixels, so NeuQuant's cost
                // is negligible next to training.
                None => gif::Frame::from_rgb_speed(width, height, &picture.pixels, 1),
            };
            frame.delay = delay_centiseconds;
            encoder.write_frame(&frame).map_err(ArtifactsError::Gif)?;
        }
    }
    Ok(bytes)
}

/// The colours used by all frames with their palette indices (sorted, so the output is
/// deterministic), or `None` when there are more than 256.
fn exact_palette(frames: &[RgbImage]) -> Option<BTreeMap<[u8; 3], u8>> {
    let mut colours = BTreeMap::new();
    for frame in frames {
        for rgb in frame.pixels.chunks_exact(3) {
            colours.insert([rgb[0], rgb[1], rgb[2]], 0u8);
            if colours.len() > 256 {
                return None;
            }
        }
    }
    for (index, slot) in colours.values_mut().enumerate() {
        // INVARIANT: at most 256 colours, so every index fits in a byte.
        *slot = index as u8;
    }
    Some(colours)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a PNG back to (width, height, RGB bytes).
    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("valid PNG header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("size fits memory")];
        let info = reader.next_frame(&mut buffer).expect("valid PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buffer.truncate(info.buffer_size());
        (info.width, info.height, buffer)
    }

    /// Decodes every frame of a GIF to RGBA, with its delay and the loop setting.
    fn decode_gif(bytes: &[u8]) -> (u16, u16, Vec<(u16, Vec<u8>)>, gif::Repeat) {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options
            .read_info(std::io::Cursor::new(bytes))
            .expect("GIF header");
        let mut frames = Vec::new();
        while let Some(frame) = decoder.read_next_frame().expect("GIF frame") {
            frames.push((frame.delay, frame.buffer.to_vec()));
        }
        (decoder.width(), decoder.height(), frames, decoder.repeat())
    }

    /// Two 2×3 grey images: the first a ramp, the second constant 1.
    fn two_grey_images() -> Vec<f32> {
        let mut images: Vec<f32> = (0..6).map(|i| i as f32 / 5.0).collect();
        images.extend([1.0; 6]);
        images
    }

    #[test]
    fn grid_places_tiles_with_padding_and_round_trips_through_png() {
        let images = two_grey_images();
        let grid = image_grid(&images, 2, 2, 3, 1, 2, 1).expect("grid");
        // 2 columns of width 3 and 3 pad columns; 1 row of height 2 and 2 pad rows.
        assert_eq!((grid.width, grid.height), (9, 4));
        assert_eq!(grid.pixel(0, 0), Some([PAD_GREY; 3]));
        // Image 0, pixel (x=2, y=1) is value 5/5 = 1 → 255; pixel (0, 0) is 0.
        assert_eq!(grid.pixel(1, 1), Some([0; 3]));
        assert_eq!(grid.pixel(2, 1), Some([51; 3]), "0.2 · 255 = 51");
        assert_eq!(grid.pixel(3, 2), Some([255; 3]));
        assert_eq!(grid.pixel(4, 1), Some([PAD_GREY; 3]), "gap between tiles");
        assert_eq!(
            grid.pixel(5, 1),
            Some([255; 3]),
            "image 1 starts after the gap"
        );

        let (width, height, pixels) = decode_png(&encode_png(&grid).expect("png"));
        assert_eq!((width, height), (9, 4));
        assert_eq!(pixels, grid.pixels);
    }

    #[test]
    fn rgb_images_keep_their_channels_and_values_are_clamped() {
        // One 1×2 RGB image: a red pixel, then an out-of-range pixel.
        let images = [1.0, 0.0, 0.0, 1.7, -0.3, 0.5];
        let grid = image_grid(&images, 1, 1, 2, 3, 4, 0).expect("grid");
        assert_eq!((grid.width, grid.height), (2, 1));
        assert_eq!(grid.pixel(0, 0), Some([255, 0, 0]));
        assert_eq!(
            grid.pixel(1, 0),
            Some([255, 0, 128]),
            "clamped, 0.5 · 255 rounds to 128"
        );
    }

    #[test]
    fn partial_last_row_stays_grey() {
        let images = vec![0.0; 3 * 2 * 2];
        let grid = image_grid(&images, 3, 2, 2, 1, 2, 0).expect("grid");
        assert_eq!((grid.width, grid.height), (4, 4));
        assert_eq!(
            grid.pixel(1, 3),
            Some([0; 3]),
            "third image, bottom-left cell"
        );
        assert_eq!(grid.pixel(3, 3), Some([PAD_GREY; 3]), "empty cell");
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let images = two_grey_images();
        assert!(matches!(
            image_grid(&images, 3, 2, 3, 1, 2, 1),
            Err(ArtifactsError::ImageBufferLength {
                actual: 12,
                expected: 18,
                ..
            })
        ));
        assert!(matches!(
            image_grid(&images, 1, 2, 3, 2, 1, 0),
            Err(ArtifactsError::UnsupportedChannels { channels: 2 })
        ));
        assert!(matches!(
            image_grid(&[], 0, 2, 3, 1, 1, 0),
            Err(ArtifactsError::EmptyGrid { .. })
        ));
        let mut with_nan = images.clone();
        with_nan[8] = f32::NAN;
        assert!(matches!(
            image_grid(&with_nan, 2, 2, 3, 1, 2, 1),
            Err(ArtifactsError::NonFinitePixel {
                image: 1,
                offset: 2,
                ..
            })
        ));
    }

    #[test]
    fn reconstruction_grid_puts_inputs_above_reconstructions() {
        // Three 1×1 grey examples in blocks of 2 columns: inputs black, reconstructions white.
        let inputs = [0.0; 3];
        let reconstructions = [1.0; 3];
        let grid = reconstruction_grid(&inputs, &reconstructions, 3, 1, 1, 1, 2, 0).expect("grid");
        assert_eq!((grid.width, grid.height), (2, 4));
        let column = |x| {
            (0..4)
                .map(|y| grid.pixel(x, y).expect("inside")[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(column(0), vec![0, 255, 0, 255]);
        assert_eq!(
            column(1),
            vec![0, 255, PAD_GREY, PAD_GREY],
            "no fourth example"
        );
    }

    #[test]
    fn traversal_values_span_the_limits() {
        assert_eq!(traversal_values(5, 2.0), vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
        assert_eq!(traversal_values(1, 2.0), vec![0.0]);
        assert!(traversal_values(0, 2.0).is_empty());
    }

    #[test]
    fn traversal_codes_move_one_latent_per_row() {
        let codes = traversal_codes(&[0.5, -0.5], 3, 1.0);
        assert_eq!(
            codes,
            vec![
                -1.0, -0.5, 0.0, -0.5, 1.0, -0.5, 0.5, -1.0, 0.5, 0.0, 0.5, 1.0
            ],
            "rows: latent 0 over [-1, 0, 1], then latent 1"
        );
    }

    #[test]
    fn traversal_grid_has_one_row_per_latent() {
        let images = vec![0.25; 2 * 4 * 3 * 3];
        let grid = traversal_grid(&images, 2, 4, 3, 3, 1, 1).expect("grid");
        assert_eq!((grid.width, grid.height), (4 * 3 + 5, 2 * 3 + 3));
    }

    /// A 4-step traversal of a 4×4 grey image: a white pixel moving along the top row.
    fn moving_pixel(steps: usize) -> Vec<f32> {
        let mut images = vec![0.0; steps * 16];
        for step in 0..steps {
            images[step * 16 + step] = 1.0;
        }
        images
    }

    #[test]
    fn traversal_gif_goes_forth_and_back_loops_and_keeps_exact_pixels() {
        let frames = traversal_frames(&moving_pixel(4), 4, 4, 4, 1, 2).expect("frames");
        assert_eq!(frames.len(), 6, "0 1 2 3 2 1");
        let bytes = encode_gif(&frames, 15).expect("gif");
        let (width, height, decoded, repeat) = decode_gif(&bytes);
        assert_eq!((width, height), (8, 8), "scaled ×2");
        assert_eq!(repeat, gif::Repeat::Infinite);
        assert_eq!(decoded.len(), 6);
        for ((delay, rgba), frame) in decoded.iter().zip(&frames) {
            assert_eq!(*delay, 15);
            let rgb: Vec<u8> = rgba
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            assert_eq!(
                &rgb, &frame.pixels,
                "exact palette: pixels come back unchanged"
            );
        }
        // Frame order 0 1 2 3 2 1: the white pixel sits at x = 2·step (scaled), y = 0.
        let white_x: Vec<usize> = decoded
            .iter()
            .map(|(_, rgba)| {
                rgba.chunks_exact(4)
                    .position(|p| p[0] == 255)
                    .expect("a white pixel")
            })
            .collect();
        assert_eq!(white_x, vec![0, 2, 4, 6, 4, 2]);
        // Not plain grey (reference issue #26): both black and white are present.
        assert!(decoded[0].1.chunks_exact(4).any(|p| p[0] == 0));
    }

    #[test]
    fn many_colour_gif_is_quantised_but_keeps_its_contrast() {
        // A 32×32 colour gradient: 1024 colours, more than a palette holds.
        let mut pixels = Vec::new();
        for y in 0..32u32 {
            for x in 0..32u32 {
                pixels.extend([(x * 8) as u8, (y * 8) as u8, 200]);
            }
        }
        let frame = RgbImage {
            width: 32,
            height: 32,
            pixels,
        };
        let bytes = encode_gif(std::slice::from_ref(&frame), 10).expect("gif");
        let (_, _, decoded, _) = decode_gif(&bytes);
        let rgba = &decoded[0].1;
        let errors: Vec<u8> = rgba
            .chunks_exact(4)
            .zip(frame.pixels.chunks_exact(3))
            .flat_map(|(got, want)| (0..3).map(move |c| got[c].abs_diff(want[c])))
            .collect();
        let mean_error = errors.iter().map(|&e| f64::from(e)).sum::<f64>() / errors.len() as f64;
        // 256 palette entries for 1024 colours on a 2-D gradient: an even 16×16 split would be off
        // by ≤ 8 per channel (mean ≈ 4); NeuQuant is uneven, so allow a mean of 8. Single pixels
        // may be further off, which is why the mean is tested, not the maximum.
        assert!(mean_error <= 8.0, "mean channel error {mean_error}");
        // The contrast survives: red still spans (nearly) the source's 0..248.
        let reds = rgba.chunks_exact(4).map(|p| p[0]);
        let (low, high) = (
            reds.clone().min().expect("pixels"),
            reds.max().expect("pixels"),
        );
        assert!(low <= 24 && high >= 224, "red spans {low}..{high}");
    }

    #[test]
    fn gif_errors() {
        assert!(matches!(encode_gif(&[], 10), Err(ArtifactsError::NoFrames)));
        let small = RgbImage::filled(2, 2, 0);
        let large = RgbImage::filled(3, 2, 0);
        assert!(matches!(
            encode_gif(&[small, large], 10),
            Err(ArtifactsError::FrameSizeMismatch { frame: 1, .. })
        ));
        let huge = RgbImage {
            width: 70_000,
            height: 1,
            pixels: Vec::new(),
        };
        assert!(matches!(
            encode_gif(&[huge], 10),
            Err(ArtifactsError::PictureTooLarge { .. })
        ));
    }

    #[test]
    fn square_columns_is_the_ceiling_square_root() {
        let got: Vec<usize> = [1, 2, 4, 5, 9, 10, 64]
            .into_iter()
            .map(square_columns)
            .collect();
        assert_eq!(got, vec![1, 2, 2, 3, 3, 4, 8]);
    }
}
