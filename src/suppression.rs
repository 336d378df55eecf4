//! `# djopt: ignore[CODE, …]` (or bare `# djopt: ignore`) on a line silences findings there.

use std::collections::HashMap;

/// Line (1-based) → codes silenced there (empty: every code).
pub struct Suppressions {
    lines: HashMap<usize, Vec<String>>,
}

impl Suppressions {
    pub fn parse(src: &str) -> Suppressions {
        let mut lines = HashMap::new();
        if crate::finder!(b"djopt:").find(src.as_bytes()).is_none() {
            return Suppressions { lines };
        }
        for (i, line) in src.lines().enumerate() {
            let Some(hash) = line.find('#') else { continue };
            let comment = &line[hash..];
            let Some(pos) = comment.find("djopt:") else {
                continue;
            };
            let rest = comment[pos + "djopt:".len()..].trim_start();
            let Some(rest) = rest.strip_prefix("ignore") else {
                continue;
            };
            let codes = match rest.trim_start().strip_prefix('[') {
                Some(list) => list
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
                None => Vec::new(),
            };
            lines.insert(i + 1, codes);
        }
        Suppressions { lines }
    }

    pub fn is_suppressed(&self, line: usize, code: &str) -> bool {
        match self.lines.get(&line) {
            Some(codes) => codes.is_empty() || codes.iter().any(|c| code.starts_with(c.as_str())),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_and_bare_ignores() {
        let s = Suppressions::parse("a  # djopt: ignore[ORM101, ORM102]\nb # djopt: ignore\nc\n");
        assert!(s.is_suppressed(1, "ORM101"));
        assert!(!s.is_suppressed(1, "ORM103"));
        assert!(s.is_suppressed(2, "ORM103"));
        assert!(!s.is_suppressed(3, "ORM101"));
    }
}
