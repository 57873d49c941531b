//! A precomputed grid over England that answers most lookups with one array read.
//!
//! The grid's cells are marked when any edge of the alliance, STP or country layers touches
//! them (conservatively, with a small margin). An unmarked cell lies wholly inside one face
//! of the overlaid layers, so every point in it has the same covering areas: connected
//! runs of unmarked cells (flood fill) share one answer, computed once at a representative
//! point by the exact locator. Cells whose answer would depend on the distance to the nearest
//! area (within the tolerance of an STP edge, outside England) stay unanswered, as do marked
//! cells; those points take the exact path. Answers are therefore identical to the exact
//! locator's; a test checks this on a million points.
//!
//! Storage is two-level so the table stays cache-resident: blocks of 8 × 8 cells that all
//! hold the same value are stored as that value in the coarse table; only mixed blocks keep
//! their 64 cells. A lookup reads one coarse entry and at most one block.

use super::layer::LayerIndex;

/// Cell value 0: take the exact path.
const SLOW: u16 = 0;

#[derive(Debug, PartialEq)]
pub struct Grid<A> {
    x0: f64,
    y0: f64,
    /// Cells per degree.
    sx: f64,
    sy: f64,
    nx: usize,
    ny: usize,
    /// Per 8 × 8 block: the cell value shared by the whole block, or `MIXED | index` of its
    /// cells in `blocks`.
    coarse: Vec<u32>,
    blocks: Vec<[u16; 64]>,
    /// `answers[v - 1]` for cell value `v`.
    answers: Vec<A>,
}

/// Cells per side of a block.
pub const BLOCK: usize = 8;
/// A coarse cell with this bit names a block of `blocks`; without it, the block's one value.
pub const MIXED: u32 = 1 << 31;

/// A [`Grid`]'s tables (see its fields), borrowed to store or to rebuild it.
pub struct GridParts<'a, A> {
    pub origin: [f64; 2],
    pub cells_per_degree: [f64; 2],
    pub size: [usize; 2],
    pub coarse: &'a [u32],
    pub blocks: &'a [[u16; 64]],
    pub answers: &'a [A],
}

/// What the grid needs from the exact locator while building.
pub struct GridInputs<'a> {
    /// `[min_x, min_y, max_x, max_y]` to cover.
    pub bbox: [f64; 4],
    pub nx: usize,
    pub ny: usize,
    /// Layers whose edges split the plane into faces of constant answer.
    pub layers: Vec<&'a LayerIndex>,
    /// The layers whose distance matters to the answer, and how far.
    pub distance_layers: Vec<&'a LayerIndex>,
    pub tolerance_m: f64,
}

/// Fraction of a cell added around each edge when marking, against rounding.
const EPS: f64 = 1e-6;

impl<A: Clone + PartialEq> Grid<A> {
    /// `answer(x, y)` gives, for a point of an unmarked cell, the answer for its whole region
    /// and whether that answer also holds in the region's cells near the distance layer
    /// (`false` when, near it, the answer would depend on the distance).
    /// `None` when the region's answer varies inside it: its cells are left to the exact path.
    pub fn build(inputs: &GridInputs, answer: impl Fn(f64, f64) -> Option<(A, bool)>) -> Self {
        let [bx0, by0, bx1, by1] = inputs.bbox;
        let (nx, ny) = (inputs.nx, inputs.ny);
        let (sx, sy) = (nx as f64 / (bx1 - bx0), ny as f64 / (by1 - by0));
        let (nx, ny) = (nx.div_ceil(BLOCK) * BLOCK, ny.div_ceil(BLOCK) * BLOCK);
        let mut grid = Grid {
            x0: bx0,
            y0: by0,
            sx,
            sy,
            nx,
            ny,
            coarse: Vec::new(),
            blocks: Vec::new(),
            answers: Vec::new(),
        };
        let mut cells = vec![SLOW; nx * ny];
        let mut marked = vec![false; nx * ny];
        for layer in &inputs.layers {
            for part in layer.parts() {
                for e in part.edges() {
                    grid.mark_edge(&e, &mut marked);
                }
            }
        }
        let mut edge_cells = vec![false; nx * ny];
        for part in inputs.distance_layers.iter().flat_map(|l| l.parts()) {
            for e in part.edges() {
                grid.mark_edge(&e, &mut edge_cells);
            }
        }
        let near = grid.dilate(&edge_cells, inputs.tolerance_m);

        // Flood fill the unmarked cells; one exact answer per region.
        let mut region = vec![u32::MAX; nx * ny];
        let mut stack = Vec::new();
        for start in 0..nx * ny {
            if marked[start] || region[start] != u32::MAX {
                continue;
            }
            let (cx, cy) = (start % nx, start / nx);
            let (x, y) = grid.centre(cx, cy);
            let (value, holds_near) = match answer(x, y) {
                None => (SLOW, true),
                Some((a, holds_near)) => match grid.answers.iter().position(|b| *b == a) {
                    Some(i) => (i as u16 + 1, holds_near),
                    None if grid.answers.len() < u16::MAX as usize - 1 => {
                        grid.answers.push(a);
                        (grid.answers.len() as u16, holds_near)
                    }
                    None => (SLOW, holds_near),
                },
            };
            let needs_far = !holds_near;
            stack.push(start);
            region[start] = start as u32;
            while let Some(c) = stack.pop() {
                if !(needs_far && near[c]) {
                    cells[c] = value;
                }
                let (cx, cy) = (c % nx, c / nx);
                let neighbours = [
                    (cx > 0).then(|| c - 1),
                    (cx + 1 < nx).then(|| c + 1),
                    (cy > 0).then(|| c - nx),
                    (cy + 1 < ny).then(|| c + nx),
                ];
                for n in neighbours.into_iter().flatten() {
                    if !marked[n] && region[n] == u32::MAX {
                        region[n] = start as u32;
                        stack.push(n);
                    }
                }
            }
        }
        grid.compress(&cells);
        grid
    }

    /// Builds the two-level table from the full cell array.
    fn compress(&mut self, cells: &[u16]) {
        let (bx, by) = (self.nx / BLOCK, self.ny / BLOCK);
        self.coarse = Vec::with_capacity(bx * by);
        for j in 0..by {
            for i in 0..bx {
                let mut block = [SLOW; 64];
                for (k, v) in block.iter_mut().enumerate() {
                    *v = cells[(j * BLOCK + k / BLOCK) * self.nx + i * BLOCK + k % BLOCK];
                }
                if block.iter().all(|&v| v == block[0]) {
                    self.coarse.push(block[0] as u32);
                } else {
                    self.coarse.push(MIXED | self.blocks.len() as u32);
                    self.blocks.push(block);
                }
            }
        }
    }

    fn cell(&self, cx: usize, cy: usize) -> u16 {
        let c = self.coarse[(cy / BLOCK) * (self.nx / BLOCK) + cx / BLOCK];
        if c & MIXED == 0 {
            c as u16
        } else {
            self.blocks[(c & !MIXED) as usize][(cy % BLOCK) * BLOCK + cx % BLOCK]
        }
    }

    fn centre(&self, cx: usize, cy: usize) -> (f64, f64) {
        (
            self.x0 + (cx as f64 + 0.5) / self.sx,
            self.y0 + (cy as f64 + 0.5) / self.sy,
        )
    }

    /// Marks every cell the segment passes through or touches, with a margin of `EPS` cells.
    fn mark_edge(&self, e: &[f64; 4], marked: &mut [bool]) {
        let (ax, ay) = ((e[0] - self.x0) * self.sx, (e[1] - self.y0) * self.sy);
        let (bx, by) = ((e[2] - self.x0) * self.sx, (e[3] - self.y0) * self.sy);
        let (lo_x, hi_x) = (ax.min(bx), ax.max(bx));
        let clamp_x = |v: f64| v.floor().clamp(0.0, (self.nx - 1) as f64) as usize;
        let clamp_y = |v: f64| v.floor().clamp(0.0, (self.ny - 1) as f64) as usize;
        if hi_x + EPS < 0.0 || lo_x - EPS >= self.nx as f64 || ax.max(bx).is_nan() {
            return;
        }
        let y_at = |x: f64| {
            if bx == ax {
                ay
            } else {
                ay + (by - ay) * (x - ax) / (bx - ax)
            }
        };
        for cx in clamp_x(lo_x - EPS)..=clamp_x(hi_x + EPS) {
            // The part of the segment over this column.
            let (xa, xb) = ((cx as f64).max(lo_x), ((cx + 1) as f64).min(hi_x));
            let (ya, yb) = if bx == ax { (ay, by) } else { (y_at(xa), y_at(xb)) };
            let (lo_y, hi_y) = (ya.min(yb) - EPS, ya.max(yb) + EPS);
            if hi_y < 0.0 || lo_y >= self.ny as f64 {
                continue;
            }
            for cy in clamp_y(lo_y)..=clamp_y(hi_y) {
                marked[cy * self.nx + cx] = true;
            }
        }
    }

    /// Cells within `metres` (plus a cell) of a marked cell, by a box test on prefix sums.
    fn dilate(&self, marked: &[bool], metres: f64) -> Vec<bool> {
        let (nx, ny) = (self.nx, self.ny);
        // Smallest cell width is at the grid's northern edge.
        let north = (self.y0 + ny as f64 / self.sy).to_radians().cos();
        let cell_w = 111_195.0 * north / self.sx;
        let cell_h = 111_195.0 / self.sy;
        let kx = (metres / cell_w).ceil() as usize + 1;
        let ky = (metres / cell_h).ceil() as usize + 1;
        let mut sum = vec![0u32; (nx + 1) * (ny + 1)];
        for y in 0..ny {
            for x in 0..nx {
                sum[(y + 1) * (nx + 1) + x + 1] =
                    marked[y * nx + x] as u32 + sum[y * (nx + 1) + x + 1] + sum[(y + 1) * (nx + 1) + x]
                        - sum[y * (nx + 1) + x];
            }
        }
        let mut near = vec![false; nx * ny];
        for y in 0..ny {
            let (y0, y1) = (y.saturating_sub(ky), (y + ky + 1).min(ny));
            for x in 0..nx {
                let (x0, x1) = (x.saturating_sub(kx), (x + kx + 1).min(nx));
                let s = sum[y1 * (nx + 1) + x1] + sum[y0 * (nx + 1) + x0]
                    - sum[y0 * (nx + 1) + x1]
                    - sum[y1 * (nx + 1) + x0];
                near[y * nx + x] = s > 0;
            }
        }
        near
    }

    /// The cached answer for a point, or `None` when it must take the exact path.
    #[inline]
    pub fn get(&self, x: f64, y: f64) -> Option<&A> {
        let fx = (x - self.x0) * self.sx;
        let fy = (y - self.y0) * self.sy;
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return None;
        }
        let v = self.cell(fx as usize, fy as usize);
        if v == SLOW {
            None
        } else {
            self.answers.get(v as usize - 1)
        }
    }

    /// The south-west corner of cell (`cx`, `cy`): a point on four cells' shared boundary.
    pub fn cell_corner(&self, cx: usize, cy: usize) -> (f64, f64) {
        (self.x0 + cx as f64 / self.sx, self.y0 + cy as f64 / self.sy)
    }

    pub fn size(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }

    /// A grid answering nothing (every point takes the exact path).
    pub fn empty() -> Self {
        Grid {
            x0: 0.0,
            y0: 0.0,
            sx: 1.0,
            sy: 1.0,
            nx: 0,
            ny: 0,
            coarse: Vec::new(),
            blocks: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// The grid's tables, to store (`pack-data` writes the server's grids into the packed
    /// data, so no start builds them).
    pub fn parts(&self) -> GridParts<'_, A> {
        GridParts {
            origin: [self.x0, self.y0],
            cells_per_degree: [self.sx, self.sy],
            size: [self.nx, self.ny],
            coarse: &self.coarse,
            blocks: &self.blocks,
            answers: &self.answers,
        }
    }

    /// A grid from stored tables, checked so that no lookup can read out of them.
    pub fn from_parts(parts: GridParts<'_, A>) -> Result<Self, String> {
        let [nx, ny] = parts.size;
        let coarse_len = (nx / BLOCK).checked_mul(ny / BLOCK).ok_or("grid too large")?;
        if nx % BLOCK != 0 || ny % BLOCK != 0 || parts.coarse.len() != coarse_len {
            return Err(format!("a {nx} × {ny} grid with {} coarse cells", parts.coarse.len()));
        }
        if !parts
            .origin
            .iter()
            .chain(&parts.cells_per_degree)
            .all(|v| v.is_finite())
            || parts.cells_per_degree.iter().any(|&s| s <= 0.0)
        {
            return Err("a grid without a finite origin and scale".into());
        }
        let answers = parts.answers.len();
        let value_ok = |v: u32| v as usize <= answers;
        for &c in parts.coarse {
            let ok = match c & MIXED {
                0 => c <= u32::from(u16::MAX) && value_ok(c),
                _ => ((c & !MIXED) as usize) < parts.blocks.len(),
            };
            if !ok {
                return Err(format!("a grid cell names {c:#x}, beyond its tables"));
            }
        }
        if parts.blocks.iter().flatten().any(|&v| !value_ok(u32::from(v))) {
            return Err("a grid block names an answer it does not hold".into());
        }
        Ok(Grid {
            x0: parts.origin[0],
            y0: parts.origin[1],
            sx: parts.cells_per_degree[0],
            sy: parts.cells_per_degree[1],
            nx,
            ny,
            coarse: parts.coarse.to_vec(),
            blocks: parts.blocks.to_vec(),
            answers: parts.answers.to_vec(),
        })
    }

    /// Share of cells answered directly.
    pub fn coverage(&self) -> f64 {
        if self.nx * self.ny == 0 {
            return 0.0;
        }
        // Block by block, not cell by cell: this is logged each time a grid is made ready, and
        // reading 4 M cells took longer than reading a packed grid.
        let answered: usize = self
            .coarse
            .iter()
            .map(|&c| match c & MIXED {
                0 if c == u32::from(SLOW) => 0,
                0 => BLOCK * BLOCK,
                _ => self
                    .blocks
                    .get((c & !MIXED) as usize)
                    .map_or(0, |b| b.iter().filter(|&&v| v != SLOW).count()),
            })
            .sum();
        answered as f64 / (self.nx * self.ny) as f64
    }

    pub fn memory_bytes(&self) -> usize {
        self.coarse.len() * 4 + self.blocks.len() * 128 + self.answers.len() * std::mem::size_of::<A>()
    }
}
