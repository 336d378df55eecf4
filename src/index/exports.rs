//! What a module re-exports: `from .devices import *` (limited by the source module's
//! `__all__`) and `from .devices import DeviceSerializer` in a package's `__init__.py`. A name
//! used as `serializers.DeviceSerializer` after `from app import serializers` is defined in
//! `app.serializers_.devices` when `app/serializers/__init__.py` star-imports it from there.
//!
//! Read from the text alone (the outline's tokenizer), before phase 1 decides what to parse:
//! a module made only of imports defines nothing the index records, and is not parsed.

use super::imports::absolute_module;
use super::module_matches;
use crate::text::outline::{Tok, Token, logical_lines};
use rustc_hash::FxHashMap;

/// One module's re-exports, as its top-level statements write them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleExports {
    pub module: String,
    /// `from X import *`: the absolute module X.
    pub stars: Vec<String>,
    /// `from X import a as b`: (b, X, a).
    pub names: Vec<(String, String, String)>,
    /// The names of a literal `__all__` (None: no `__all__`, or one that is not a literal list
    /// of strings, which exports whatever it may).
    pub all: Option<Vec<String>>,
}

impl ModuleExports {
    /// Does `import *` from this module bring `name`?
    fn star_exports(&self, name: &str) -> bool {
        match &self.all {
            Some(all) => all.iter().any(|n| n == name),
            None => !name.starts_with('_'),
        }
    }
}

/// Is it worth reading a file's re-exports? Star imports, `__all__`, and packages' `__init__`.
pub fn may_reexport(bytes: &[u8], is_package: bool) -> bool {
    is_package
        || crate::finder!(b"import *").find(bytes).is_some()
        || crate::finder!(b"__all__").find(bytes).is_some()
}

/// The re-exports of module `module` (of text `src`), None when it has none.
pub fn read(src: &[u8], module: &str, is_package: bool) -> Option<ModuleExports> {
    let mut out = ModuleExports {
        module: module.to_string(),
        ..ModuleExports::default()
    };
    let mut all: Option<Option<Vec<String>>> = None;
    logical_lines(src, |indent, tokens| {
        if indent != 0 || tokens.is_empty() {
            return;
        }
        let word = |t: &Token| &src[t.start..t.end];
        if tokens[0].kind == Tok::Ident && word(&tokens[0]) == b"from" {
            from_import(src, &tokens[1..], module, is_package, &mut out);
        } else if tokens[0].kind == Tok::Ident && word(&tokens[0]) == b"__all__" {
            let names = all_literal(src, &tokens[1..]);
            let extend = matches!(tokens.get(1).map(|t| t.kind), Some(Tok::Op(b'+')));
            all = Some(match (all.take(), names) {
                (Some(Some(mut before)), Some(more)) if extend => {
                    before.extend(more);
                    Some(before)
                }
                (_, names) if !extend => names,
                _ => None,
            });
        }
    });
    out.all = all.flatten();
    (!out.stars.is_empty() || !out.names.is_empty() || out.all.is_some()).then_some(out)
}

fn from_import(
    src: &[u8],
    tokens: &[Token],
    module: &str,
    is_package: bool,
    out: &mut ModuleExports,
) {
    let word = |t: &Token| std::str::from_utf8(&src[t.start..t.end]).unwrap_or("");
    let mut relative = String::new();
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        match t.kind {
            Tok::Op(b'.') => relative.push('.'),
            Tok::Ident if word(t) == "import" => break,
            Tok::Ident => relative.push_str(word(t)),
            _ => return,
        }
        i += 1;
    }
    if tokens.get(i).is_none() || relative.is_empty() {
        return;
    }
    let from = absolute_module(module, &relative, is_package);
    let rest = &tokens[i + 1..];
    if matches!(rest, [t] if t.kind == Tok::Op(b'*')) {
        out.stars.push(from);
        return;
    }
    let mut k = 0;
    while k < rest.len() {
        let t = &rest[k];
        match t.kind {
            Tok::Ident => {
                let name = word(t).to_string();
                let mut local = name.clone();
                if rest.get(k + 1).is_some_and(|a| word(a) == "as")
                    && let Some(alias) = rest.get(k + 2).filter(|a| a.kind == Tok::Ident)
                {
                    local = word(alias).to_string();
                    k += 2;
                }
                out.names.push((local, from.clone(), name));
            }
            Tok::Op(b'(' | b')' | b',') => {}
            _ => return,
        }
        k += 1;
    }
}

/// The strings of `= ["a", "b"]` / `+= ("c",)`; None for anything else.
fn all_literal(src: &[u8], tokens: &[Token]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut seen_eq = false;
    for t in tokens {
        match t.kind {
            Tok::Op(b'=') if !seen_eq => seen_eq = true,
            Tok::Op(b'+') if !seen_eq => {}
            Tok::Op(b'[' | b']' | b'(' | b')' | b',') if seen_eq => {}
            Tok::Str if seen_eq => names.push(string_value(&src[t.start..t.end])?),
            _ => return None,
        }
    }
    seen_eq.then_some(names)
}

/// The value of a plain string literal (`"a"`, `'b'`, `u"c"`); None for f-strings and others
/// with escapes.
fn string_value(literal: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(literal).ok()?;
    let quote = text.find(['"', '\''])?;
    if text[..quote]
        .chars()
        .any(|c| !matches!(c, 'u' | 'U' | 'r' | 'R'))
    {
        return None;
    }
    let body = text[quote..].trim_matches(|c| c == '"' || c == '\'');
    (!body.contains('\\')).then(|| body.to_string())
}

/// Every module's re-exports, by the module's last segment.
#[derive(Clone, Debug, Default)]
pub struct Exports {
    modules: Vec<ModuleExports>,
    by_last: FxHashMap<String, Vec<usize>>,
}

/// How many re-exports deep a name is followed.
const DEPTH: usize = 8;

impl Exports {
    pub fn new(modules: Vec<ModuleExports>) -> Exports {
        let mut by_last: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, m) in modules.iter().enumerate() {
            let last = m.module.rsplit('.').next().unwrap_or(&m.module);
            by_last.entry(last.to_string()).or_default().push(i);
        }
        Exports { modules, by_last }
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// The modules of the project that are `imported` as an import names it (the same, or with
    /// a prefix: `src.app.serializers` for `app.serializers`).
    fn modules_of<'s>(&'s self, imported: &str) -> impl Iterator<Item = &'s ModuleExports> {
        let imported = imported.trim_start_matches('.');
        let last = imported.rsplit('.').next().unwrap_or(imported);
        self.by_last
            .get(last)
            .into_iter()
            .flatten()
            .map(|&i| &self.modules[i])
            .filter(move |m| {
                m.module == imported
                    || m.module
                        .strip_suffix(imported)
                        .is_some_and(|head| head.ends_with('.'))
            })
    }

    /// Could class `name`, defined in `defining`, be what `name` imported from module
    /// `imported` refers to? Directly (`module_matches`), or through the re-exports of
    /// `imported` (and theirs).
    pub fn matches(&self, defining: &str, imported: &str, name: &str) -> bool {
        if module_matches(defining, imported) {
            return true;
        }
        if self.modules.is_empty() {
            return false;
        }
        let mut seen: Vec<String> = Vec::new();
        self.reaches(defining, imported, name, 0, &mut seen)
    }

    fn reaches(
        &self,
        defining: &str,
        imported: &str,
        name: &str,
        depth: usize,
        seen: &mut Vec<String>,
    ) -> bool {
        if depth > DEPTH || seen.iter().any(|s| s == imported) {
            return false;
        }
        seen.push(imported.to_string());
        for m in self.modules_of(imported) {
            for (local, from, original) in &m.names {
                // Renamed re-exports are left out: candidates are found by their own name.
                if local == name
                    && original == name
                    && (module_matches(defining, from)
                        || self.reaches(defining, from, name, depth + 1, seen))
                {
                    return true;
                }
            }
            for from in &m.stars {
                if self.star_brings(from, name)
                    && (module_matches(defining, from)
                        || self.reaches(defining, from, name, depth + 1, seen))
                {
                    return true;
                }
            }
        }
        false
    }

    /// Does `from X import *` bring `name`? Unless X's `__all__` leaves it out (or it is
    /// private, without one).
    fn star_brings(&self, from: &str, name: &str) -> bool {
        let mut sources = self.modules_of(from).peekable();
        if sources.peek().is_none() {
            return !name.starts_with('_');
        }
        sources.all(|m| m.star_exports(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports(files: &[(&str, bool, &str)]) -> Exports {
        Exports::new(
            files
                .iter()
                .filter_map(|(module, package, src)| read(src.as_bytes(), module, *package))
                .collect(),
        )
    }

    #[test]
    fn reads_star_imports_names_and_all() {
        let src = "\"\"\"Doc.\"\"\"\nfrom .devices import *\nfrom ..common import (\n    Base as B,  # c\n    Other,\n)\n__all__ = [\n    'DeviceSerializer',\n    \"Other\",\n]\n__all__ += ('X',)\nif x:\n    from .y import *\n";
        let m = read(src.as_bytes(), "app.serializers", true).unwrap();
        assert_eq!(m.stars, vec!["app.serializers.devices"]);
        assert_eq!(
            m.names,
            vec![
                ("B".into(), "app.common".into(), "Base".into()),
                ("Other".into(), "app.common".into(), "Other".into())
            ]
        );
        assert_eq!(
            m.all,
            Some(vec!["DeviceSerializer".into(), "Other".into(), "X".into()])
        );
        let computed = read(b"__all__ = base.__all__ + ['A']\n", "m", false).unwrap_or_default();
        assert_eq!(computed.all, None);
        assert!(read(b"import os\nx = 1\n", "m", false).is_none());
    }

    #[test]
    fn names_resolve_through_star_imports_and_all() {
        let e = exports(&[
            (
                "app.serializers",
                true,
                "from app.serializers_.devices import *\nfrom app.serializers_.sites import *\n",
            ),
            (
                "app.serializers_.devices",
                false,
                "__all__ = ('DeviceSerializer',)\n",
            ),
            (
                "app.serializers_.sites",
                false,
                "class SiteSerializer: pass\n",
            ),
            ("app.api", true, "from .inner import Thing\n"),
        ]);
        let devices = "app.serializers_.devices";
        assert!(e.matches(devices, "app.serializers", "DeviceSerializer"));
        // Left out of `__all__`.
        assert!(!e.matches(devices, "app.serializers", "Hidden"));
        // No `__all__`: public names.
        assert!(e.matches(
            "app.serializers_.sites",
            "app.serializers",
            "SiteSerializer"
        ));
        assert!(!e.matches("app.serializers_.sites", "app.serializers", "_Private"));
        // Not re-exported from there.
        assert!(!e.matches("other.devices", "app.serializers", "DeviceSerializer"));
        // Explicit re-export, and a prefix on the project's module names.
        assert!(e.matches("app.api.inner", "app.api", "Thing"));
        let prefixed = exports(&[(
            "src.app.serializers",
            true,
            "from app.serializers_.devices import *\n",
        )]);
        assert!(prefixed.matches(
            "src.app.serializers_.devices",
            "app.serializers",
            "DeviceSerializer"
        ));
    }

    #[test]
    fn cycles_end() {
        let e = exports(&[
            ("a", true, "from b import *\n"),
            ("b", true, "from a import *\n"),
        ]);
        assert!(!e.matches("c", "a", "X"));
    }
}
