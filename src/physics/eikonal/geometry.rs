//! The metric of the grid on which the eikonal equation is solved: arc-length spacings and the
//! source factor T₀ (the distance from the source, km) with its gradient per unit arc length
//! along each grid axis. `Cartesian` grids are in km; the `Spherical` grid is (longitude,
//! latitude) in degrees on a sphere of radius R (geocentric latitude), axis 0 pointing east and
//! axis 1 north.

use super::mesh::Mesh;

/// A grid with a metric. `Frame` is a source prepared once for many nodes.
pub trait Geometry<const D: usize>: Sync + Send {
    type Frame: Copy + Send + Sync;

    /// The index space and the coordinates of the nodes (in the geometry's units).
    fn mesh(&self) -> &Mesh<D>;

    /// Arc length (km) between node `c` and its neighbour along axis `k`.
    fn spacing(&self, c: &[usize; D], k: usize) -> f64;

    fn frame(&self, source: [f64; D]) -> Self::Frame;

    /// T₀ (km) and ∂T₀/∂(arc length) along each axis at node `c` (zero gradient at the source).
    fn node_factor(&self, c: &[usize; D], frame: &Self::Frame) -> (f64, [f64; D]);

    /// T₀ at an arbitrary point (receivers).
    fn distance(&self, p: [f64; D], frame: &Self::Frame) -> f64;
}

/// A Cartesian grid in km.
#[derive(Debug, Clone, Copy)]
pub struct Cartesian<const D: usize> {
    mesh: Mesh<D>,
}

impl<const D: usize> Cartesian<D> {
    pub fn new(mesh: Mesh<D>) -> Self {
        Cartesian { mesh }
    }
}

impl<const D: usize> Geometry<D> for Cartesian<D> {
    type Frame = [f64; D];

    fn mesh(&self) -> &Mesh<D> {
        &self.mesh
    }

    #[inline]
    fn spacing(&self, _c: &[usize; D], k: usize) -> f64 {
        self.mesh.spacing[k]
    }

    fn frame(&self, source: [f64; D]) -> [f64; D] {
        source
    }

    #[inline]
    fn node_factor(&self, c: &[usize; D], source: &[f64; D]) -> (f64, [f64; D]) {
        let diff: [f64; D] = std::array::from_fn(|a| {
            self.mesh.origin[a] + self.mesh.spacing[a] * c[a] as f64 - source[a]
        });
        let r = diff.iter().map(|d| d * d).sum::<f64>().sqrt();
        let g = if r > 0.0 {
            std::array::from_fn(|a| diff[a] / r)
        } else {
            [0.0; D]
        };
        (r, g)
    }

    fn distance(&self, p: [f64; D], source: &[f64; D]) -> f64 {
        (0..D)
            .map(|a| (p[a] - source[a]).powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

/// A (longitude, latitude) grid in degrees on a sphere of radius `radius` km. Latitudes are
/// geocentric.
#[derive(Debug, Clone)]
pub struct Spherical {
    mesh: Mesh<2>,
    radius: f64,
    /// Unit vectors of the nodes, and the east/north unit vectors there.
    position: Vec<[f64; 3]>,
    east: Vec<[f64; 3]>,
    north: Vec<[f64; 3]>,
    /// Arc length between neighbours along longitude, per latitude row.
    lon_spacing: Vec<f64>,
    lat_spacing: f64,
}

/// Unit vector of (longitude, latitude) in degrees.
pub fn unit_vector(lon: f64, lat: f64) -> [f64; 3] {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross_norm(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let c = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    dot(&c, &c).sqrt()
}

/// Central angle between two unit vectors (accurate at small and large angles).
pub fn central_angle(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    cross_norm(a, b).atan2(dot(a, b))
}

impl Spherical {
    /// `mesh` in degrees, (longitude, latitude); `radius` in km.
    pub fn new(mesh: Mesh<2>, radius: f64) -> Self {
        let n = mesh.n_nodes();
        let (mut position, mut east, mut north) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for i in 0..n {
            let [lon, lat] = mesh.position(i);
            let (lo, la) = (lon.to_radians(), lat.to_radians());
            position.push(unit_vector(lon, lat));
            east.push([-lo.sin(), lo.cos(), 0.0]);
            north.push([-la.sin() * lo.cos(), -la.sin() * lo.sin(), la.cos()]);
        }
        let lon_spacing = (0..mesh.shape[1])
            .map(|j| {
                radius
                    * (mesh.origin[1] + mesh.spacing[1] * j as f64)
                        .to_radians()
                        .cos()
                    * mesh.spacing[0].to_radians()
            })
            .collect();
        let lat_spacing = radius * mesh.spacing[1].to_radians();
        Spherical {
            mesh,
            radius,
            position,
            east,
            north,
            lon_spacing,
            lat_spacing,
        }
    }

    pub fn radius(&self) -> f64 {
        self.radius
    }
}

impl Geometry<2> for Spherical {
    /// The source's unit vector.
    type Frame = [f64; 3];

    fn mesh(&self) -> &Mesh<2> {
        &self.mesh
    }

    #[inline]
    fn spacing(&self, c: &[usize; 2], k: usize) -> f64 {
        if k == 0 {
            self.lon_spacing[c[1]]
        } else {
            self.lat_spacing
        }
    }

    fn frame(&self, source: [f64; 2]) -> [f64; 3] {
        unit_vector(source[0], source[1])
    }

    #[inline]
    fn node_factor(&self, c: &[usize; 2], s: &[f64; 3]) -> (f64, [f64; 2]) {
        let i = c[0] + self.mesh.shape[0] * c[1];
        let p = &self.position[i];
        let cos_d = dot(p, s);
        let sin_d = cross_norm(p, s);
        let angle = sin_d.atan2(cos_d);
        if sin_d == 0.0 {
            return (self.radius * angle, [0.0; 2]);
        }
        // Tangent at p pointing away from the source along the great circle.
        let t = [
            (p[0] * cos_d - s[0]) / sin_d,
            (p[1] * cos_d - s[1]) / sin_d,
            (p[2] * cos_d - s[2]) / sin_d,
        ];
        (
            self.radius * angle,
            [dot(&t, &self.east[i]), dot(&t, &self.north[i])],
        )
    }

    fn distance(&self, p: [f64; 2], s: &[f64; 3]) -> f64 {
        self.radius * central_angle(&unit_vector(p[0], p[1]), s)
    }
}
