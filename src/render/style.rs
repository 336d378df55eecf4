//! The few styles djopt prints with. Renderers always style; the output streams (`anstream`)
//! drop the escapes when colors are off (`--color never`, `NO_COLOR`, not a terminal).

use anstyle::{AnsiColor, Style};

pub const PATH: Style = Style::new().bold();
pub const CODE: Style = AnsiColor::Red.on_default().bold();
pub const SAFE: Style = AnsiColor::Green.on_default().bold();
pub const UNSAFE: Style = AnsiColor::Yellow.on_default().bold();
pub const GUTTER: Style = AnsiColor::Blue.on_default().bold();
pub const CARET: Style = AnsiColor::Red.on_default().bold();
pub const ADDED: Style = AnsiColor::Green.on_default();
pub const REMOVED: Style = AnsiColor::Red.on_default();
pub const HUNK: Style = AnsiColor::Cyan.on_default();
pub const EMPHASIS: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

/// `text` wrapped in `style` (or bare when `color` is false).
pub fn paint(color: bool, style: Style, text: impl std::fmt::Display) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// Text without escape sequences (what a stream with colors off would print).
pub fn strip(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// "0.42s" or "12.3s": how long a run took, for the summary line.
pub fn duration(elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.2}s")
    } else {
        format!("{secs:.1}s")
    }
}
