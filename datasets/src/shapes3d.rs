//! A procedural Shapes3D-like scene (reference §4.7): an object on the floor of a room, seen by a
//! camera that orbits it.
//!
//! Six latent factors, in the released file's axis order: floor hue 10, wall hue 10, object hue 10
//! (hues `i/10` of the colour wheel), scale 8 (`linspace(0.75, 1.25, 8)`), shape 4 (cube, cylinder,
//! sphere, capsule) and orientation 15 (camera azimuth `linspace(−30°, 30°, 15)`). Images are
//! 64×64×3, quantised to multiples of 1/255 like the released `uint8` data.
//!
//! # Rendering
//! A ray caster with 3×3 supersampling: floor plane `y = 0`, back wall `z = 2.6`, the object standing
//! at the origin; a directional light casts the object's shadow on the floor and wall; surfaces are
//! Lambert-shaded with an ambient term. Geometry and lighting depend only on (scale, shape,
//! orientation), so the scene is ray-cast once per such combination (480 of them, lazily, 1–2 ms each)
//! into per-pixel weights of the three materials (floor, wall, object); an image is then three
//! multiply-adds per channel and pixel with the hue colours. Only correctly rounded f64 operations and
//! `geometry`'s libm-free trigonometry are used, so every machine renders the same pixels.
//!
//! This module must not read files; the released data goes through [`crate::grid::ImageGrid`].

use std::sync::OnceLock;

use crate::{DataError, FactorSpace, GroundTruthData, RandomState, geometry::sin_cos_turns};

/// Height and width of an image.
pub const SIDE: usize = 64;
/// The latent factor sizes: floor hue, wall hue, object hue, scale, shape, orientation.
pub const FACTOR_SIZES: [u32; 6] = [10, 10, 10, 8, 4, 15];
/// The latent factor names, in order (as in DeepMind's `3dshapes.h5`).
pub const FACTOR_NAMES: [&str; 6] = [
    "floor_hue",
    "wall_hue",
    "object_hue",
    "scale",
    "shape",
    "orientation",
];
/// Number of geometry combinations (scale × shape × orientation).
const GEOMETRIES: usize = 8 * 4 * 15;
/// Supersampling per axis.
const SUPERSAMPLE: usize = 3;
/// Position of the back wall.
const WALL_Z: f64 = 2.6;

/// Per-pixel shaded coverage of floor, wall and object: `[floor, wall, object]`, summing to at most 1.
type Weights = [f32; 3];

/// The procedural Shapes3D scene.
pub struct Shapes3d {
    space: FactorSpace,
    names: Vec<String>,
    /// `hue_rgb[i]` is the colour of hue `i/10`.
    hue_rgb: [[f32; 3]; 10],
    /// One entry per (scale, shape, orientation), `64·64` weights each, filled on first use.
    geometry: Vec<OnceLock<Box<[Weights]>>>,
}

impl std::fmt::Debug for Shapes3d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shapes3d")
            .field("space", &self.space)
            .finish_non_exhaustive()
    }
}

impl Default for Shapes3d {
    fn default() -> Self {
        Self::new()
    }
}

impl Shapes3d {
    /// The procedural scene; renders nothing until asked.
    pub fn new() -> Self {
        Shapes3d {
            space: FactorSpace::new(FACTOR_SIZES.to_vec())
                .expect("INVARIANT: the Shapes3D sizes are non-zero and small"),
            names: FACTOR_NAMES.iter().map(|s| s.to_string()).collect(),
            hue_rgb: std::array::from_fn(|i| hsv_to_rgb(i as f64 / 10.0, 0.8, 1.0)),
            geometry: (0..GEOMETRIES).map(|_| OnceLock::new()).collect(),
        }
    }

    fn weights(&self, scale: u32, shape: u32, orientation: u32) -> &[Weights] {
        let index = ((scale as usize * 4) + shape as usize) * 15 + orientation as usize;
        match self.geometry.get(index) {
            Some(cell) => cell.get_or_init(|| render_weights(scale, shape, orientation)),
            // Unreachable for checked rows; an empty slice renders black rather than panicking.
            None => &[],
        }
    }
}

/// HSV → RGB for `h ∈ [0, 1)`.
fn hsv_to_rgb(h: f64, s: f64, v: f64) -> [f32; 3] {
    let h6 = h * 6.0;
    let sector = h6.floor();
    let f = h6 - sector;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match sector as u32 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [r as f32, g as f32, b as f32]
}

type Vec3 = [f64; 3];

fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn mul(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn normalize(a: Vec3) -> Vec3 {
    mul(a, 1.0 / dot(a, a).sqrt())
}

/// The object standing on the floor at the origin.
#[derive(Clone, Copy)]
enum Object {
    /// Axis-aligned box `[-a, a] × [0, 2a] × [-a, a]`.
    Cube { a: f64 },
    /// Vertical cylinder of radius `r`, height `h`.
    Cylinder { r: f64, h: f64 },
    /// Sphere of radius `r` resting on the floor.
    Sphere { r: f64 },
    /// Vertical capsule: radius `r`, axis from `y0` to `y1`.
    Capsule { r: f64, y0: f64, y1: f64 },
}

impl Object {
    fn new(scale: u32, shape: u32) -> Self {
        // linspace(0.75, 1.25, 8); the base half-size 0.55 makes the object fill about a third of the
        // frame at the largest scale, like the released images.
        let s = 0.75 + 0.5 * f64::from(scale) / 7.0;
        let a = 0.68 * s;
        match shape {
            0 => Object::Cube { a },
            1 => Object::Cylinder { r: a, h: 2.0 * a },
            2 => Object::Sphere { r: 1.15 * a },
            _ => Object::Capsule {
                r: 0.7 * a,
                y0: 0.7 * a,
                y1: 2.3 * a,
            },
        }
    }

    /// Nearest hit `t > 1e-9` of the ray `o + t d` (d unit) and the outward normal there.
    fn hit(self, o: Vec3, d: Vec3) -> Option<(f64, Vec3)> {
        match self {
            Object::Cube { a } => hit_box(o, d, [-a, 0.0, -a], [a, 2.0 * a, a]),
            Object::Cylinder { r, h } => {
                let side = hit_vertical_cylinder(o, d, r, 0.0, h);
                let cap = hit_cap(o, d, r, h);
                nearest(side, cap)
            }
            Object::Sphere { r } => hit_sphere(o, d, [0.0, r, 0.0], r),
            Object::Capsule { r, y0, y1 } => {
                let side = hit_vertical_cylinder(o, d, r, y0, y1);
                let bottom = hit_sphere(o, d, [0.0, y0, 0.0], r);
                let top = hit_sphere(o, d, [0.0, y1, 0.0], r);
                nearest(nearest(side, bottom), top)
            }
        }
    }
}

const EPS: f64 = 1e-9;

fn nearest(a: Option<(f64, Vec3)>, b: Option<(f64, Vec3)>) -> Option<(f64, Vec3)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 < x.0 { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn hit_box(o: Vec3, d: Vec3, lo: Vec3, hi: Vec3) -> Option<(f64, Vec3)> {
    let mut t_near = f64::NEG_INFINITY;
    let mut t_far = f64::INFINITY;
    let mut normal = [0.0; 3];
    for axis in 0..3 {
        if d[axis] == 0.0 {
            if o[axis] < lo[axis] || o[axis] > hi[axis] {
                return None;
            }
            continue;
        }
        let t1 = (lo[axis] - o[axis]) / d[axis];
        let t2 = (hi[axis] - o[axis]) / d[axis];
        let (t_in, t_out, sign) = if t1 < t2 {
            (t1, t2, -1.0)
        } else {
            (t2, t1, 1.0)
        };
        if t_in > t_near {
            t_near = t_in;
            normal = [0.0; 3];
            normal[axis] = sign;
        }
        t_far = t_far.min(t_out);
    }
    (t_near <= t_far && t_near > EPS).then_some((t_near, normal))
}

fn hit_sphere(o: Vec3, d: Vec3, centre: Vec3, r: f64) -> Option<(f64, Vec3)> {
    let oc = sub(o, centre);
    let b = dot(oc, d);
    let c = dot(oc, oc) - r * r;
    let disc = b * b - c;
    if disc < 0.0 {
        return None;
    }
    let t = -b - disc.sqrt();
    (t > EPS).then(|| (t, normalize(sub(add(o, mul(d, t)), centre))))
}

fn hit_vertical_cylinder(o: Vec3, d: Vec3, r: f64, y0: f64, y1: f64) -> Option<(f64, Vec3)> {
    let a = d[0] * d[0] + d[2] * d[2];
    if a == 0.0 {
        return None;
    }
    let b = o[0] * d[0] + o[2] * d[2];
    let c = o[0] * o[0] + o[2] * o[2] - r * r;
    let disc = b * b - a * c;
    if disc < 0.0 {
        return None;
    }
    let t = (-b - disc.sqrt()) / a;
    let y = o[1] + t * d[1];
    (t > EPS && y >= y0 && y <= y1).then(|| {
        let p = add(o, mul(d, t));
        (t, normalize([p[0], 0.0, p[2]]))
    })
}

fn hit_cap(o: Vec3, d: Vec3, r: f64, h: f64) -> Option<(f64, Vec3)> {
    if d[1] == 0.0 {
        return None;
    }
    let t = (h - o[1]) / d[1];
    let p = add(o, mul(d, t));
    (t > EPS && p[0] * p[0] + p[2] * p[2] <= r * r).then_some((t, [0.0, 1.0, 0.0]))
}

/// Ray-casts one geometry into per-pixel material weights (row-major, 64·64 entries).
fn render_weights(scale: u32, shape: u32, orientation: u32) -> Box<[Weights]> {
    let object = Object::new(scale.min(7), shape.min(3));
    // Camera azimuth linspace(−30°, 30°, 15), in turns: (−30 + 60·k/14) / 360.
    let turns = (-30.0 + 60.0 * f64::from(orientation.min(14)) / 14.0) / 360.0;
    let (sin, cos) = sin_cos_turns(turns, 1.0);
    let distance = 4.6;
    let eye = [distance * sin, 1.15, -distance * cos];
    let target = [0.0, 0.7, 0.0];
    let forward = normalize(sub(target, eye));
    let right = normalize(cross(forward, [0.0, 1.0, 0.0]));
    let up = cross(right, forward);
    // tan(half field of view): 0.42 ≈ 23°, so the room's corner region fills the frame.
    let half_fov = 0.42;
    let light = normalize([-0.45, 1.0, -0.55]);
    let ambient = 0.35;
    let mut weights = vec![[0f32; 3]; SIDE * SIDE].into_boxed_slice();
    let samples = (SUPERSAMPLE * SUPERSAMPLE) as f64;
    for (pixel, out) in weights.iter_mut().enumerate() {
        let (py, px) = (pixel / SIDE, pixel % SIDE);
        let mut sum = [0f64; 3];
        for sy in 0..SUPERSAMPLE {
            for sx in 0..SUPERSAMPLE {
                let fx = (px as f64 + (sx as f64 + 0.5) / SUPERSAMPLE as f64) / SIDE as f64;
                let fy = (py as f64 + (sy as f64 + 0.5) / SUPERSAMPLE as f64) / SIDE as f64;
                let (u, v) = ((2.0 * fx - 1.0) * half_fov, (1.0 - 2.0 * fy) * half_fov);
                let dir = normalize(add(forward, add(mul(right, u), mul(up, v))));
                let (material, shade) = trace(object, eye, dir, light, ambient);
                sum[material] += shade;
            }
        }
        *out = [
            (sum[0] / samples) as f32,
            (sum[1] / samples) as f32,
            (sum[2] / samples) as f32,
        ];
    }
    weights
}

/// The material (0 floor, 1 wall, 2 object) a ray sees and its shading factor.
fn trace(object: Object, eye: Vec3, dir: Vec3, light: Vec3, ambient: f64) -> (usize, f64) {
    if let Some((t_obj, normal)) = object.hit(eye, dir) {
        let floor_t = if dir[1] < 0.0 {
            -eye[1] / dir[1]
        } else {
            f64::INFINITY
        };
        let wall_t = if dir[2] > 0.0 {
            (WALL_Z - eye[2]) / dir[2]
        } else {
            f64::INFINITY
        };
        if t_obj < floor_t.min(wall_t) {
            let diffuse = dot(normal, light).max(0.0);
            return (2, ambient + (1.0 - ambient) * diffuse);
        }
    }
    let floor_t = if dir[1] < 0.0 {
        -eye[1] / dir[1]
    } else {
        f64::INFINITY
    };
    let wall_t = if dir[2] > 0.0 {
        (WALL_Z - eye[2]) / dir[2]
    } else {
        f64::INFINITY
    };
    let (material, t, normal) = if floor_t < wall_t {
        (0, floor_t, [0.0, 1.0, 0.0])
    } else {
        (1, wall_t, [0.0, 0.0, -1.0])
    };
    if !t.is_finite() {
        return (1, ambient);
    }
    let point = add(eye, mul(dir, t));
    let lit = object.hit(add(point, mul(normal, 1e-6)), light).is_none();
    let diffuse = if lit {
        dot(normal, light).max(0.0)
    } else {
        0.0
    };
    // Walls get a softer light than the floor so the two stay apart even at equal hues.
    let strength = if material == 0 { 1.0 } else { 0.8 };
    (material, ambient + (1.0 - ambient) * strength * diffuse)
}

impl GroundTruthData for Shapes3d {
    fn name(&self) -> &str {
        "shapes3d"
    }

    fn factor_space(&self) -> &FactorSpace {
        &self.space
    }

    fn factor_names(&self) -> &[String] {
        &self.names
    }

    fn observation_shape(&self) -> [usize; 3] {
        [SIDE, SIDE, 3]
    }

    fn observations(
        &self,
        factors: &[Vec<u32>],
        _rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.space.check_rows(factors)?;
        let len = SIDE * SIDE * 3;
        let start = out.len();
        out.resize(start + factors.len() * len, 0.0);
        for (row, image) in factors.iter().zip(out[start..].chunks_exact_mut(len)) {
            let &[floor, wall, object, scale, shape, orientation] = row.as_slice() else {
                // check_rows guarantees six values.
                continue;
            };
            let colours = [floor, wall, object]
                .map(|hue| self.hue_rgb.get(hue as usize).copied().unwrap_or([0.0; 3]));
            let weights = self.weights(scale, shape, orientation);
            for (pixel, w) in image.chunks_exact_mut(3).zip(weights) {
                for (channel, value) in pixel.iter_mut().enumerate() {
                    let linear = w[0] * colours[0][channel]
                        + w[1] * colours[1][channel]
                        + w[2] * colours[2][channel];
                    // Quantise like the released uint8 images.
                    *value = (linear * 255.0).round().clamp(0.0, 255.0) / 255.0;
                }
            }
        }
        Ok(())
    }
}
