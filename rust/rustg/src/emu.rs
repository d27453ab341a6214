//! The host emulator: runs a kernel over a launch grid with one OS thread per thread of a block.
//!
//! Semantics (docs/kernel-dialect.md, "Emulation"):
//! * The threads of a block run concurrently, each with its own indices; `sync_threads` is a real
//!   barrier among them. Blocks run in groups: `parallel_blocks` blocks at a time, each group of
//!   `block` threads working through every `parallel_blocks`-th block of the grid in turn, so
//!   blocks are concurrent with each other as on a GPU but the thread count stays bounded.
//! * Shared memory belongs to a block: every `shared_array!` site gets one zeroed allocation per
//!   block, the same for all its threads; dynamic shared memory likewise.
//! * A panicking thread fails the launch with its block and thread index (`LaunchError`), not the
//!   process: the rest of its block is released from any barrier and unwinds quietly, remaining
//!   blocks are skipped, and `launch` returns the first failure.
//! * A block whose threads made different numbers of `sync_threads` calls (a barrier in
//!   divergent code: undefined behaviour on a GPU, a hang or silent corruption there) fails the
//!   launch with `LaunchError::BarrierDivergence`.
//!
//! Why not `std::sync::Barrier`: it waits for a fixed count forever, so one thread that panics
//! or returns before a barrier would hang its block. [`BlockBarrier`] counts the threads still
//! running and can be poisoned.

use std::alloc::{self, Layout};
use std::any::{Any, TypeId};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::Thread;

use crate::config::{ConfigError, Dim3, LaunchConfig, DEFAULT_MAX_SHARED_BYTES};
use crate::kernel::{HostArgs, Kernel, KernelSignature};

/// How the emulator runs a launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorOptions {
    /// Blocks run at the same time; 0 picks `min(cores, 4096 / threads per block)`, at least 1.
    pub parallel_blocks: usize,
    /// Stack of each emulated thread, in bytes.
    pub stack_size: usize,
    /// Shared memory one block may use (static `shared_array!`s plus dynamic), in bytes.
    pub max_shared_bytes: usize,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            parallel_blocks: 0,
            stack_size: 256 * 1024,
            max_shared_bytes: DEFAULT_MAX_SHARED_BYTES,
        }
    }
}

/// Why an emulated launch failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchError {
    /// The launch shape is one no GPU accepts.
    InvalidConfig(ConfigError),
    /// A thread panicked (an assertion, an out-of-bounds index, an explicit `panic!`).
    ThreadPanicked {
        kernel: &'static str,
        block: Dim3,
        thread: Dim3,
        message: String,
    },
    /// The threads of a block made different numbers of `sync_threads` calls.
    BarrierDivergence {
        kernel: &'static str,
        block: Dim3,
        thread: Dim3,
        calls: u64,
        expected: u64,
    },
    /// A block asked for more shared memory than `EmulatorOptions::max_shared_bytes`.
    SharedMemoryExceeded {
        kernel: &'static str,
        block: Dim3,
        requested: usize,
        max: usize,
    },
    /// The OS refused to start the emulator's threads.
    Spawn { message: String },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::InvalidConfig(e) => write!(f, "invalid launch configuration: {e}"),
            LaunchError::ThreadPanicked {
                kernel,
                block,
                thread,
                message,
            } => {
                write!(
                    f,
                    "kernel `{kernel}` panicked in block {block}, thread {thread}: {message}"
                )
            }
            LaunchError::BarrierDivergence {
                kernel,
                block,
                thread,
                calls,
                expected,
            } => write!(
                f,
                "kernel `{kernel}`: in block {block}, thread {thread} made {calls} sync_threads \
                 call(s) where other threads made {expected}; a barrier inside divergent control \
                 flow (or after an early return) is undefined behaviour on a GPU"
            ),
            LaunchError::SharedMemoryExceeded {
                kernel,
                block,
                requested,
                max,
            } => write!(
                f,
                "kernel `{kernel}`: block {block} uses {requested} bytes of shared memory, more \
                 than the {max}-byte limit"
            ),
            LaunchError::Spawn { message } => {
                write!(f, "could not start emulator threads: {message}")
            }
        }
    }
}

impl std::error::Error for LaunchError {}

impl From<ConfigError> for LaunchError {
    fn from(e: ConfigError) -> Self {
        LaunchError::InvalidConfig(e)
    }
}

/// Runs `kernel` on the host emulator over `grid` blocks of `block` threads.
///
/// `args` is a tuple with one entry per kernel parameter: values of kernel parameter types as
/// they are, `&[T]`/`&Vec<T>` for a `Slice<T>`, `&mut [T]`/`&mut Vec<T>` for a `SliceMut<T>`
/// (`(x,)` for one parameter, `()` for none).
///
/// # Safety
/// A launch is a parallel region the borrow checker does not see into, as on a GPU: the caller
/// guarantees that the kernel's threads do not race (no two threads write the same element, and
/// none reads an element another writes, without a `sync_threads` or an atomic in between), and
/// that raw pointers passed in are valid for what the kernel does with them.
pub unsafe fn launch<S, A>(
    kernel: &Kernel<S>,
    grid: impl Into<Dim3>,
    block: impl Into<Dim3>,
    args: A,
) -> Result<(), LaunchError>
where
    S: KernelSignature,
    A: HostArgs<S::Params>,
{
    // Safety: passed on to the caller.
    unsafe { launch_with(kernel, LaunchConfig::new(grid, block), args) }
}

/// [`launch`] with a full [`LaunchConfig`] (dynamic shared memory).
///
/// # Safety
/// As [`launch`].
pub unsafe fn launch_with<S, A>(
    kernel: &Kernel<S>,
    config: LaunchConfig,
    args: A,
) -> Result<(), LaunchError>
where
    S: KernelSignature,
    A: HostArgs<S::Params>,
{
    // Safety: passed on to the caller.
    unsafe { launch_with_options(kernel, config, args, &EmulatorOptions::default()) }
}

/// [`launch_with`] with explicit [`EmulatorOptions`].
///
/// # Safety
/// As [`launch`].
pub unsafe fn launch_with_options<S, A>(
    kernel: &Kernel<S>,
    config: LaunchConfig,
    args: A,
    options: &EmulatorOptions,
) -> Result<(), LaunchError>
where
    S: KernelSignature,
    A: HostArgs<S::Params>,
{
    config.validate()?;
    let params = args.into_params();
    // Safety: passed on to the caller.
    unsafe { run(kernel.name(), kernel.function(), params, config, options) }
}

// --- the grid ------------------------------------------------------------------------------------

/// The kernel parameters and function, shared by every emulated thread. Raw pointers inside are
/// what makes them `!Send`; the launch contract is what makes sharing them sound.
struct Shared<S: KernelSignature> {
    function: S,
    params: S::Params,
}

// Safety: see `Shared`; the caller of `launch` promised the threads do not race.
unsafe impl<S: KernelSignature> Sync for Shared<S> {}

/// The first failure of a launch; later ones are consequences or repeats.
struct Failure {
    first: Mutex<Option<LaunchError>>,
    failed: AtomicBool,
}

impl Failure {
    fn record(&self, error: LaunchError) {
        let mut first = lock(&self.first);
        if first.is_none() {
            *first = Some(error);
        }
        self.failed.store(true, Ordering::SeqCst);
    }
}

/// Opened once every thread of the launch exists, or told to give up when one could not start.
struct StartGate {
    state: Mutex<Option<bool>>,
    opened: Condvar,
}

impl StartGate {
    fn wait(&self) -> bool {
        let mut state = lock(&self.state);
        loop {
            if let Some(go) = *state {
                return go;
            }
            state = self.opened.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn open(&self, go: bool) {
        *lock(&self.state) = Some(go);
        self.opened.notify_all();
    }
}

unsafe fn run<S: KernelSignature>(
    name: &'static str,
    function: S,
    params: S::Params,
    config: LaunchConfig,
    options: &EmulatorOptions,
) -> Result<(), LaunchError> {
    let threads = config.block.count() as usize;
    let blocks = config.grid.count();
    let groups = group_count(options.parallel_blocks, threads, blocks);
    let shared = Shared { function, params };
    let failure = Failure {
        first: Mutex::new(None),
        failed: AtomicBool::new(false),
    };
    let gate = StartGate {
        state: Mutex::new(None),
        opened: Condvar::new(),
    };
    let group_states: Vec<GroupState> = (0..groups)
        .map(|_| {
            GroupState::new(
                threads,
                config.shared_mem_bytes as usize,
                options.max_shared_bytes,
            )
        })
        .collect();
    let launch = LaunchInfo {
        name,
        config,
        groups: groups as u64,
        blocks,
    };

    let spawn_error = std::thread::scope(|scope| {
        for (g, group) in group_states.iter().enumerate() {
            let mut handles = Vec::with_capacity(threads);
            for t in 0..threads {
                let (shared, failure, gate, launch) = (&shared, &failure, &gate, &launch);
                let spawned = std::thread::Builder::new()
                    .name(format!("rustg {name} g{g} t{t}"))
                    .stack_size(options.stack_size)
                    .spawn_scoped(scope, move || {
                        if gate.wait() {
                            worker(launch, group, g as u64, t, shared, failure);
                        }
                    });
                match spawned {
                    Ok(handle) => handles.push(handle.thread().clone()),
                    Err(e) => {
                        gate.open(false);
                        return Some(e.to_string());
                    }
                }
            }
            // Before the gate opens: barriers wake waiting threads through these handles.
            group.sleepers.set(handles).ok();
        }
        gate.open(true);
        None
    });
    if let Some(message) = spawn_error {
        return Err(LaunchError::Spawn { message });
    }
    match failure
        .first
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn group_count(requested: usize, threads: usize, blocks: u64) -> usize {
    let wanted = if requested > 0 {
        requested
    } else {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.min(4096 / threads.max(1)).max(1)
    };
    wanted
        .min(usize::try_from(blocks).unwrap_or(usize::MAX))
        .max(1)
}

struct LaunchInfo {
    name: &'static str,
    config: LaunchConfig,
    groups: u64,
    blocks: u64,
}

fn coordinates(linear: u64, extent: Dim3) -> Dim3 {
    let (x, y) = (u64::from(extent.x), u64::from(extent.y));
    Dim3 {
        x: (linear % x) as u32,
        y: ((linear / x) % y) as u32,
        z: (linear / (x * y)) as u32,
    }
}

/// One emulated thread: every block of its group, in turn.
fn worker<S: KernelSignature>(
    launch: &LaunchInfo,
    group: &GroupState,
    g: u64,
    t: usize,
    shared: &Shared<S>,
    failure: &Failure,
) {
    let context = ThreadContext {
        thread: coordinates(t as u64, launch.config.block),
        linear: t as u32,
        block: Cell::new(Dim3::new(0, 0, 0)),
        block_dim: launch.config.block,
        grid_dim: launch.config.grid,
        group: group as *const GroupState,
        barriers: Cell::new(0),
        dynamic_shared_bytes: launch.config.shared_mem_bytes,
    };
    let _installed = ContextGuard::install(&context);
    let mut linear = g;
    while linear < launch.blocks {
        let block = coordinates(linear, launch.config.grid);
        context.block.set(block);
        context.barriers.set(0);

        // Safety: the caller of `launch` vouched for the kernel and its parameters.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            shared.function.invoke(shared.params)
        }));
        if let Err(payload) = outcome {
            if let Some(error) = thread_failure(payload, launch.name, block, context.thread) {
                failure.record(error);
            }
            // Threads of this block waiting at a barrier would wait for us forever.
            group.barrier.poison(&group.sleepers, t);
        }
        group.barrier.leave(&group.sleepers, t);
        group.calls[t].store(context.barriers.get(), Ordering::SeqCst);

        // Every thread of the group is done with the block. The last to arrive checks it and
        // readies the group for the next block before any thread is released, so one barrier
        // round per block separates the blocks.
        group.boundary.wait_then(&group.sleepers, t, || {
            if !group.barrier.is_poisoned() {
                if let Some(error) = divergence(group, launch.name, block, launch.config.block) {
                    failure.record(error);
                }
            }
            group.reset_for_next_block();
            group
                .stop
                .store(failure.failed.load(Ordering::SeqCst), Ordering::SeqCst);
        });
        if group.stop.load(Ordering::SeqCst) {
            return;
        }
        linear += launch.groups;
    }
}

/// The failure a panic payload stands for, or None for the quiet unwind of a thread released
/// from a poisoned barrier.
fn thread_failure(
    payload: Box<dyn Any + Send>,
    kernel: &'static str,
    block: Dim3,
    thread: Dim3,
) -> Option<LaunchError> {
    if payload.is::<BlockAborted>() {
        return None;
    }
    if let Some(exceeded) = payload.downcast_ref::<SharedExceeded>() {
        return Some(LaunchError::SharedMemoryExceeded {
            kernel,
            block,
            requested: exceeded.requested,
            max: exceeded.max,
        });
    }
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    };
    Some(LaunchError::ThreadPanicked {
        kernel,
        block,
        thread,
        message,
    })
}

fn divergence(
    group: &GroupState,
    kernel: &'static str,
    block: Dim3,
    block_dim: Dim3,
) -> Option<LaunchError> {
    let calls: Vec<u64> = group
        .calls
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .collect();
    let expected = *calls.iter().max()?;
    let (t, &made) = calls.iter().enumerate().find(|(_, &c)| c != expected)?;
    Some(LaunchError::BarrierDivergence {
        kernel,
        block,
        thread: coordinates(t as u64, block_dim),
        calls: made,
        expected,
    })
}

// --- a block's shared state ------------------------------------------------------------------------

/// What the threads of one group (running one block at a time) share.
pub(crate) struct GroupState {
    /// The group's threads by index, set before any of them runs.
    sleepers: OnceLock<Vec<Thread>>,
    barrier: BlockBarrier,
    /// Between blocks; every thread of the group takes part, whatever the kernel did.
    boundary: Boundary,
    stop: AtomicBool,
    /// `sync_threads` calls each thread made in the current block.
    calls: Vec<AtomicU64>,
    memory: Mutex<SharedMemory>,
}

impl GroupState {
    fn new(threads: usize, dynamic_bytes: usize, max_shared: usize) -> GroupState {
        GroupState {
            sleepers: OnceLock::new(),
            barrier: BlockBarrier::new(threads),
            boundary: Boundary::new(threads),
            stop: AtomicBool::new(false),
            calls: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            memory: Mutex::new(SharedMemory::new(dynamic_bytes, max_shared)),
        }
    }

    fn reset_for_next_block(&self) {
        self.barrier.reset();
        lock(&self.memory).zero();
    }
}

/// Wakes the threads listed in `waiting` (indices into the group), except `me`.
///
/// Barriers park and unpark threads one by one rather than broadcast on a condition variable:
/// a broadcast wakes every waiter at once to fight over the mutex, which with hundreds of
/// threads on a few cores made each barrier round cost about twice as much.
fn wake(sleepers: &OnceLock<Vec<Thread>>, waiting: &[usize], me: usize) {
    let threads = sleepers
        .get()
        .expect("sleepers are set before the threads start");
    for &t in waiting {
        if t != me {
            threads[t].unpark();
        }
    }
}

/// Parks until `released` says so; `park` can return early (a stale unpark), hence the loop.
fn park_until(released: impl Fn() -> bool) {
    while !released() {
        std::thread::park();
    }
}

/// The barrier between blocks: all threads of the group, whatever the kernel did. The last
/// thread to arrive runs an action before releasing the others.
struct Boundary {
    threads: usize,
    waiting: Mutex<Vec<usize>>,
    generation: AtomicU64,
}

impl Boundary {
    fn new(threads: usize) -> Boundary {
        Boundary {
            threads,
            waiting: Mutex::new(Vec::with_capacity(threads)),
            generation: AtomicU64::new(0),
        }
    }

    fn wait_then(&self, sleepers: &OnceLock<Vec<Thread>>, me: usize, action: impl FnOnce()) {
        let mut waiting = lock(&self.waiting);
        waiting.push(me);
        let generation = self.generation.load(Ordering::Acquire);
        if waiting.len() == self.threads {
            action();
            let woken = std::mem::take(&mut *waiting);
            self.generation.fetch_add(1, Ordering::AcqRel);
            drop(waiting);
            wake(sleepers, &woken, me);
            return;
        }
        drop(waiting);
        park_until(|| self.generation.load(Ordering::Acquire) != generation);
    }
}

/// A barrier for the threads of one block that knows how many are still running, so a thread
/// that returns (or panics) does not leave the others waiting forever.
struct BlockBarrier {
    threads: usize,
    state: Mutex<BarrierState>,
    generation: AtomicU64,
    poisoned: AtomicBool,
}

struct BarrierState {
    live: usize,
    waiting: Vec<usize>,
}

/// The panic payload that unwinds a thread released from a poisoned barrier. Resumed with
/// `resume_unwind`, so no panic hook prints it: the thread that failed first is the story.
struct BlockAborted;

impl BlockBarrier {
    fn new(threads: usize) -> BlockBarrier {
        BlockBarrier {
            threads,
            state: Mutex::new(BarrierState {
                live: threads,
                waiting: Vec::with_capacity(threads),
            }),
            generation: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Waits for every live thread of the block; `false` when the block was aborted.
    fn wait(&self, sleepers: &OnceLock<Vec<Thread>>, me: usize) -> bool {
        let mut s = lock(&self.state);
        if self.poisoned.load(Ordering::Acquire) {
            return false;
        }
        s.waiting.push(me);
        let generation = self.generation.load(Ordering::Acquire);
        if s.waiting.len() >= s.live {
            self.release(s, sleepers, me);
            return true;
        }
        drop(s);
        park_until(|| {
            self.generation.load(Ordering::Acquire) != generation
                || self.poisoned.load(Ordering::Acquire)
        });
        !self.poisoned.load(Ordering::Acquire)
    }

    fn release(
        &self,
        mut s: MutexGuard<'_, BarrierState>,
        sleepers: &OnceLock<Vec<Thread>>,
        me: usize,
    ) {
        let woken = std::mem::take(&mut s.waiting);
        self.generation.fetch_add(1, Ordering::AcqRel);
        drop(s);
        wake(sleepers, &woken, me);
    }

    /// The calling thread is done with the block.
    fn leave(&self, sleepers: &OnceLock<Vec<Thread>>, me: usize) {
        let mut s = lock(&self.state);
        s.live -= 1;
        if !s.waiting.is_empty() && s.waiting.len() >= s.live {
            self.release(s, sleepers, me);
        }
    }

    fn poison(&self, sleepers: &OnceLock<Vec<Thread>>, me: usize) {
        let mut s = lock(&self.state);
        self.poisoned.store(true, Ordering::Release);
        let woken = std::mem::take(&mut s.waiting);
        drop(s);
        wake(sleepers, &woken, me);
    }

    fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    fn reset(&self) {
        let mut s = lock(&self.state);
        s.live = self.threads;
        s.waiting.clear();
        self.poisoned.store(false, Ordering::Release);
    }
}

/// A block's shared memory: one allocation per `shared_array!` site (and element type), plus
/// the dynamic shared memory of the launch.
struct SharedMemory {
    sites: HashMap<(usize, TypeId), Allocation>,
    dynamic: Option<Allocation>,
    dynamic_bytes: usize,
    used: usize,
    max: usize,
}

struct Allocation {
    ptr: NonNull<u8>,
    layout: Layout,
}

// Safety: the allocation is plain bytes owned by the group; access is the kernel's business.
unsafe impl Send for Allocation {}

impl Allocation {
    fn zeroed(layout: Layout) -> Allocation {
        // Zero-sized arrays still get a distinct, aligned, non-null pointer.
        let layout = Layout::from_size_align(layout.size().max(1), layout.align().max(16))
            .expect("shared array layout");
        // Safety: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        Allocation { ptr, layout }
    }

    fn zero(&mut self) {
        // Safety: the allocation is `layout.size()` bytes and no thread of the group runs now.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), 0, self.layout.size()) }
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        // Safety: allocated with this layout in `zeroed`.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The panic payload for a block over its shared-memory budget.
struct SharedExceeded {
    requested: usize,
    max: usize,
}

impl SharedMemory {
    fn new(dynamic_bytes: usize, max: usize) -> SharedMemory {
        SharedMemory {
            sites: HashMap::new(),
            dynamic: None,
            dynamic_bytes,
            used: dynamic_bytes,
            max,
        }
    }

    fn site(&mut self, key: (usize, TypeId), layout: Layout) -> *mut u8 {
        if let Some(a) = self.sites.get(&key) {
            return a.ptr.as_ptr();
        }
        let requested = self.used + layout.size();
        if requested > self.max {
            panic::resume_unwind(Box::new(SharedExceeded {
                requested,
                max: self.max,
            }));
        }
        self.used = requested;
        let allocation = Allocation::zeroed(layout);
        let ptr = allocation.ptr.as_ptr();
        self.sites.insert(key, allocation);
        ptr
    }

    fn dynamic(&mut self) -> (*mut u8, usize) {
        let bytes = self.dynamic_bytes;
        let allocation = self.dynamic.get_or_insert_with(|| {
            Allocation::zeroed(Layout::from_size_align(bytes, 16).expect("dynamic shared layout"))
        });
        (allocation.ptr.as_ptr(), bytes)
    }

    fn zero(&mut self) {
        for a in self.sites.values_mut() {
            a.zero();
        }
        if let Some(a) = &mut self.dynamic {
            a.zero();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock here means a panic inside this module's own short critical sections, which
    // hold no invariants a later reader could trip over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// --- the calling thread's place in the grid --------------------------------------------------------

pub(crate) struct ThreadContext {
    pub(crate) thread: Dim3,
    pub(crate) linear: u32,
    pub(crate) block: Cell<Dim3>,
    pub(crate) block_dim: Dim3,
    pub(crate) grid_dim: Dim3,
    group: *const GroupState,
    barriers: Cell<u64>,
    pub(crate) dynamic_shared_bytes: u32,
}

thread_local! {
    static CONTEXT: Cell<*const ThreadContext> = const { Cell::new(std::ptr::null()) };
}

struct ContextGuard;

impl ContextGuard {
    fn install(context: &ThreadContext) -> ContextGuard {
        CONTEXT.with(|c| c.set(context));
        ContextGuard
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| c.set(std::ptr::null()));
    }
}

/// The calling thread's context; panics outside a launch, naming the device function called.
#[track_caller]
pub(crate) fn with_context<R>(what: &str, f: impl FnOnce(&ThreadContext) -> R) -> R {
    let ptr = CONTEXT.with(Cell::get);
    assert!(
        !ptr.is_null(),
        "rustg::{what}() called outside a kernel launch: device functions only work in a thread of \
         rustg::launch (or a #[rustg::gpu_test])"
    );
    // Safety: installed by `worker` for exactly the lifetime of the context on its stack.
    f(unsafe { &*ptr })
}

impl ThreadContext {
    fn group(&self) -> &GroupState {
        // Safety: the group outlives every worker (the scope joins them before it is dropped).
        unsafe { &*self.group }
    }

    pub(crate) fn sync_threads(&self) {
        self.barriers.set(self.barriers.get() + 1);
        let group = self.group();
        if !group.barrier.wait(&group.sleepers, self.linear as usize) {
            panic::resume_unwind(Box::new(BlockAborted));
        }
    }

    pub(crate) fn shared_site(&self, site: usize, type_id: TypeId, layout: Layout) -> *mut u8 {
        lock(&self.group().memory).site((site, type_id), layout)
    }

    pub(crate) fn dynamic_shared(&self) -> (*mut u8, usize) {
        lock(&self.group().memory).dynamic()
    }
}
