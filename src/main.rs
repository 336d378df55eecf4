/// Small blocks from mimalloc, large ones from the system (`djopt::alloc`).
#[global_allocator]
static ALLOCATOR: djopt::alloc::Allocator = djopt::alloc::Allocator;

fn main() -> std::process::ExitCode {
    // tree-sitter allocates every node of every tree with malloc: mimalloc does that faster
    // than glibc (a tenth of a corpus run went to malloc and free, docs/performance.md).
    // SAFETY: the four functions are mimalloc's (one family, malloc's alignment, null only on
    // exhaustion as with libc), installed once, first thing, before any tree-sitter object
    // exists, as `set_allocator` requires.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: libmimalloc_sys::mi_malloc,
            calloc: libmimalloc_sys::mi_calloc,
            realloc: libmimalloc_sys::mi_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
    djopt::crash::install_panic_hook();
    djopt::interrupt::install();
    djopt::crash::run_with_stack(djopt::cli::main)
}
