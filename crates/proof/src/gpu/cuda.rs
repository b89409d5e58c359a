//! The CUDA side of the GPU prover, over `cudarc`: the driver and NVRTC are loaded at run time
//! (nothing links CUDA), `kernel.cu` is compiled by NVRTC when a device is opened, and
//! [`super::plan`]'s steps become kernel launches on one compute stream while a second stream
//! copies the next block from pinned host memory.
//!
//! Every `unsafe` here is a kernel launch or a pinned allocation; each says why it is sound.

use super::plan::{self, Ends, Step};
use super::{DeviceInfo, GpuError};
use crate::hash::Digest32;
use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaSlice, CudaStream, CudaView, LaunchConfig,
    PinnedHostSlice, PushKernelArg,
};
use std::sync::Arc;

/// Threads per block for the wide kernels (one thread per chunk or node).
const WIDE: u32 = 256;
/// Threads per block for the one-thread-per-lane kernels: small blocks spread a few lanes over
/// many multiprocessors instead of packing them onto one.
const NARROW: u32 = 32;
/// Heights of a lane frontier, as `POIE_LEVELS` in kernel.cu.
const LEVELS: usize = 64;

fn driver(what: &str) -> impl Fn(cudarc::driver::DriverError) -> GpuError + '_ {
    move |e| GpuError::Driver(format!("{what}: {e}"))
}

/// The compiled kernels.
#[derive(Clone, Debug)]
struct Kernels {
    leaves_unchained: CudaFunction,
    leaves_chained: CudaFunction,
    leaf_trees: CudaFunction,
    level: CudaFunction,
    fold: CudaFunction,
    lane_roots: CudaFunction,
}

/// An opened device with its kernels compiled.
#[derive(Clone, Debug)]
pub(super) struct Cuda {
    ctx: Arc<CudaContext>,
    k: Kernels,
    pub(super) info: DeviceInfo,
}

/// Loads the driver, opens device `ordinal` and compiles the kernels. The caller has checked
/// that the libraries exist (cudarc panics on a missing library or symbol).
pub(super) fn open(ordinal: usize) -> Result<Cuda, GpuError> {
    let count = CudaContext::device_count().map_err(driver("counting devices"))?;
    if count <= 0 {
        return Err(GpuError::Unavailable(
            "the CUDA driver reports no device".into(),
        ));
    }
    if ordinal >= count as usize {
        return Err(GpuError::Unavailable(format!(
            "no CUDA device {ordinal} (the driver reports {count})"
        )));
    }
    let ctx = CudaContext::new(ordinal).map_err(driver("opening the device"))?;
    let info = device_info(&ctx, ordinal)?;
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(
        super::KERNEL_SOURCE,
        cudarc::nvrtc::CompileOptions {
            name: Some("poie_kernel.cu".into()),
            ..Default::default()
        },
    )
    .map_err(|e| GpuError::Compile(format!("{e:?}")))?;
    let module = ctx
        .load_module(ptx)
        .map_err(driver("loading the compiled kernels"))?;
    let f = |name: &str| {
        module
            .load_function(name)
            .map_err(|e| GpuError::Driver(format!("kernel {name}: {e}")))
    };
    let k = Kernels {
        leaves_unchained: f("poie_leaves_unchained")?,
        leaves_chained: f("poie_leaves_chained")?,
        leaf_trees: f("poie_leaf_trees")?,
        level: f("poie_level")?,
        fold: f("poie_fold")?,
        lane_roots: f("poie_lane_roots")?,
    };
    Ok(Cuda { ctx, k, info })
}

fn device_info(ctx: &Arc<CudaContext>, ordinal: usize) -> Result<DeviceInfo, GpuError> {
    use cudarc::driver::sys::CUdevice_attribute as A;
    let attr = |a| {
        ctx.attribute(a)
            .map_err(driver("reading a device attribute"))
    };
    let (major, minor) = ctx
        .compute_capability()
        .map_err(driver("reading the compute capability"))?;
    let mut version: std::ffi::c_int = 0;
    // SAFETY: the driver library is loaded (the context exists) and the call only writes the
    // integer it is given.
    let v = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut version) };
    let driver_version = if v == cudarc::driver::sys::CUresult::CUDA_SUCCESS {
        format!("{}.{}", version / 1000, version % 1000 / 10)
    } else {
        "unknown".into()
    };
    Ok(DeviceInfo {
        ordinal,
        name: ctx.name().map_err(driver("reading the device name"))?,
        compute_capability: format!("{major}.{minor}"),
        multiprocessors: attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)? as u32,
        clock_mhz: attr(A::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)? as u32 / 1000,
        memory_bytes: ctx.total_mem().map_err(driver("reading the memory size"))? as u64,
        memory_bus_bits: attr(A::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH)? as u32,
        driver_version,
    })
}

fn grid(threads: u64, block: u32) -> Result<LaunchConfig, GpuError> {
    let blocks = u32::try_from(threads.div_ceil(u64::from(block)))
        .map_err(|_| GpuError::Driver(format!("{threads} threads is too large a launch")))?;
    Ok(LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: 0,
    })
}

/// The device state of one proof: keys, the two level buffers, the links, the frontiers.
pub(super) struct Tree {
    cuda: Cuda,
    pub(super) stream: Arc<CudaStream>,
    lanes: u32,
    pub(super) rows: u32,
    chained: bool,
    keys: CudaSlice<u8>,
    bufs: [CudaSlice<u8>; 2],
    /// Which of `bufs` holds the current level.
    cur: usize,
    links: CudaSlice<u8>,
    pending: CudaSlice<u8>,
    out: CudaSlice<u8>,
}

impl Tree {
    /// `rows` rows per block of `lanes` lanes; keys: the leaf key then `K_node`.
    pub(super) fn new(
        cuda: &Cuda,
        lanes: u32,
        rows: u32,
        chained: bool,
        leaf_key: &Digest32,
        node_key: &Digest32,
    ) -> Result<Tree, GpuError> {
        let stream = cuda.ctx.new_stream().map_err(driver("creating a stream"))?;
        let block = u64::from(lanes) * u64::from(rows) * 32;
        let block =
            usize::try_from(block).map_err(|_| GpuError::Driver("block too large".into()))?;
        let l = lanes as usize * 32;
        let alloc = |len: usize| {
            stream
                .alloc_zeros::<u8>(len.max(32))
                .map_err(driver("allocating device memory"))
        };
        let mut key_bytes = [0u8; 64];
        key_bytes[..32].copy_from_slice(leaf_key);
        key_bytes[32..].copy_from_slice(node_key);
        let keys = stream
            .clone_htod(&key_bytes)
            .map_err(driver("copying the keys"))?;
        Ok(Tree {
            cuda: cuda.clone(),
            lanes,
            rows,
            chained,
            keys,
            bufs: [alloc(block)?, alloc(block / 2)?],
            cur: 0,
            links: alloc(l)?,
            pending: alloc(l * LEVELS)?,
            out: alloc(l)?,
            stream,
        })
    }

    /// Levels the leaf pass folds: none when chained (see [`plan::rows_steps`]).
    pub(super) fn fuse(&self) -> u32 {
        if self.chained {
            0
        } else {
            plan::FUSE
        }
    }

    /// Chunks per full block.
    pub(super) fn block_len(&self) -> u64 {
        u64::from(self.lanes) * u64::from(self.rows)
    }

    /// Runs one step. `chunks` is the block buffer an `Upload` step filled.
    pub(super) fn step(&mut self, step: Step, chunks: &CudaView<'_, u8>) -> Result<(), GpuError> {
        let k = &self.cuda.k;
        let s = &self.stream;
        let lanes = self.lanes;
        let launched = match step {
            Step::Upload { .. } => return Ok(()),
            Step::Leaves { rows, active } => {
                self.cur = 0;
                let (first, _) = self.bufs.split_at_mut(1);
                let leaves = &mut first[0];
                if self.chained {
                    let mut b = s.launch_builder(&k.leaves_chained);
                    b.arg(chunks)
                        .arg(leaves)
                        .arg(&mut self.links)
                        .arg(&self.keys)
                        .arg(&lanes)
                        .arg(&rows)
                        .arg(&active);
                    // SAFETY: the arguments match poie_leaves_chained's signature; the block
                    // buffer holds rows x lanes chunks, leaves and links are sized for them
                    // (Tree::new), and only threads j < active touch memory.
                    unsafe { b.launch(grid(u64::from(active), NARROW)?) }
                } else {
                    let count =
                        u64::from(rows.saturating_sub(1)) * u64::from(lanes) + u64::from(active);
                    let mut b = s.launch_builder(&k.leaves_unchained);
                    b.arg(chunks).arg(leaves).arg(&self.keys).arg(&count);
                    // SAFETY: as above; threads i < count read chunk i and write leaf i, both
                    // within buffers of at least rows x lanes digests.
                    unsafe { b.launch(grid(count, WIDE)?) }
                }
            }
            Step::LeafTrees { rows, height } => {
                self.cur = 0;
                let groups = rows >> height;
                let mut b = s.launch_builder(&k.leaf_trees);
                b.arg(chunks)
                    .arg(&mut self.bufs[0])
                    .arg(&self.keys)
                    .arg(&lanes)
                    .arg(&groups)
                    .arg(&height);
                let threads = u64::from(lanes) * u64::from(groups);
                // SAFETY: threads t < lanes x groups read the 2^height rows of their group
                // (within the block's rows x lanes chunks) and write digest t of the first
                // buffer (rows x lanes digests); height <= POIE_FUSE_MAX (plan::FUSE).
                unsafe { b.launch(grid(threads, WIDE)?) }
            }
            Step::Level { half } => {
                let (a, b) = self.bufs.split_at_mut(1);
                let (input, output) = if self.cur == 0 {
                    (&a[0], &mut b[0])
                } else {
                    (&b[0], &mut a[0])
                };
                let mut l = s.launch_builder(&k.level);
                l.arg(input)
                    .arg(output)
                    .arg(&self.keys)
                    .arg(&lanes)
                    .arg(&half);
                self.cur = 1 - self.cur;
                let threads = u64::from(lanes) * u64::from(half);
                // SAFETY: the input holds 2 half rows and the output half rows of lanes
                // digests: half <= rows / 2 and the second buffer holds rows / 2 rows.
                unsafe { l.launch(grid(threads, WIDE)?) }
            }
            Step::Fold {
                height,
                count,
                active,
            } => {
                let mut b = s.launch_builder(&k.fold);
                b.arg(&self.bufs[self.cur])
                    .arg(&mut self.pending)
                    .arg(&self.keys)
                    .arg(&lanes)
                    .arg(&active)
                    .arg(&count)
                    .arg(&height);
                // SAFETY: the current level holds one root per lane; pending holds LEVELS
                // heights of lanes digests, and the kernel never indexes past LEVELS.
                unsafe { b.launch(grid(u64::from(active), NARROW)?) }
            }
        };
        launched.map_err(driver("launching a kernel"))?;
        Ok(())
    }

    /// The roots of the first `used` lanes, lane `j` holding `ends.count + (j < ends.rem)`.
    pub(super) fn lane_roots(&mut self, ends: Ends, used: u32) -> Result<Vec<Digest32>, GpuError> {
        let k = &self.cuda.k;
        if used > 0 {
            let mut b = self.stream.launch_builder(&k.lane_roots);
            b.arg(&self.pending)
                .arg(&mut self.out)
                .arg(&self.keys)
                .arg(&self.lanes)
                .arg(&used)
                .arg(&ends.count)
                .arg(&ends.rem);
            // SAFETY: threads j < used <= lanes read pending and write out[j], sized for lanes.
            unsafe { b.launch(grid(u64::from(used), NARROW)?) }
                .map_err(driver("launching a kernel"))?;
        }
        let bytes = self
            .stream
            .clone_dtoh(&self.out)
            .map_err(driver("copying the lane roots back"))?;
        Ok(bytes
            .chunks_exact(32)
            .take(used as usize)
            .map(|c| {
                let mut d = [0u8; 32];
                d.copy_from_slice(c);
                d
            })
            .collect())
    }

    /// Runs the steps of rows starting at trace chunk `base`, their chunks in `chunks`
    /// (`Upload` steps become views into it).
    pub(super) fn run(
        &mut self,
        steps: &[Step],
        base: u64,
        chunks: &CudaSlice<u8>,
    ) -> Result<(), GpuError> {
        let mut view = chunks.slice(0..0);
        for &s in steps {
            if let Step::Upload { first, count } = s {
                let lo = usize::try_from((first - base) * 32)
                    .map_err(|_| GpuError::Driver("upload offset too large".into()))?;
                let hi = lo + count as usize * 32;
                view = chunks
                    .try_slice(lo..hi)
                    .ok_or_else(|| GpuError::Driver("upload outside the block buffer".into()))?;
            }
            self.step(s, &view)?;
        }
        Ok(())
    }

    /// Waits for everything launched so far.
    pub(super) fn sync(&self) -> Result<(), GpuError> {
        self.stream
            .synchronize()
            .map_err(driver("waiting for the GPU"))
    }
}

/// Double-buffered host-to-device staging: the host fills one pinned buffer while the other is
/// copied and hashed. cudarc orders each buffer's uses across the two streams with events; the
/// explicit `hashed` events make the order visible here as well.
pub(super) struct Staging {
    copy: Arc<CudaStream>,
    pinned: [PinnedHostSlice<u8>; 2],
    dev: [CudaSlice<u8>; 2],
    hashed: [Option<CudaEvent>; 2],
    /// The buffer the host fills now.
    pub(super) k: usize,
}

impl Staging {
    pub(super) fn new(cuda: &Cuda, block_bytes: usize) -> Result<Staging, GpuError> {
        let copy = cuda.ctx.new_stream().map_err(driver("creating a stream"))?;
        let pin = || {
            // SAFETY: the memory is uninitialised, so it is zeroed before any read below.
            let mut p = unsafe {
                cuda.ctx
                    .alloc_pinned_with_flags::<u8>(block_bytes.max(32), 0)
            }
            .map_err(driver("allocating pinned host memory"))?;
            p.as_mut_slice()
                .map_err(driver("zeroing pinned host memory"))?
                .fill(0);
            Ok::<_, GpuError>(p)
        };
        let dev = || {
            copy.alloc_zeros::<u8>(block_bytes.max(32))
                .map_err(driver("allocating device memory"))
        };
        Ok(Staging {
            pinned: [pin()?, pin()?],
            dev: [dev()?, dev()?],
            hashed: [None, None],
            copy,
            k: 0,
        })
    }

    /// The pinned buffer the host fills now, once its previous copy has finished.
    pub(super) fn host(&mut self) -> Result<&mut [u8], GpuError> {
        self.pinned[self.k]
            .as_mut_slice()
            .map_err(driver("waiting for a copy"))
    }

    /// Copies the first `bytes` of the current pinned buffer to the device, runs `steps` on
    /// them and switches to the other buffer.
    pub(super) fn submit(
        &mut self,
        tree: &mut Tree,
        steps: &[Step],
        base: u64,
        bytes: usize,
    ) -> Result<(), GpuError> {
        let k = self.k;
        if let Some(e) = &self.hashed[k] {
            // The kernels that read this device buffer last time must finish before the copy.
            self.copy.wait(e).map_err(driver("ordering streams"))?;
        }
        if bytes == self.pinned[k].len() {
            self.copy
                .memcpy_htod(&self.pinned[k], &mut self.dev[k])
                .map_err(driver("copying a block to the device"))?;
        } else {
            // A short tail: copy only its bytes (cudarc's pinned slices copy whole).
            let host = self.pinned[k]
                .as_slice()
                .map_err(driver("waiting for a copy"))?;
            let src = host
                .get(..bytes)
                .ok_or_else(|| GpuError::Driver("tail larger than the staging buffer".into()))?;
            let mut dst = self.dev[k].slice_mut(..bytes);
            self.copy
                .memcpy_htod(src, &mut dst)
                .map_err(driver("copying a block to the device"))?;
        }
        let copied = self
            .copy
            .record_event(None)
            .map_err(driver("recording an event"))?;
        tree.stream
            .wait(&copied)
            .map_err(driver("ordering streams"))?;
        tree.run(steps, base, &self.dev[k])?;
        self.hashed[k] = Some(
            tree.stream
                .record_event(None)
                .map_err(driver("recording an event"))?,
        );
        self.k = 1 - k;
        Ok(())
    }

    /// Copies a whole pinned buffer to the device and waits: the bench's bandwidth figure.
    pub(super) fn copy_only(&mut self) -> Result<(), GpuError> {
        let k = self.k;
        self.copy
            .memcpy_htod(&self.pinned[k], &mut self.dev[k])
            .map_err(driver("copying a block to the device"))?;
        self.k = 1 - k;
        Ok(())
    }

    pub(super) fn sync(&self) -> Result<(), GpuError> {
        self.copy
            .synchronize()
            .map_err(driver("waiting for a copy"))
    }
}

/// A trace copied to the device once: the bench's resident figures.
pub(super) struct Resident {
    chunks: CudaSlice<u8>,
    n: u64,
}

impl Resident {
    pub(super) fn new(tree: &Tree, trace: &[u8]) -> Result<Resident, GpuError> {
        let chunks = tree
            .stream
            .clone_htod(trace)
            .map_err(driver("copying the trace"))?;
        tree.sync()?;
        Ok(Resident {
            chunks,
            n: trace.len() as u64 / 32,
        })
    }

    /// Proves the resident trace; returns the lane roots.
    pub(super) fn prove(&self, tree: &mut Tree) -> Result<Vec<Digest32>, GpuError> {
        tree.reset()?;
        let (steps, ends) = plan::whole(tree.lanes, tree.rows, self.n, tree.fuse());
        tree.run(&steps, 0, &self.chunks)?;
        let used = self.n.min(u64::from(tree.lanes)) as u32;
        tree.lane_roots(ends, used)
    }
}

impl Tree {
    /// Zeroes the links and frontiers, so one tree can prove again.
    pub(super) fn reset(&mut self) -> Result<(), GpuError> {
        self.stream
            .memset_zeros(&mut self.links)
            .map_err(driver("clearing device memory"))?;
        self.stream
            .memset_zeros(&mut self.pending)
            .map_err(driver("clearing device memory"))?;
        self.cur = 0;
        Ok(())
    }
}
