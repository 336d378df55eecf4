//! The allocator: mimalloc for small blocks, the system's for large ones.
//!
//! A corpus run makes millions of small allocations (names, vectors of nodes, maps) across two
//! threads; glibc's `malloc` and `free` took 6.5% of its instructions, mimalloc does the same
//! work in less. But under mimalloc for everything the peak memory grew by 70 MB (183 MB on the
//! corpus): the file texts and other large blocks, freed by one file and not yet returned when
//! the next is read. Blocks of `LARGE` bytes or more (a file's text, a big vector) stay with the
//! system allocator, which returns them at once; `docs/performance.md` has the measurements.
//!
//! mimalloc is built without transparent huge pages (`no_thp` in `Cargo.toml`): on a kernel
//! that gives them on request (`madvise`), its regions were backed by 2 MB pages, and the peak
//! memory of a small run doubled (13 → 27 MB on django-filer; 105 → 121 MB on the corpus) for
//! no speed.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large go to the system allocator.
const LARGE: usize = 32 * 1024;

pub struct Allocator;

// SAFETY: each block is allocated and freed by the same allocator, chosen by its size, which
// `GlobalAlloc` guarantees is the same at `dealloc` (and `realloc`) as when it was allocated;
// a `realloc` across the boundary allocates anew from the other, copies and frees.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() < LARGE {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() < LARGE {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() < LARGE {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (layout.size() < LARGE, new_size < LARGE) {
            (true, true) => unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) },
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`, does
                // not overflow `isize`.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_bytes_across_the_boundary() {
        let a = Allocator;
        for (from, to) in [(16, 100_000), (100_000, 16), (40_000, 90_000), (8, 24)] {
            let layout = Layout::from_size_align(from, 8).unwrap();
            unsafe {
                let p = a.alloc(layout);
                assert!(!p.is_null());
                for i in 0..from {
                    *p.add(i) = (i % 251) as u8;
                }
                let q = a.realloc(p, layout, to);
                assert!(!q.is_null());
                for i in 0..from.min(to) {
                    assert_eq!(*q.add(i), (i % 251) as u8, "{from} -> {to} at {i}");
                }
                a.dealloc(q, Layout::from_size_align(to, 8).unwrap());
            }
        }
        unsafe {
            let layout = Layout::from_size_align(LARGE * 2, 64).unwrap();
            let p = a.alloc_zeroed(layout);
            assert!((0..LARGE * 2).all(|i| *p.add(i) == 0));
            assert_eq!(p as usize % 64, 0);
            a.dealloc(p, layout);
        }
    }
}
