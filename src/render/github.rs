//! GitHub Actions workflow commands: one `::warning` annotation per finding (`::notice` per
//! suggestion), shown on the pull request's diff.

use super::Report;
use crate::problem::FileProblem;
use crate::rules::registry;
use std::fmt::Write;

pub fn render(reports: &[Report], problems: &[FileProblem]) -> String {
    let mut out = String::new();
    for r in reports {
        let d = r.diagnostic;
        let (line, col) = r.source.line_col(d.start);
        let (end_line, end_col) = r.source.line_col(d.end);
        let name = registry()
            .by_code(d.rule)
            .map(|rule| rule.meta.name.as_str())
            .unwrap_or_default();
        let fix = match &d.fix {
            Some(fix) => format!(" (fix, {}: {})", fix.applicability.as_str(), fix.message),
            None => String::new(),
        };
        // Suggestions are notices: shown on the diff, not warnings about the code.
        let level = match d.kind {
            crate::diagnostic::Kind::Finding => "warning",
            crate::diagnostic::Kind::Suggestion => "notice",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
            property(&r.path.to_string_lossy().replace('\\', "/")),
            property(&format!("{} ({name})", d.rule)),
            data(&format!("{}{fix}", d.message)),
        );
    }
    for p in problems {
        let level = if p.fatal { "error" } else { "warning" };
        let _ = writeln!(
            out,
            "::{level} file={},title=djopt::{}",
            property(&p.path.to_string_lossy().replace('\\', "/")),
            data(&p.message)
        );
    }
    out
}

/// The message part of a workflow command: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which separate properties.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_separators() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a,b:c"), "a%2Cb%3Ac");
    }
}
