//! Phase 1 over every file in parallel: each file's outline, then which classes matter to the
//! project (from every outline, see `prefilter`), then facts per file from a parse of only the
//! statements that can define something, then one resolution into the index. What phase 1
//! leaves for phase 2's prefilter (the outlines, the needles) comes back with the index.

use crate::index::exports::ModuleExports;
use crate::index::helpers::FileDefs;
use crate::index::{self, ProjectIndex, extract_file, may_define_models};
use crate::prefilter::{self, FileScan, IndexScope, Needles};
use crate::settings::Settings;
use crate::source::SourceFile;
use crate::syntax::parse::{MAX_NESTING, nesting_depth, parse, parse_ranges};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The outlines phase 1 made, by path, with a hash of the text each was made from: phase 2
/// reuses one for a file whose text has the same hash (not for a file changed since, or a text
/// with fixes applied).
#[derive(Default)]
pub struct Outlines(rustc_hash::FxHashMap<PathBuf, (u64, crate::text::outline::Outline)>);

impl Outlines {
    /// The outline of `text`, the current text of `path`, if phase 1 made it.
    pub fn get(&self, path: &Path, text: &str) -> Option<&crate::text::outline::Outline> {
        let (hash, outline) = self.0.get(path)?;
        (*hash == text_hash(text.as_bytes())).then_some(outline)
    }
}

fn text_hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

/// Phase 1 over every file in parallel: each file's outline, then which classes matter to the
/// project (from every outline), then facts per file from a parse of only the statements that
/// can define something (see `prefilter`), then one resolution.
pub fn build(files: &[PathBuf], settings: &Settings) -> (ProjectIndex, Outlines, Option<Needles>) {
    let whole = prefilter::disabled();
    type Read = (Option<FileScan>, Option<ModuleExports>, Option<FileDefs>);
    let read: Vec<Read> = files
        .par_iter()
        .map(|path| {
            let mut exports = None;
            let mut defs = None;
            let scan = crate::crash::guard_index(path, || {
                // A FIFO named on the command line would block a read forever.
                let (file, len) = crate::source::open_regular(path).ok()??;
                let bytes = crate::source::read_at_most(file, len, u64::MAX).ok()?;
                // Re-exports first: a module of imports alone defines nothing else.
                let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
                let names = index::helpers::def_names(&bytes);
                if index::exports::may_reexport(&bytes, is_package) || !names.is_empty() {
                    let module = index::module_name(&settings.relative(path));
                    if index::exports::may_reexport(&bytes, is_package) {
                        exports = index::exports::read(&bytes, &module, is_package);
                    }
                    if !names.is_empty() {
                        defs = Some(FileDefs {
                            path: path.clone(),
                            module,
                            hash: index::helpers::bytes_hash(&bytes),
                            names,
                        });
                    }
                }
                if !may_define_models(&bytes) {
                    return None;
                }
                let source = SourceFile::from_bytes(path.clone(), bytes).ok()?;
                let mut scan = if whole {
                    FileScan::default()
                } else {
                    FileScan::new(&source.text)
                };
                // Of the text phase 2 reads too (a byte order mark left out).
                scan.text_hash = text_hash(source.text.as_bytes());
                Some(scan)
            });
            (scan, exports, defs)
        })
        .collect();
    let mut scans = Vec::with_capacity(read.len());
    let mut exports = Vec::new();
    let mut defs = Vec::new();
    for (scan, e, d) in read {
        scans.push(scan);
        exports.extend(e);
        defs.extend(d);
    }
    crate::timings::mark("phase 1: outlines");
    let scope = IndexScope::new(&scans);
    crate::timings::mark("phase 1: scope");
    let facts: Vec<index::FileFacts> = files
        .par_iter()
        .zip(&scans)
        .enumerate()
        .filter_map(|(fi, (path, scan))| {
            let scan = scan.as_ref()?;
            crate::crash::guard_index(path, || {
                let statements = if whole {
                    None
                } else {
                    Some(scope.statements(fi, scan).unwrap_or_default())
                };
                file_facts(path, settings, scan, statements)
            })
        })
        .collect();
    crate::timings::mark("phase 1: parse and extract");
    // While the models resolve: the template folders are listed (each template is parsed when a
    // rule first asks for it) and the frameworks' class maps are made.
    let (mut index, (templates, maps, first_party)) = rayon::join(
        || index::build_index(&facts),
        || {
            let relative: Vec<PathBuf> = files
                .iter()
                .map(|p| settings.relative(p).into_owned())
                .collect();
            (
                index::frameworks::templates::TemplateSet::load(&facts, &settings.project_root),
                index::frameworks::ClassMaps::new(&facts),
                index::first_party::FirstParty::new(&settings.project_root, &relative),
            )
        },
    );
    index.exports = index::exports::Exports::new(exports);
    index.helpers = index::helpers::Helpers::new(defs);
    index.first_party = first_party;
    index::frameworks::attach(&mut index, &facts, maps, templates);
    let mut outlines = Outlines::default();
    let mut needles = None;
    if !whole {
        needles = Some(Needles::new(&index, &crate::rules::registry().triggers()));
        outlines.0 = files
            .iter()
            .zip(scans)
            .filter_map(|(path, scan)| scan.map(|s| (path.clone(), (s.text_hash, s.outline))))
            .collect();
    }
    // Freeing every file's facts takes 15 ms on the corpus: not on the way to phase 2.
    rayon::spawn(move || drop(facts));
    crate::timings::mark("phase 1: resolve");
    (index, outlines, needles)
}

/// One file's facts from a parse of `statements` only (all of it when None, or when the
/// partial parse finds a syntax error: the outline may have misread the file).
fn file_facts(
    path: &Path,
    settings: &Settings,
    scan: &FileScan,
    statements: Option<Vec<usize>>,
) -> Option<index::FileFacts> {
    let relative = settings.relative(path);
    if statements.as_ref().is_some_and(|s| s.is_empty()) {
        let mut facts = extract_file(&relative, "", &parse("")?);
        prefilter::add_outline_classes(&mut facts, scan, &[]);
        return Some(facts);
    }
    let source = SourceFile::from_bytes(path.to_path_buf(), std::fs::read(path).ok()?).ok()?;
    let deep = scan.outline.max_depth > MAX_NESTING / 4;
    if let Some(statements) = statements.filter(|_| !deep) {
        // Most methods of the classes read are left unparsed, read when a rule asks.
        let lazy = prefilter::lazy_methods(scan, &statements, source.text.as_bytes());
        let holes: Vec<_> = lazy.iter().map(|m| m.range.clone()).collect();
        let ranges = prefilter::without(prefilter::ranges(scan, &statements), &holes);
        let parsed = ranges.iter().map(|r| r.len()).sum();
        crate::timings::count(crate::timings::Bytes::IndexParsed, parsed);
        if let Some(tree) = parse_ranges(&source.text, &ranges)
            && !tree.root_node().has_error()
            && nesting_depth(&tree, MAX_NESTING) <= MAX_NESTING
        {
            let mut facts = extract_file(&relative, &source.text, &tree);
            add_lazy_methods(&mut facts, scan, &source.text, lazy);
            prefilter::add_outline_classes(&mut facts, scan, &statements);
            return Some(facts);
        }
    }
    crate::timings::count(crate::timings::Bytes::IndexParsed, source.text.len());
    let tree = parse(&source.text)?;
    if nesting_depth(&tree, MAX_NESTING) > MAX_NESTING {
        return None; // Phase 2 reports it.
    }
    Some(extract_file(&relative, &source.text, &tree))
}

/// Gives the classes of `facts` the methods phase 1 left unparsed (their class found by name
/// and line, in the index's classes and the frameworks' classes).
fn add_lazy_methods(
    facts: &mut index::FileFacts,
    scan: &FileScan,
    text: &str,
    lazy: Vec<prefilter::LazyCandidate>,
) {
    for candidate in lazy {
        let crate::text::outline::Kind::Class(class) =
            &scan.outline.statements[candidate.statement].kind
        else {
            continue;
        };
        let method = index::lazy::LazyMethod::new(
            candidate.name.clone(),
            text,
            candidate.header.clone(),
            candidate.range.clone(),
            index::lazy_facts,
        );
        if let Some(raw) = facts
            .classes
            .iter_mut()
            .find(|c| c.line == class.line && c.name == class.name)
        {
            raw.add_lazy_method(candidate.range.start, method.clone());
        }
        if let Some(raw) = facts
            .frameworks
            .classes
            .iter_mut()
            .find(|c| c.line == class.line && c.name == class.name)
        {
            raw.methods.push(index::frameworks::RawMethod {
                name: candidate.name,
                lazy: Some(method),
                ..Default::default()
            });
        }
    }
}

#[cfg(test)]
mod outline_tests {
    use super::*;

    #[test]
    fn outlines_are_reused_only_for_the_same_text() {
        let text = "class A:\n    x = 1\n";
        let mut outlines = Outlines::default();
        let path = PathBuf::from("shop/a.py");
        outlines.0.insert(
            path.clone(),
            (
                text_hash(text.as_bytes()),
                crate::text::outline::outline(text),
            ),
        );
        assert!(outlines.get(&path, text).is_some());
        assert!(outlines.get(&path, "class A:\n    x = 2\n").is_none());
        assert!(outlines.get(Path::new("shop/b.py"), text).is_none());
    }
}
