//! The atomics, locks and cell of the lock-free parts (`store`, `table`): std's,
//! or, with the `loom` feature (tests only), loom's twins, so that their `loom_` tests
//! (`cargo test -p sockudo-obs-live --lib --features loom -- loom_`) explore every interleaving of them. Miri cannot
//! run where this crate is tested (see CONTRIBUTING.md); loom needs its own types to see each
//! access, and a feature rather than `--cfg loom` keeps tokio and every other crate as they are.
//!
//! Without the feature this is std, and the cell's closures compile to nothing. With it, these
//! work only inside `loom::model`. (`store`'s shard counter and thread-local switch to loom's
//! where they are declared: loom's macros take neither a `const` atomic nor a `const` block.)

#[cfg(not(feature = "loom"))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(not(feature = "loom"))]
pub(crate) use std::sync::{Mutex, MutexGuard, RwLock};

#[cfg(feature = "loom")]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(feature = "loom")]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(feature = "loom")]
pub(crate) use loom::sync::{Mutex, MutexGuard, RwLock};

/// `std::cell::UnsafeCell` behind loom's API: the cell's pointer is lent to a closure, so that
/// under loom each read and write is an access it checks against the others.
#[cfg(not(feature = "loom"))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(feature = "loom"))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with the pointer, to read through.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with the pointer, to write through.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
