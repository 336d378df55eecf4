//! The one-way layout (docs/architecture.md), checked on the source: every `crate::` and
//! `super::` path in `src/` (test modules left out) is an edge from the module that writes it
//! to the module it names. The test fails when a lower layer imports a higher one, when the
//! prefilter imports anything above the index, when a top-level module is in no layer, or when
//! modules that are siblings (children of one parent) import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A module may import its own layer and the ones below it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaf",
        &[
            "alloc",
            "timings",
            "interrupt",
            "source",
            "text",
            "syntax",
            "django",
            "fix",
            "diagnostic",
            "problem",
            "suppression",
            "git",
        ],
    ),
    ("index", &["index"]),
    ("analysis", &["analysis"]),
    ("rules", &["rules"]),
    ("prefilter", &["prefilter"]),
    (
        "driver",
        &[
            "project",
            "phase1",
            "write",
            "walk",
            "crash",
            "cache",
            "baseline",
            "invariants",
            "settings",
            "profile",
        ],
    ),
    ("cli", &["cli", "commands", "render"]),
];

/// Modules with a narrower allowance than their layer: the prefilter sits beside the walker but
/// may only read what the index and the leaves declare.
const ONLY: &[(&str, &[&str])] = &[("prefilter", &["leaf", "index"])];

type ModPath = Vec<String>;

/// A source file as (module path, text): `src/index/paths.rs` is `["index", "paths"]`.
fn module_of(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The text with comments, string and char literals blanked (so braces and paths inside them
/// do not count), then with every `#[cfg(test)]` item removed.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(b' ');
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !is_ident(b[i - 1]))
        {
            // r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.extend_from_slice(b"\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.extend_from_slice(b"\"\"");
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
            };
            match end {
                Some(e) => {
                    out.extend_from_slice(b"' '");
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    let code = String::from_utf8(out).expect("ASCII edits of UTF-8 stay UTF-8");
    strip_test_items(&code)
}

/// Remove each `#[cfg(test)]` item: up to its `;` or the `}` closing its first `{`.
fn strip_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, ch) in item.char_indices().skip("#[cfg(test)]".len()) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The paths a module's code names through `crate::` and `super::` (groups expanded one
/// level: `crate::{a::b, c}` gives `a::b` and `c`), resolved to absolute module paths.
fn references(module: &ModPath, code: &str) -> Vec<ModPath> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':' || b[i - 1] == b'$');
        let (base, len): (ModPath, usize) = if boundary && code[i..].starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if boundary && code[i..].starts_with("super::") {
            // `super` is the parent module (for `a/b.rs` and `a/b/mod.rs` alike: `a`).
            let mut base = module.clone();
            let mut j = i;
            while code[j..].starts_with("super::") {
                base.pop();
                j += "super::".len();
            }
            (base, j - i)
        } else if boundary && code[i..].starts_with("self::") {
            (module.clone(), "self::".len())
        } else {
            i += 1;
            continue;
        };
        i += len;
        let tails = path_tails(&code[i..]);
        for tail in tails {
            let mut full = base.clone();
            full.extend(tail);
            out.push(full);
        }
    }
    out
}

/// After `crate::`: `a::b::c` or `{a::b, c::{d, e}, f}` as lists of segments (one level of
/// nesting expanded; deeper groups keep their prefix, which is all the edges need).
fn path_tails(rest: &str) -> Vec<Vec<String>> {
    let segments = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|p| {
                p.trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|p| !p.is_empty())
            .collect()
    };
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, ch) in group.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items
            .into_iter()
            .map(segments)
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        let s = segments(rest);
        if s.is_empty() { Vec::new() } else { vec![s] }
    }
}

struct Graph {
    /// Every module that has a file.
    modules: BTreeSet<ModPath>,
    /// module → modules it names (resolved to the deepest module that exists).
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

fn graph(files: &[(ModPath, String)]) -> Graph {
    let modules: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, src) in files {
        let code = code_only(src);
        let entry = edges.entry(module.clone()).or_default();
        for target in references(module, &code) {
            // The deepest existing module on the path (the rest names items).
            let resolved = (0..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|p| modules.contains(p));
            if let Some(t) = resolved
                && !t.is_empty()
                && &t != module
            {
                entry.insert(t);
            }
        }
    }
    Graph { modules, edges }
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&top))
}

/// Every broken rule of the layout, as sentences.
fn violations(files: &[(ModPath, String)]) -> Vec<String> {
    let g = graph(files);
    let mut out = Vec::new();
    for m in &g.modules {
        if m.len() == 1 && layer_of(&m[0]).is_none() {
            out.push(format!(
                "src/{}: a top-level module in no layer (add it to LAYERS in tests/architecture.rs and docs/architecture.md)",
                m[0]
            ));
        }
    }
    // Layers, between top-level modules.
    for (from, targets) in &g.edges {
        let Some(top) = from.first() else { continue };
        for to in targets {
            let other = &to[0];
            if other == top {
                continue;
            }
            let (Some(lf), Some(lt)) = (layer_of(top), layer_of(other)) else {
                continue;
            };
            if let Some((_, allowed)) = ONLY.iter().find(|(m, _)| m == top) {
                if !allowed.contains(&LAYERS[lt].0) {
                    out.push(format!(
                        "{} imports {}: {top} may import only {}",
                        from.join("::"),
                        to.join("::"),
                        allowed.join(", ")
                    ));
                }
            } else if lt > lf {
                out.push(format!(
                    "{} ({}) imports {} ({}): a lower layer imports a higher one",
                    from.join("::"),
                    LAYERS[lf].0,
                    to.join("::"),
                    LAYERS[lt].0
                ));
            }
        }
    }
    // Circles between siblings: an edge a::x::.. → a::y::.. is x → y under a. Edges from a
    // child to its ancestor (using the parent's items) and from a parent into its children
    // are the tree itself, not circles.
    let mut sibling: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, targets) in &g.edges {
        for to in targets {
            let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                sibling
                    .entry(from[..common].to_vec())
                    .or_default()
                    .entry(from[common].clone())
                    .or_default()
                    .insert(to[common].clone());
            }
        }
    }
    for (parent, graph) in &sibling {
        for cycle in cycles(graph) {
            let at = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            out.push(format!("a circle under {at}: {}", cycle.join(" → ")));
        }
    }
    out
}

/// The strongly connected groups of more than one node (Tarjan), each sorted.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.graph.get(v) {
            for w in targets {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn source_files() -> Vec<(ModPath, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src");
                if rel == Path::new("main.rs") {
                    continue; // the binary, which uses the library from outside
                }
                let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                out.push((module_of(rel), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_layout_is_one_way() {
    let files = source_files();
    assert!(
        files.len() > 50,
        "found the sources ({} files)",
        files.len()
    );
    let problems = violations(&files);
    assert!(
        problems.is_empty(),
        "the layout (docs/architecture.md) is broken:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_real_graph_has_the_edges_it_should() {
    // The checker reads real imports: a few known edges, in both directions of the layering.
    let g = graph(&source_files());
    let has = |from: &[&str], to: &[&str]| {
        let from: ModPath = from.iter().map(|s| s.to_string()).collect();
        let to: ModPath = to.iter().map(|s| s.to_string()).collect();
        g.edges.get(&from).is_some_and(|t| t.contains(&to))
    };
    assert!(has(&["analysis", "loops"], &["index", "paths"]));
    assert!(has(&["index", "frameworks", "drf"], &["index", "paths"]));
    assert!(has(&["prefilter"], &["index"]));
    assert!(!has(&["index"], &["prefilter"]));
}

fn file(path: &str, text: &str) -> (ModPath, String) {
    (module_of(Path::new(path)), text.to_string())
}

#[test]
fn catches_a_lower_layer_importing_a_higher_one() {
    let files = [
        file("index/mod.rs", "use crate::rules::registry;\n"),
        file("rules/mod.rs", "pub fn registry() {}\n"),
    ];
    let v = violations(&files);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("a lower layer imports a higher one"), "{v:?}");
}

#[test]
fn catches_the_prefilter_reaching_above_the_index_even_in_a_group() {
    let files = [
        file(
            "prefilter.rs",
            "use crate::{index::ProjectIndex, analysis::queryset::EVALUATORS};\n",
        ),
        file("index/mod.rs", ""),
        file("analysis/mod.rs", ""),
        file("analysis/queryset.rs", ""),
    ];
    let v = violations(&files);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("prefilter may import only"), "{v:?}");
}

#[test]
fn catches_sibling_circles_through_super() {
    let files = [
        file("index/mod.rs", "mod extract; mod lazy; pub struct Field;\n"),
        file(
            "index/extract.rs",
            "use super::lazy::LazyMethod; use super::Field;\n",
        ),
        file("index/lazy.rs", "fn f() { super::extract::g() }\n"),
    ];
    let v = violations(&files);
    assert_eq!(v, ["a circle under index: extract → lazy"], "{v:?}");
}

#[test]
fn ignores_tests_comments_and_strings() {
    let files = [
        file(
            "index/mod.rs",
            "// crate::rules::x\nconst S: &str = \"crate::rules::y\";\nlet c = '{';\n\
             #[cfg(test)]\nmod tests { use crate::rules::z; fn f() { let s = \"}\"; } }\n\
             #[cfg(test)]\nuse crate::rules::w;\n",
        ),
        file("rules/mod.rs", ""),
    ];
    assert_eq!(violations(&files), Vec::<String>::new());
}

#[test]
fn a_new_top_level_module_must_be_placed() {
    let files = [file("newthing.rs", "")];
    let v = violations(&files);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("in no layer"), "{v:?}");
}
