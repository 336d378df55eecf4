pub mod args;
pub mod check;
pub mod fix;
pub mod interactive;
pub mod models;
pub mod pr;
pub mod rule;

use crate::commands::args::CommonArgs;
use crate::problem::FileProblem;
use crate::settings::Overrides;

pub fn overrides(args: &CommonArgs) -> Overrides {
    Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        exclude: args.exclude.clone(),
        unsafe_fixes: args.unsafe_fixes,
    }
}

/// Let go of what a command built when the process is about to end, without freeing it piece
/// by piece: the index, the outlines and the checked files of the corpus took 20 ms of a 0.7 s
/// `check` to free; the system takes the memory back at once at exit. Only for plain memory
/// (nothing to flush or delete).
pub fn leave<T>(value: T) {
    std::mem::forget(value);
}

/// Print files that could not be handled; true when one of them is fatal (exit status 2).
pub fn print_problems(problems: &[FileProblem]) -> bool {
    let mut fatal = false;
    for p in problems {
        let level = if p.fatal { "error" } else { "warning" };
        eprintln!("djopt: {level}: {}: {}", p.path.display(), p.message);
        fatal |= p.fatal;
    }
    fatal
}
