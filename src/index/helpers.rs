//! Plain functions of the project that a loop may hand its row to: `tax = get_tax_class(method)`
//! reads `method.tax_class` once per row, as a model method would. Phase 1 only notes where
//! each module-level `def` is (a byte scan of every file, no parse); what a function reads from
//! its parameters is read the first time a loop calls it with a row: its file is parsed then,
//! once, and every function of it read (the text must still be the one phase 1 saw).

use super::reads::{SelfRead, WriteTarget, parameters, root_reads};
use crate::syntax::NodeKind;
use crate::syntax::text;
use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// What a helper function reads from each of its parameters, and whether it writes.
#[derive(Debug, Default)]
pub struct HelperFacts {
    /// The parameters in order, with whether they may be passed by position.
    pub params: Vec<(String, bool)>,
    /// Per parameter (same order), the chains read from it.
    pub reads: Vec<Vec<SelfRead>>,
    /// What its writes are called on; None when it does not write.
    pub writes: Option<Vec<WriteTarget>>,
}

impl HelperFacts {
    /// The parameter an argument binds: the `position`-th positional one, or by keyword.
    pub fn param_of(&self, position: Option<usize>, keyword: Option<&str>) -> Option<usize> {
        match (position, keyword) {
            (Some(k), _) => self
                .params
                .get(k)
                .filter(|(_, positional)| *positional)
                .map(|_| k),
            (None, Some(name)) => self.params.iter().position(|(n, _)| n == name),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct HelperFile {
    path: PathBuf,
    module: String,
    /// A hash of the bytes phase 1 read: a file changed since is not read.
    hash: u64,
    /// Its text and outline, read on first use (None: changed since, or unreadable).
    text: OnceLock<Option<(String, crate::text::outline::Outline)>>,
    /// Its functions' facts by name, each read (from a parse of that function alone) on
    /// first use.
    facts: Mutex<FxHashMap<String, Option<Arc<HelperFacts>>>>,
}

/// The module-level functions of the project, by name.
#[derive(Debug, Default)]
pub struct Helpers {
    files: Vec<HelperFile>,
    by_name: FxHashMap<String, Vec<usize>>,
}

/// One file's module-level function names, as phase 1 found them.
pub struct FileDefs {
    pub path: PathBuf,
    pub module: String,
    pub hash: u64,
    pub names: Vec<String>,
}

/// The names of the functions defined at the start of a line (`def f(`, `async def f(`): the
/// module-level ones, and perhaps a few from inside a string (reading the file parsed tells).
pub fn def_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at_line_start = |start: usize| {
        let rest = &bytes[start..];
        let rest = rest.strip_prefix(b"async ").unwrap_or(rest);
        let Some(rest) = rest.strip_prefix(b"def ") else {
            return;
        };
        let rest = rest.trim_ascii_start();
        let len = rest
            .iter()
            .take_while(|b| crate::text::outline::is_ident_byte(**b))
            .count();
        if len > 0
            && let Ok(name) = std::str::from_utf8(&rest[..len])
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
    };
    if bytes.starts_with(b"def ") || bytes.starts_with(b"async def ") {
        at_line_start(0);
    }
    for finder in [crate::finder!(b"\ndef "), crate::finder!(b"\nasync def ")] {
        for at in finder.find_iter(bytes) {
            at_line_start(at + 1);
        }
    }
    names
}

/// Does a function start a line (what [`def_names`] reads), without collecting the names?
pub fn has_defs(bytes: &[u8]) -> bool {
    bytes.starts_with(b"def ")
        || bytes.starts_with(b"async def ")
        || crate::finder!(b"\ndef ").find(bytes).is_some()
        || crate::finder!(b"\nasync def ").find(bytes).is_some()
}

pub fn bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

impl Helpers {
    pub fn new(defs: Vec<FileDefs>) -> Helpers {
        let mut helpers = Helpers::default();
        for def in defs {
            let fi = helpers.files.len();
            for name in def.names {
                helpers.by_name.entry(name).or_default().push(fi);
            }
            helpers.files.push(HelperFile {
                path: def.path,
                module: def.module,
                hash: def.hash,
                text: OnceLock::new(),
                facts: Mutex::new(FxHashMap::default()),
            });
        }
        helpers
    }

    /// The function `name` of a module `imported` names (directly or through its re-exports):
    /// the only one that matches.
    pub fn function(
        &self,
        exports: &super::exports::Exports,
        imported: &str,
        name: &str,
    ) -> Option<Arc<HelperFacts>> {
        let candidates = self.by_name.get(name)?;
        let mut matching = candidates
            .iter()
            .filter(|&&fi| exports.matches(&self.files[fi].module, imported, name));
        let first = *matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        self.facts(first, name)
    }

    /// The function `name` defined in `module` itself.
    pub fn local(&self, module: &str, name: &str) -> Option<Arc<HelperFacts>> {
        let candidates = self.by_name.get(name)?;
        let fi = *candidates
            .iter()
            .find(|&&fi| self.files[fi].module == module)?;
        self.facts(fi, name)
    }

    fn facts(&self, fi: usize, name: &str) -> Option<Arc<HelperFacts>> {
        let file = &self.files[fi];
        if let Some(known) = file.facts.lock().ok()?.get(name) {
            return known.clone();
        }
        let facts = file
            .text
            .get_or_init(|| read_text(file))
            .as_ref()
            .and_then(|(text, outline)| function_facts(text, outline, name))
            .map(Arc::new);
        file.facts
            .lock()
            .ok()?
            .insert(name.to_string(), facts.clone());
        facts
    }
}

fn read_text(file: &HelperFile) -> Option<(String, crate::text::outline::Outline)> {
    let bytes = std::fs::read(&file.path).ok()?;
    if bytes_hash(&bytes) != file.hash {
        return None;
    }
    let source = crate::source::SourceFile::from_bytes(file.path.clone(), bytes).ok()?;
    let outline = crate::text::outline::outline(&source.text);
    Some((source.text, outline))
}

/// The facts of the module-level function `name` of `text`, from a parse of its last
/// definition alone.
fn function_facts(
    text: &str,
    outline: &crate::text::outline::Outline,
    name: &str,
) -> Option<HelperFacts> {
    let defines = |range: &std::ops::Range<usize>| {
        text[range.clone()].lines().any(|line| {
            let line = line.strip_prefix("async ").unwrap_or(line);
            line.strip_prefix("def ").is_some_and(|rest| {
                let rest = rest.trim_start();
                rest.strip_prefix(name)
                    .is_some_and(|after| after.trim_start().starts_with('('))
            })
        })
    };
    let range = outline
        .statements
        .iter()
        .filter(|st| matches!(st.kind, crate::text::outline::Kind::Function))
        .map(|st| st.range.clone())
        .rfind(|r| defines(r))?;
    let tree = crate::syntax::parse::parse_ranges(text, &[range])?;
    in_tree(tree.root_node(), name, text)
}

/// What the function `def` (with body `body`) reads from each parameter, and its writes.
fn facts_of(def: tree_sitter::Node, body: tree_sitter::Node, src: &str) -> HelperFacts {
    let params = parameters(def, src);
    let reads = params
        .iter()
        .map(|(p, _)| root_reads(body, p, src))
        .collect();
    HelperFacts {
        params,
        reads,
        writes: super::extract::write_targets(body, src),
    }
}

/// The facts of the module-level function `name` of a tree already parsed (the file phase 2
/// is reading), None when the tree does not hold it: no second parse of that file.
pub fn in_tree(root: tree_sitter::Node, name: &str, src: &str) -> Option<HelperFacts> {
    let mut cursor = root.walk();
    let mut found = None;
    for node in root.named_children(&mut cursor) {
        let def = match node.node_kind() {
            "function_definition" => node,
            "decorated_definition" => match node.child_by_field_id(crate::field!("definition")) {
                Some(d) if d.node_kind() == "function_definition" => d,
                _ => continue,
            },
            _ => continue,
        };
        if def
            .child_by_field_id(crate::field!("name"))
            .is_some_and(|n| text(n, src) == name)
            && !def.has_error()
            && let Some(body) = def.child_by_field_id(crate::field!("body"))
        {
            found = Some(facts_of(def, body, src)); // the last definition wins
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_at_line_starts() {
        let src = b"def a(x):\n    def inner(): pass\nasync def b(): pass\nclass C:\n    def m(self): pass\ndef  c (): pass\n";
        assert_eq!(def_names(src), vec!["a", "c", "b"]);
        assert!(has_defs(src));
        assert!(!has_defs(b"class C:\n    def m(self): pass\n"));
    }

    #[test]
    fn reads_of_each_parameter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("utils.py");
        let src = "def tax(method, *rest, rate=1, **kw):\n    if method.tax_class:\n        return method.tax_class.name\n    return rate.value\n\n@cache\ndef saves(row):\n    row.save()\n";
        std::fs::write(&path, src).unwrap();
        let helpers = Helpers::new(vec![FileDefs {
            path: path.clone(),
            module: "shop.utils".into(),
            hash: bytes_hash(src.as_bytes()),
            names: def_names(src.as_bytes()),
        }]);
        let tax = helpers.local("shop.utils", "tax").unwrap();
        assert_eq!(
            tax.params,
            vec![("method".into(), true), ("rate".into(), false)]
        );
        let reads: Vec<String> = tax.reads[0].iter().map(|r| r.names.join(".")).collect();
        assert_eq!(reads, ["tax_class", "tax_class.name"]);
        assert_eq!(tax.param_of(Some(0), None), Some(0));
        assert_eq!(tax.param_of(Some(1), None), None);
        assert_eq!(tax.param_of(None, Some("rate")), Some(1));
        assert!(tax.writes.is_none());
        assert!(
            helpers
                .local("shop.utils", "saves")
                .unwrap()
                .writes
                .is_some()
        );
        // Changed since phase 1: not read.
        std::fs::write(&path, "def tax(m): pass\n").unwrap();
        let stale = Helpers::new(vec![FileDefs {
            path,
            module: "shop.utils".into(),
            hash: bytes_hash(src.as_bytes()),
            names: vec!["tax".into()],
        }]);
        assert!(stale.local("shop.utils", "tax").is_none());
    }
}
