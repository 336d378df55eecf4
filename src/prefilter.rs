//! Reading only what can matter, decided from bytes before anything is parsed.
//!
//! **Phase 1** parses only the top-level statements that can define what the index records:
//! the classes related to models, managers, querysets and serializers (found from the outlines
//! of every file, see [`IndexScope`]), functions that may return a queryset, and every other
//! statement that is not a class or a function (imports, settings, `if`/`try` blocks). Every
//! other class is still known by name, bases and method names, read from the outline.
//!
//! **Phase 2** parses a file only when some rule can find something in it: the framework rules
//! ask for their own words; the loop rules need a loop (or a prefetch) and a queryset source
//! the index knows: `Model.<manager>`, a model in an annotation (`author: Author`,
//! `QuerySet[Book]`), `get_object_or_404`, or a call of a function that returns a queryset
//! (see [`Needles`]).
//!
//! Both are conservative: with `DJOPT_NO_PREFILTER=1` every file is parsed whole, and the tests
//! compare the findings both ways.

use crate::index::{self, FileFacts, ProjectIndex};
use crate::text::outline::{BodyLine, Class, Kind, Outline, Tok, Token, is_ident_byte};
use crate::text::trigger::Trigger;
use crate::text::{has_word, identifiers, next_byte_at};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ops::Range;
use std::sync::OnceLock;

/// `DJOPT_NO_PREFILTER=1`: parse every file whole in both phases (for comparisons).
pub fn disabled() -> bool {
    static OFF: OnceLock<bool> = OnceLock::new();
    *OFF.get_or_init(|| std::env::var_os("DJOPT_NO_PREFILTER").is_some_and(|v| v != "0"))
}

/// What phase 1 keeps of a file's outline to decide, for the whole project, which classes
/// matter.
#[derive(Debug, Default)]
pub struct FileScan {
    pub outline: Outline,
    /// Per class of the outline (same order as `Outline::all_classes`).
    pub classes: Vec<ClassScan>,
    /// Statement indexes of the functions that may return a queryset, with the names their
    /// `return a.b.c…` chains could take a model from (every segment but the last).
    pub queryset_functions: Vec<(usize, Vec<String>)>,
    /// A statement that is neither a class nor a function holds something the index reads.
    pub other_matters: bool,
    /// The statements that are neither classes nor functions and that phase 1 reads when it
    /// parses the file: `from … import …` (names resolve through them), the ones that
    /// `other_matters`, and every one in a settings module (its paths use module-level names).
    pub module_level: Vec<usize>,
    /// A hash of the text the outline was made from (see `project::Outlines`).
    pub text_hash: u64,
    /// Module-level `Name = Base.from_queryset(QS)`: the name, and the classes it is made of.
    pub manager_aliases: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Default)]
pub struct ClassScan {
    /// The class can only be a model, manager, queryset or serializer, whatever its bases.
    pub seed: bool,
    /// Names its body statements call or pass (`objects = BookManager()`,
    /// `Manager.from_queryset(BookQuerySet)()`): classes a model's managers are made of.
    pub uses: Vec<String>,
}

/// Base names that make a class one the index records (or that it must follow): Django's and
/// DRF's managers, querysets and serializers, and those of packages outside the project
/// (`TreeManager`, `PolymorphicQuerySet`). A class's own name does not make it one (a test case
/// named `PageQuerySetTests` is none): a manager is found through the model that assigns it
/// (see `ClassScan::uses`), a serializer through its bases.
fn is_seed_name(name: &str) -> bool {
    name.ends_with("Manager")
        || name.ends_with("QuerySet")
        || name.ends_with("Queryset")
        || name.ends_with("Serializer")
}

fn builtin_models() -> &'static HashSet<String> {
    static NAMES: OnceLock<HashSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        index::build_index(&[])
            .models
            .iter()
            .map(|m| m.name.clone())
            .collect()
    })
}

impl FileScan {
    pub fn new(src: &str) -> FileScan {
        let outline = crate::text::outline::outline(src);
        let bytes = src.as_bytes();
        let mut scan = FileScan::default();
        for (i, st) in outline.statements.iter().enumerate() {
            let text = &bytes[st.range.clone()];
            match &st.kind {
                Kind::Class(_) => {}
                Kind::Function => {
                    let heads = returned_chain_heads(text);
                    if !heads.is_empty() {
                        scan.queryset_functions.push((i, heads));
                    }
                }
                Kind::Other(_) => {
                    let alias = manager_alias(text);
                    let matters = other_matters(text) || alias.is_some();
                    scan.manager_aliases.extend(alias);
                    scan.other_matters |= matters;
                    // `import shop.models as shop_models` names a module too.
                    let aliased_import = text.starts_with(b"import ")
                        && crate::finder!(b" as ").find(text).is_some();
                    if matters || text.starts_with(b"from") || aliased_import || block_imports(text)
                    {
                        scan.module_level.push(i);
                    }
                }
            }
        }
        if index::frameworks::may_define(bytes) {
            scan.module_level = outline
                .statements
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s.kind, Kind::Other(_)))
                .map(|(i, _)| i)
                .collect();
        }
        scan.classes = outline
            .all_classes()
            .map(|(_, class)| class_scan(class, bytes))
            .collect();
        scan.outline = outline;
        scan
    }
}

fn class_scan(class: &Class, src: &[u8]) -> ClassScan {
    let builtins = builtin_models();
    let mut seed = class.base_names.iter().any(|b| {
        b == "Model"
            || b == "as_manager"
            || b == "from_queryset"
            || is_seed_name(b)
            || builtins.contains(b)
    });
    let mut uses = Vec::new();
    for (line, kind) in class.body_lines.iter().zip(&class.body_kinds) {
        if *kind != BodyLine::Other {
            continue;
        }
        let text = &src[line.clone()];
        // Columns and managers declared as `name = models.XField(...)`, `models.Manager()`:
        // the index takes a class with such a column for a model whatever its bases.
        seed |= assigns_from_models(text);
        // Managers: `objects = BookManager()` (the index takes any callee named `…Manager`),
        // and those made of a queryset class: `X.as_manager()`, `M.from_queryset(X)()`.
        // Both need a word with `anager` or `from_queryset` in it: most lines have neither.
        if crate::finder!(b"anager").find(text).is_none()
            && crate::finder!(b"from_queryset").find(text).is_none()
        {
            continue;
        }
        let words: Vec<Range<usize>> = identifiers(text).collect();
        if let Some(callee) = assigned_callee(text, &words)
            && callee.ends_with(b"Manager")
        {
            let name = String::from_utf8_lossy(callee).into_owned();
            if !uses.contains(&name) {
                uses.push(name);
            }
        }
        for (k, word) in words.iter().enumerate() {
            let w = &text[word.clone()];
            let used = match w {
                b"as_manager" => k.checked_sub(1).map(|p| vec![p]),
                b"from_queryset" => Some(
                    k.checked_sub(1)
                        .into_iter()
                        .chain(k + 1..words.len().min(k + 3))
                        .collect(),
                ),
                _ => None,
            };
            for p in used.into_iter().flatten() {
                let name = String::from_utf8_lossy(&text[words[p].clone()]).into_owned();
                if !uses.contains(&name) {
                    uses.push(name);
                }
            }
        }
    }
    ClassScan { seed, uses }
}

/// `name = a.b.C(…)`: the last name of the callee, `C`.
fn assigned_callee<'t>(text: &'t [u8], words: &[Range<usize>]) -> Option<&'t [u8]> {
    let first = words.first()?;
    let eq = first.end
        + text[first.end..]
            .iter()
            .position(|&b| !b.is_ascii_whitespace())?;
    if text.get(eq) != Some(&b'=') || text.get(eq + 1) == Some(&b'=') {
        return None;
    }
    // The dotted callee right after `=`, then `(`.
    let mut last = None;
    for word in words.iter().skip(1) {
        let gap = &text[last.as_ref().map_or(eq + 1, |w: &Range<usize>| w.end)..word.start];
        let expected: &[u8] = if last.is_some() { b"." } else { b"" };
        if gap
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .copied()
            .collect::<Vec<u8>>()
            != expected
        {
            break;
        }
        last = Some(word.clone());
    }
    let last = last?;
    let after = text[last.end..].iter().find(|b| !b.is_ascii_whitespace());
    (after == Some(&b'(')).then(|| &text[last])
}

/// `name = models.…` (or `name: T = models.…`): a column or manager declared from
/// `django.db.models`, as the index's extractor reads class-level assignments.
fn assigns_from_models(line: &[u8]) -> bool {
    let mut i = 0;
    while i < line.len() && line[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < line.len() && is_ident_byte(line[i]) {
        i += 1;
    }
    if i == start {
        return false;
    }
    // The first `=` that is not part of `==`, `<=`, `>=`, `!=`.
    let Some(eq) = line[i..].iter().position(|&b| b == b'=').map(|p| p + i) else {
        return false;
    };
    if line.get(eq + 1) == Some(&b'=') || matches!(line[eq - 1], b'<' | b'>' | b'!' | b'=') {
        return false;
    }
    let mut j = eq + 1;
    while j < line.len() && matches!(line[j], b' ' | b'\t' | b'(' | b'\\' | b'\r' | b'\n') {
        j += 1;
    }
    // `models.CharField(`, `models.ForeignKey(`, `models.Manager(`: a column or a manager.
    let Some(rest) = line[j..].strip_prefix(b"models.") else {
        return false;
    };
    let end = rest
        .iter()
        .position(|&b| !is_ident_byte(b))
        .unwrap_or(rest.len());
    let callee = String::from_utf8_lossy(&rest[..end]);
    rest[end..].first() == Some(&b'(')
        && (callee.ends_with("Field")
            || callee.ends_with("Manager")
            || index::relation_kind_of(&callee).is_some())
}

/// `if TYPE_CHECKING: from … import …`, `try: from … import …`: imports the index reads one
/// block level in.
fn block_imports(text: &[u8]) -> bool {
    (text.starts_with(b"if") || text.starts_with(b"try"))
        && crate::finder!(b"import").find(text).is_some()
}

/// Something phase 1 reads outside classes and functions: classes or functions nested in
/// `if`/`try` blocks, the user model setting, the framework settings.
/// `Name = a.Base.from_queryset(QS)`: (`Name`, [`Base`, `QS`]).
fn manager_alias(text: &[u8]) -> Option<(String, Vec<String>)> {
    crate::finder!(b"from_queryset").find(text)?;
    let words: Vec<Range<usize>> = identifiers(text).collect();
    let first = words.first()?;
    let after = text[first.end..]
        .iter()
        .position(|&b| !b.is_ascii_whitespace())?
        + first.end;
    if text.get(after) != Some(&b'=') || text.get(after + 1) == Some(&b'=') {
        return None;
    }
    let k = words
        .iter()
        .position(|w| &text[w.clone()] == b"from_queryset")?;
    let made_of = k
        .checked_sub(1)
        .into_iter()
        .chain(k + 1..words.len().min(k + 3))
        .map(|p| String::from_utf8_lossy(&text[words[p].clone()]).into_owned())
        .collect();
    Some((
        String::from_utf8_lossy(&text[first.clone()]).into_owned(),
        made_of,
    ))
}

fn other_matters(text: &[u8]) -> bool {
    crate::finder!(b"class ").find(text).is_some()
        || crate::finder!(b"def ").find(text).is_some()
        || crate::finder!(b"AUTH_USER_MODEL").find(text).is_some()
        || index::frameworks::may_define(text)
}

/// `return X.y…`: a function phase 1 may read as returning `Model.<manager>…`. The names a
/// model can be among (every segment of a returned dotted chain but its last: `Book` and
/// `objects` of `return Book.objects.filter(…)`); empty when no `return` returns a chain.
fn returned_chain_heads(text: &[u8]) -> Vec<String> {
    let mut heads: Vec<String> = Vec::new();
    for at in crate::finder!(b"return").find_iter(text) {
        if at > 0 && is_ident_byte(text[at - 1]) {
            continue;
        }
        let mut i = at + b"return".len();
        if text.get(i).is_some_and(|&b| is_ident_byte(b)) {
            continue; // `returned`
        }
        let skip = |i: &mut usize| {
            while *i < text.len() && matches!(text[*i], b' ' | b'\t' | b'(' | b'\\' | b'\r' | b'\n')
            {
                *i += 1;
            }
        };
        let mut segments: Vec<&[u8]> = Vec::new();
        loop {
            skip(&mut i);
            let start = i;
            while i < text.len() && is_ident_byte(text[i]) {
                i += 1;
            }
            if i == start {
                break;
            }
            segments.push(&text[start..i]);
            skip(&mut i);
            if text.get(i) != Some(&b'.') {
                break;
            }
            i += 1;
        }
        if segments.len() >= 2 {
            for s in &segments[..segments.len() - 1] {
                let s = String::from_utf8_lossy(s).into_owned();
                if !heads.contains(&s) {
                    heads.push(s);
                }
            }
        }
    }
    heads
}

/// Which classes of the project phase 1 must read whole: those that can be (or lead to) a
/// model, a manager, a queryset or a serializer, by name through their bases.
///
/// Seeds are classes whose own text says so (bases named `Model`, a built-in model, `…Manager`,
/// `…QuerySet`, `…Serializer`; body statements using `models.`); then every class deriving
/// from a class of such a name, again and again; then the classes their bodies use (managers)
/// and every class their bases name, again and again (abstract bases, mixins). Every other
/// class is not a model, manager, queryset or serializer whatever its imports say: the index
/// resolves bases by their last name, so following names over-approximates it.
pub struct IndexScope {
    /// (file, statement, class in statement) of every class to read whole.
    relevant: HashSet<Key>,
    /// Every class name of the project.
    class_names: HashSet<String>,
}

/// A class: its file, its statement, 0 or 1 + its place among the statement's nested classes.
type Key = (usize, usize, usize);

impl IndexScope {
    pub fn new(files: &[Option<FileScan>]) -> IndexScope {
        // Every class by name, and its outline.
        let mut by_name: HashMap<&str, Vec<Key>> = HashMap::default();
        let mut classes: HashMap<Key, (&Class, &ClassScan)> = HashMap::default();
        let mut children: HashMap<&str, Vec<Key>> = HashMap::default();
        for (fi, scan) in files.iter().enumerate() {
            let Some(scan) = scan else { continue };
            for (((si, k), class), info) in scan.outline.all_classes().zip(&scan.classes) {
                let key = (fi, si, k);
                by_name.entry(class.name.as_str()).or_default().push(key);
                classes.insert(key, (class, info));
                for base in &class.base_names {
                    children.entry(base.as_str()).or_default().push(key);
                }
            }
        }
        // Seeds and everything deriving from a class of their names.
        let mut derived: HashSet<Key> = HashSet::default();
        let mut work: Vec<Key> = classes
            .iter()
            .filter(|(_, (_, info))| info.seed)
            .map(|(k, _)| *k)
            .collect();
        let mut names_done: HashSet<&str> = HashSet::default();
        while let Some(key) = work.pop() {
            if !derived.insert(key) {
                continue;
            }
            let name = classes[&key].0.name.as_str();
            if names_done.insert(name) {
                for child in children.get(name).into_iter().flatten() {
                    if !derived.contains(child) {
                        work.push(*child);
                    }
                }
            }
        }
        // Plus the classes they use, and the ancestors (by name) of all of them.
        let mut relevant: HashSet<Key> = HashSet::default();
        let mut work: Vec<Key> = derived.iter().copied().collect();
        let aliases: HashMap<&str, &[String]> = files
            .iter()
            .flatten()
            .flat_map(|scan| &scan.manager_aliases)
            .map(|(name, made_of)| (name.as_str(), made_of.as_slice()))
            .collect();
        for key in &derived {
            for used in &classes[key].1.uses {
                work.extend(by_name.get(used.as_str()).into_iter().flatten().copied());
                // `objects = BookManager()` with `BookManager = Manager.from_queryset(QS)`.
                for made_of in aliases.get(used.as_str()).into_iter().copied().flatten() {
                    work.extend(by_name.get(made_of.as_str()).into_iter().flatten().copied());
                }
            }
        }
        let mut names_done: HashSet<&str> = HashSet::default();
        while let Some(key) = work.pop() {
            if !relevant.insert(key) {
                continue;
            }
            for base in &classes[&key].0.base_names {
                if names_done.insert(base.as_str()) {
                    work.extend(by_name.get(base.as_str()).into_iter().flatten().copied());
                }
            }
        }
        let class_names = by_name.keys().map(|n| n.to_string()).collect();
        IndexScope {
            relevant,
            class_names,
        }
    }

    /// The statements of file `fi` to parse, or None when nothing in it needs parsing.
    pub fn statements(&self, fi: usize, scan: &FileScan) -> Option<Vec<usize>> {
        let classes: Vec<usize> = scan
            .outline
            .classes()
            .map(|(si, _)| si)
            .filter(|si| self.relevant.contains(&(fi, *si, 0)))
            .collect();
        // A function returning `X.y…` where no `X` or `y` is a class of the project (or a
        // built-in model) cannot return a model's queryset.
        let functions: Vec<usize> = scan
            .queryset_functions
            .iter()
            .filter(|(_, heads)| {
                heads
                    .iter()
                    .any(|h| self.class_names.contains(h.as_str()) || builtin_models().contains(h))
            })
            .map(|(i, _)| *i)
            .collect();
        if classes.is_empty() && functions.is_empty() && !scan.other_matters {
            return None;
        }
        let mut out: Vec<usize> = scan
            .module_level
            .iter()
            .copied()
            .chain(classes)
            .chain(functions)
            .collect();
        out.sort_unstable();
        Some(out)
    }
}

/// Adds what the outline knows of the classes phase 1 did not parse: name, line, bases and
/// method names, the way the index's extractors would have recorded them (nothing else of
/// theirs matters: they are not models, managers, querysets or serializers).
pub fn add_outline_classes(facts: &mut FileFacts, scan: &FileScan, parsed: &[usize]) {
    let mut index_classes = std::mem::take(&mut facts.classes);
    let mut framework_classes = std::mem::take(&mut facts.frameworks.classes);
    for (si, class) in scan.outline.classes() {
        if parsed.binary_search(&si).is_ok() {
            continue;
        }
        index_classes.push(Default::default());
        let raw = index_classes.last_mut().expect("just pushed");
        raw.name = class.name.clone();
        raw.line = class.line;
        raw.bases = class.bases.clone();
        framework_classes.push(index::frameworks::RawClass {
            name: class.name.clone(),
            line: class.line,
            bases: class.bases.clone(),
            methods: class
                .methods
                .iter()
                .map(|m| index::frameworks::RawMethod {
                    name: m.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
    }
    // Source order, as the extractors list them.
    index_classes.sort_by_key(|c| c.line);
    framework_classes.sort_by_key(|c| c.line);
    facts.classes = index_classes;
    facts.frameworks.classes = framework_classes;
}

/// A method of a class phase 1 reads that it can leave unparsed (see [`index::lazy`]).
pub struct LazyCandidate {
    /// The class's statement.
    pub statement: usize,
    pub name: String,
    /// The class header: its decorators to its first body statement.
    pub header: Range<usize>,
    /// The method, its decorators included.
    pub range: Range<usize>,
}

/// The methods of the classes in `statements` that nothing phase 1 builds needs parsed: not
/// `get_queryset` or another `get_…` (serializer hooks), not `to_representation`, no
/// `return self…` or `return super…` (a queryset method), the only method of its name in its
/// class. A class keeps at least one statement of its body.
pub fn lazy_methods(scan: &FileScan, statements: &[usize], text: &[u8]) -> Vec<LazyCandidate> {
    let mut out = Vec::new();
    for &si in statements {
        let st = &scan.outline.statements[si];
        let Kind::Class(class) = &st.kind else {
            continue;
        };
        let Some(first) = class.body_lines.first() else {
            continue;
        };
        let header = st.range.start..first.start;
        let members = class.members(st.range.end);
        let before = out.len();
        for (range, method) in &members {
            if !method {
                continue;
            }
            let (start, end) = (range.start, range.end);
            let member = &text[start..end];
            let Some(name) = def_name(member) else {
                continue;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            if name.starts_with("get_")
                || name == "to_representation"
                || class.methods.iter().filter(|m| **m == name).count() != 1
                || returns_from_self(member)
            {
                continue;
            }
            out.push(LazyCandidate {
                statement: si,
                name,
                header: header.clone(),
                range: start..end,
            });
        }
        if out.len() - before == members.len() {
            out.remove(before);
        }
    }
    out
}

/// The name after the first `def` of a member's text (decorators before it).
fn def_name(member: &[u8]) -> Option<&[u8]> {
    let at = identifiers(member).find(|w| &member[w.clone()] == b"def")?;
    let name = identifiers(&member[at.end..]).next()?;
    Some(&member[at.end + name.start..at.end + name.end])
}

/// Some `return` of the text returns `super…` or `self` or a call on it (`self.filter(…)`;
/// parentheses, white space, continuations and comments between): the method may return a
/// queryset built from `self`. `return self.author.name` does not.
fn returns_from_self(text: &[u8]) -> bool {
    let skip = |i: &mut usize| loop {
        match text.get(*i) {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'(') => *i += 1,
            Some(b'#') => {
                *i = memchr::memchr(b'\n', &text[*i..]).map_or(text.len(), |n| *i + n);
            }
            _ => break,
        }
    };
    let word_at = |i: usize, word: &[u8]| {
        text[i..].starts_with(word) && !text.get(i + word.len()).is_some_and(|&b| is_ident_byte(b))
    };
    crate::finder!(b"return").find_iter(text).any(|at| {
        let mut i = at + b"return".len();
        skip(&mut i);
        if word_at(i, b"super") {
            return true;
        }
        if !word_at(i, b"self") {
            return false;
        }
        i += b"self".len();
        skip(&mut i);
        if text.get(i) != Some(&b'.') {
            return true; // `return self` (or more than this test reads)
        }
        i += 1;
        skip(&mut i);
        while text.get(i).is_some_and(|&b| is_ident_byte(b)) {
            i += 1;
        }
        while matches!(text.get(i), Some(b' ' | b'\t' | b'\\' | b'\r' | b'\n')) {
            i += 1;
        }
        text.get(i) == Some(&b'(')
    })
}

/// `ranges` without the given byte ranges (each inside one of them).
pub fn without(ranges: Vec<Range<usize>>, holes: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut holes: Vec<&Range<usize>> = holes.iter().collect();
    holes.sort_by_key(|h| h.start);
    let mut out = Vec::new();
    let mut h = 0;
    for range in ranges {
        let mut start = range.start;
        while h < holes.len() && holes[h].start < range.end {
            let hole = holes[h];
            if hole.start > start {
                out.push(start..hole.start);
            }
            start = start.max(hole.end);
            h += 1;
        }
        if start < range.end {
            out.push(start..range.end);
        }
    }
    out
}

/// Byte ranges of the chosen statements, merged where they touch.
pub fn ranges(scan: &FileScan, statements: &[usize]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for &i in statements {
        let range = scan.outline.statements[i].range.clone();
        match out.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => out.push(range),
        }
    }
    out
}

/// A set of names that answers "no" for most words without hashing them: the prefilter asks
/// it about every identifier of the files it reads (tens of millions), and almost all of them
/// are not the names of models, managers or functions.
#[derive(Debug)]
struct NameSet {
    names: HashSet<Vec<u8>>,
    /// One bit per [`NameSet::slot`]: set when some name has that slot.
    slots: Box<[u64]>,
}

impl Default for NameSet {
    fn default() -> Self {
        NameSet {
            names: HashSet::default(),
            slots: vec![0; 1 << 10].into_boxed_slice(),
        }
    }
}

impl NameSet {
    /// A cheap 16-bit mix of a word's length and four of its bytes.
    fn slot(word: &[u8]) -> usize {
        let n = word.len();
        if n == 0 {
            return 0;
        }
        let x = n as u64
            | (word[0] as u64) << 8
            | (word[n - 1] as u64) << 16
            | (word[n / 2] as u64) << 24
            | (word[n / 3] as u64) << 32;
        (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
    }

    fn insert(&mut self, word: Vec<u8>) {
        let slot = Self::slot(&word);
        self.slots[slot / 64] |= 1 << (slot % 64);
        self.names.insert(word);
    }

    fn contains(&self, word: &[u8]) -> bool {
        let slot = Self::slot(word);
        self.slots[slot / 64] & (1 << (slot % 64)) != 0 && self.names.contains(word)
    }
}

/// The names phase 2 looks for before parsing a file for the loop rules, from the index.
#[derive(Debug, Default)]
pub struct Needles {
    models: NameSet,
    managers: NameSet,
    functions: NameSet,
    /// Multi-valued relations of the models (`books`, `book_set`): `self.books…` in a model
    /// method is a queryset source.
    relations: NameSet,
    /// The names of the project's templates, when its settings configure Django's templates
    /// (ORM303 reads nothing otherwise).
    templates: HashSet<Vec<u8>>,
    /// What the rules declare they need ([`Trigger`]).
    loops: bool,
    fetches: bool,
    renders: bool,
    sites: bool,
    with_source: Vec<fn(&[u8]) -> bool>,
}

impl Needles {
    /// `render(request, "library/books.html", …)`, `TemplateResponse(…)`,
    /// `render_to_string(…)`: ORM303 reads such a call when its template name is written out
    /// and is one of the project's templates.
    pub fn renders_template(&self, part: &[u8]) -> bool {
        if !self.renders
            || self.templates.is_empty()
            || (crate::finder!(b"render").find(part).is_none()
                && crate::finder!(b"TemplateResponse").find(part).is_none())
        {
            return false;
        }
        memchr::memchr2_iter(b'"', b'\'', part).any(|at| {
            let quote = part[at];
            let rest = &part[at + 1..];
            rest.iter()
                .position(|&b| b == quote || b == b'\n')
                .is_some_and(|end| self.templates.contains(&rest[..end]))
        })
    }

    /// Can a loop of `parts` of `text` (a function or method, or the module-level statements,
    /// read as one scope) run a query per row? See [`loops_over`]; this tokenizes the parts.
    /// Also true for a source with a prefetch, a thrown-away queryset method or a serializer
    /// over rows.
    fn holds_loop_finding(&self, text: &[u8], parts: &[Range<usize>], aliases: &Aliases) -> bool {
        let mut names = Names::default();
        let mut lines: Vec<LineFacts> = Vec::new();
        for part in parts {
            let part = &text[part.clone()];
            crate::timings::count(crate::timings::Bytes::Scanned, part.len());
            crate::text::outline::logical_lines_at(part, |range, indent, tokens| {
                lines.push(self.line_facts(part, range, indent, tokens, aliases, &mut names));
            });
        }
        lines.iter().any(|l| l.source)
            && (parts
                .iter()
                .map(|p| &text[p.clone()])
                .any(|p| self.with_source.iter().any(|test| test(p)))
                || ((self.loops || self.fetches) && loops_over(lines.iter(), &names)))
    }

    /// The parameters of a `def` line whose type hint holds a queryset source (`book: Book`,
    /// `books: QuerySet["Book"]`): the resolver reads a parameter's hint, and nothing else of
    /// the line binds a name it follows (not `self`, not a default value).
    fn hinted_parameters<'t>(
        &self,
        text: &'t [u8],
        offset: usize,
        tokens: &[Token],
        aliases: &Aliases,
    ) -> Vec<&'t [u8]> {
        let line = &text[offset..];
        let Some(open) = tokens.iter().position(|t| t.kind == Tok::Op(b'(')) else {
            return Vec::new();
        };
        // The parameters: the tokens between the parentheses, split at commas outside brackets.
        let mut parameters = Vec::new();
        let (mut depth, mut start) = (0usize, open + 1);
        for (j, t) in tokens.iter().enumerate().skip(open + 1) {
            match t.kind {
                Tok::Op(b'(' | b'[' | b'{') => depth += 1,
                Tok::Op(b')' | b']' | b'}') if depth == 0 => {
                    parameters.push(start..j);
                    break;
                }
                Tok::Op(b')' | b']' | b'}') => depth -= 1,
                Tok::Op(b',') if depth == 0 => {
                    parameters.push(start..j);
                    start = j + 1;
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for parameter in parameters {
            let tokens = &tokens[parameter];
            let Some(name) = tokens.iter().find(|t| t.kind == Tok::Ident) else {
                continue;
            };
            // Its hint: after its `:`, up to its default's `=`.
            let mut depth = 0usize;
            let mut hint: Option<Range<usize>> = None;
            for (i, t) in tokens.iter().enumerate() {
                match t.kind {
                    Tok::Op(b'(' | b'[' | b'{') => depth += 1,
                    Tok::Op(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
                    Tok::Op(b':') if depth == 0 && hint.is_none() => {
                        hint = Some(i + 1..tokens.len());
                    }
                    Tok::Op(b'=') if depth == 0 => {
                        if let Some(h) = &mut hint {
                            h.end = i;
                        }
                        break;
                    }
                    _ => {}
                }
            }
            if hint.is_some_and(|h| {
                self.line_has_queryset_source(line, offset, &tokens[h], aliases, true)
            }) {
                out.push(&text[name.start..name.end]);
            }
        }
        out
    }

    /// `Book.objects.get(pk=…)` or `Book.objects.filter(id=…)` in a line (ORM203's per-id
    /// fetches, and more), or `get_object_or_404`; in an f-string's fields too. `line` is the
    /// line's text at `offset` of the text the tokens' offsets are in.
    fn fetches_one(&self, line: &[u8], offset: usize, tokens: &[Token], aliases: &Aliases) -> bool {
        let word = |t: &Token, w: &[u8]| {
            t.kind == Tok::Ident && &line[t.start - offset..t.end - offset] == w
        };
        let op = |t: &Token, c: u8| t.kind == Tok::Op(c);
        crate::finder!(b"get_object_or_404").find(line).is_some()
            || tokens.windows(8).any(|w| {
                w[0].kind == Tok::Ident
                    && op(&w[1], b'.')
                    && w[2].kind == Tok::Ident
                    && op(&w[3], b'.')
                    && (word(&w[4], b"get") || word(&w[4], b"filter"))
                    && op(&w[5], b'(')
                    && (word(&w[6], b"pk") || word(&w[6], b"id"))
                    && op(&w[7], b'=')
                    && self.source_at(line, w[0].start - offset..w[0].end - offset, aliases, false)
            })
            || tokens.iter().any(|t| {
                let s = &line[t.start - offset..t.end - offset];
                t.kind == Tok::Str
                    && memchr::memchr(b'{', s).is_some()
                    && (crate::finder!(b".get").find(s).is_some()
                        || crate::finder!(b".filter").find(s).is_some())
            })
    }

    /// What the loop rules' prefilter reads of one logical line (`range` in `text`, tokens
    /// with offsets into `text`).
    fn line_facts<'t>(
        &self,
        text: &'t [u8],
        range: Range<usize>,
        indent: usize,
        tokens: &[Token],
        aliases: &Aliases,
        names: &mut Names<'t>,
    ) -> LineFacts {
        let line_text = &text[range.clone()];
        let word = |t: &Token, w: &[u8]| t.kind == Tok::Ident && &text[t.start..t.end] == w;
        let (first, second) = (tokens.first(), tokens.get(1));
        let def = first.is_some_and(|t| word(t, b"def"))
            || (first.is_some_and(|t| word(t, b"async"))
                && second.is_some_and(|t| word(t, b"def")));
        let source = self.line_has_queryset_source(line_text, range.start, tokens, aliases, def);
        let mut line = LineFacts {
            indent,
            for_statement: first.is_some_and(|t| word(t, b"for"))
                || (first.is_some_and(|t| word(t, b"async"))
                    && second.is_some_and(|t| word(t, b"for"))),
            has_for: tokens.iter().any(|t| word(t, b"for")),
            loop_source: false,
            source,
            fetch: self.fetches
                && source
                && self.fetches_one(line_text, range.start, tokens, aliases),
            words: names.words.len()..names.words.len(),
            bound: names.bound.len()..names.bound.len(),
            iterables: names.iterables.len()..names.iterables.len(),
            assigned: names.assigned.len()..names.assigned.len(),
            value_source: false,
            roots: names.roots.len()..names.roots.len(),
        };
        if def && source {
            let hinted = self.hinted_parameters(text, range.start, tokens, aliases);
            names.bound.extend(hinted);
        }
        let mut fstring_for = false;
        let mut depth = 0usize;
        let mut augmented = None; // tokens before a top-level `+=`, `|=`…
        let mut assignments: Vec<usize> = Vec::new(); // the top-level `=` of `a = b = value`
        // Where the line's simple statements end (`a = 1; b = 2`), and where a compound
        // statement's header ends (`if x: qs = …`): the top-level `;` and the first `:`.
        let mut statement_ends: Vec<usize> = Vec::new();
        let mut header_end = None;
        let mut binding_for = false;
        for (k, t) in tokens.iter().enumerate() {
            match t.kind {
                Tok::Ident => {
                    let w = &text[t.start..t.end];
                    names.words.push(w);
                    if w == b"for" {
                        // A `for` statement binds its targets in the function; a comprehension
                        // binds them in itself only, where the resolver does not follow them.
                        binding_for = line.for_statement && k <= 1;
                    } else if w == b"in" {
                        binding_for = false;
                    } else if binding_for || (k > 0 && word(&tokens[k - 1], b"as")) {
                        names.bound.push(w);
                    }
                }
                // An f-string's fields are code: a comprehension or a name in one counts (the
                // whole line is then read as the comprehension's iterable).
                Tok::Str if memchr::memchr(b'{', &text[t.start..t.end]).is_some() => {
                    let s = &text[t.start..t.end];
                    if formatted(s) && crate::finder!(b"for ").find(s).is_some() {
                        line.has_for = true;
                        fstring_for = true;
                    }
                    names.words.extend(identifiers(s).map(|w| &s[w]));
                }
                Tok::Op(b'(' | b'[' | b'{') => depth += 1,
                Tok::Op(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
                Tok::Op(b';') if depth == 0 => statement_ends.push(k),
                Tok::Op(b':') if depth == 0 && header_end.is_none() => header_end = Some(k),
                Tok::Op(b'=') => {
                    let before = t.start.checked_sub(1).map(|i| text[i]);
                    let after = text.get(t.end).copied();
                    if before == Some(b':') {
                        // `name := value`
                        if let Some(name) = k.checked_sub(2).map(|p| &tokens[p])
                            && name.kind == Tok::Ident
                        {
                            names.bound.push(&text[name.start..name.end]);
                        }
                    } else if depth == 0
                        && after != Some(b'=')
                        && !matches!(before, Some(b'=' | b'!' | b'<' | b'>'))
                    {
                        if matches!(
                            before,
                            Some(b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'@')
                        ) {
                            augmented = Some(k);
                        } else {
                            assignments.push(k);
                        }
                    } else if depth == 0
                        && matches!(before, Some(b'<' | b'>'))
                        && k >= 2
                        && tokens[k - 2].kind == before.map(Tok::Op).unwrap_or(Tok::Str)
                    {
                        augmented = Some(k); // `<<=`, `>>=`
                    }
                }
                _ => {}
            }
        }
        if let Some(k) = augmented {
            for t in &tokens[..k] {
                if t.kind == Tok::Ident {
                    names.bound.push(&text[t.start..t.end]);
                }
            }
        }
        // `name = value` (and `a = b = value`, `name: T = value`): the resolver follows a name
        // to its value when the name alone is the target, and reads the value from its root
        // (`Book.objects…`, `qs.filter(…)`, `list(qs)`, `qs[:10]`). Each simple statement of
        // the line apart, after a compound statement's header (`else: qs = Book.objects…`).
        let compound =
            first.is_some_and(|t| COMPOUND_KEYWORDS.iter().any(|k| word(t, k.as_bytes())));
        let mut start = match header_end {
            Some(colon) if compound => colon + 1,
            _ => 0,
        };
        statement_ends.push(tokens.len());
        for &end in &statement_ends {
            let eqs: Vec<usize> = assignments
                .iter()
                .copied()
                .filter(|&eq| start <= eq && eq < end)
                .collect();
            let Some(&last) = eqs.last() else {
                start = end + 1;
                continue;
            };
            let mut target_start = start;
            for &eq in &eqs {
                if let [t, rest @ ..] = &tokens[target_start..eq]
                    && t.kind == Tok::Ident
                    && (rest.is_empty() || rest[0].kind == Tok::Op(b':'))
                {
                    names.assigned.push(&text[t.start..t.end]);
                }
                target_start = eq + 1;
            }
            let mut value = &tokens[last + 1..end];
            loop {
                match value {
                    [t, rest @ ..] if t.kind == Tok::Op(b'(') => value = rest,
                    [f, open, rest @ ..]
                        if open.kind == Tok::Op(b'(')
                            && crate::django::EVALUATORS
                                .iter()
                                .any(|e| word(f, e.as_bytes())) =>
                    {
                        value = rest
                    }
                    _ => break,
                }
            }
            if let Some(root) = value.first().filter(|t| t.kind == Tok::Ident) {
                let word = root.start - range.start..root.end - range.start;
                line.value_source |= self.source_at(line_text, word, aliases, false);
                names.roots.push(&text[root.start..root.end]);
            }
            start = end + 1;
        }
        line.words.end = names.words.len();
        line.bound.end = names.bound.len();
        line.assigned.end = names.assigned.len();
        line.roots.end = names.roots.len();
        // What the line's loops iterate over: a source there, or names (tainted or not, see
        // `loops_over`). With a comprehension in an f-string, the whole line.
        if fstring_for {
            line.loop_source = source;
            names
                .iterables
                .extend_from_slice(&names.words[line.words.clone()]);
        } else if line.has_for {
            for span in iterables(text, tokens) {
                let span = &tokens[span];
                line.loop_source |= source
                    && self.line_has_queryset_source(line_text, range.start, span, aliases, false);
                for t in span {
                    match t.kind {
                        Tok::Ident => names.iterables.push(&text[t.start..t.end]),
                        Tok::Str if memchr::memchr(b'{', &text[t.start..t.end]).is_some() => {
                            let s = &text[t.start..t.end];
                            names.iterables.extend(identifiers(s).map(|w| &s[w]));
                        }
                        _ => {}
                    }
                }
            }
        }
        line.iterables.end = names.iterables.len();
        line
    }

    /// The needles of a project: its models, managers, functions returning querysets and
    /// templates, and what the rules declare they need (`triggers`, from every rule).
    pub fn new(index: &ProjectIndex, triggers: &[Trigger]) -> Needles {
        let mut needles = Needles::default();
        needles.set_triggers(triggers);
        for model in &index.models {
            needles.models.insert(model.name.as_bytes().to_vec());
            for manager in &model.managers {
                needles.managers.insert(manager.name.as_bytes().to_vec());
            }
            for field in model.fields.iter().filter(|f| f.kind.is_multi()) {
                needles.relations.insert(field.name.as_bytes().to_vec());
            }
        }
        for name in ["objects", "_default_manager", "_base_manager"] {
            needles.managers.insert(name.as_bytes().to_vec());
        }
        for (_, name) in index.functions.keys() {
            needles.functions.insert(name.as_bytes().to_vec());
        }
        let templates = &index.frameworks.templates;
        if templates.configured {
            needles.templates = templates.names().map(|n| n.as_bytes().to_vec()).collect();
        }
        needles
    }

    fn set_triggers(&mut self, triggers: &[Trigger]) {
        for trigger in triggers {
            match *trigger {
                Trigger::LoopOverQueryset => self.loops = true,
                Trigger::FetchInLoop => self.fetches = true,
                Trigger::RendersTemplate => self.renders = true,
                Trigger::SiteClass => self.sites = true,
                Trigger::WithQuerysetSource(test) => self.with_source.push(test),
            }
        }
    }

    /// Does `text` define a class named as one of the models (`class Book(`)?
    fn defines_model_class(&self, text: &[u8]) -> bool {
        crate::finder!(b"class ").find_iter(text).any(|at| {
            let start = at + b"class ".len();
            let end = start
                + text[start..]
                    .iter()
                    .position(|&b| !is_ident_byte(b))
                    .unwrap_or(text.len() - start);
            (at == 0 || !is_ident_byte(text[at - 1])) && self.models.contains(&text[start..end])
        })
    }

    /// Can something in `text` be a queryset of a known model? (`Book.objects`, a manager of
    /// a model, `author: Author`, `QuerySet[Book]`, `get_object_or_404`, `published_books(`),
    /// also under an alias imported with `as`.
    pub fn may_have_queryset(&self, text: &[u8]) -> bool {
        let aliases = self.aliases(text);
        self.has_queryset_source(text, &aliases)
    }

    /// Names imported under another name (`from shop.models import Book as B`), wherever they
    /// are in the file: (models, functions).
    pub fn aliases<'t>(&self, text: &'t [u8]) -> Aliases<'t> {
        let mut aliases = Aliases {
            model_class: self.defines_model_class(text),
            ..Aliases::default()
        };
        for at in crate::finder!(b"as").find_iter(text) {
            let end = at + 2;
            if (at > 0 && is_ident_byte(text[at - 1]))
                || text.get(end).is_some_and(|&b| is_ident_byte(b))
            {
                continue;
            }
            // The identifiers before and after the word `as`.
            let mut p = at;
            while p > 0 && !is_ident_byte(text[p - 1]) {
                p -= 1;
            }
            let prev_end = p;
            while p > 0 && is_ident_byte(text[p - 1]) {
                p -= 1;
            }
            let mut n = end;
            while n < text.len() && !is_ident_byte(text[n]) {
                n += 1;
            }
            let next_start = n;
            while n < text.len() && is_ident_byte(text[n]) {
                n += 1;
            }
            if p == prev_end || next_start == n {
                continue;
            }
            let (prev, next) = (&text[p..prev_end], &text[next_start..n]);
            if self.models.contains(prev) {
                aliases.models.push(next);
            } else if self.functions.contains(prev) {
                aliases.functions.push(next);
            }
        }
        aliases
    }

    /// A queryset source in `text` (a part of the file whose aliases are `aliases`).
    pub fn has_queryset_source(&self, text: &[u8], aliases: &Aliases) -> bool {
        identifiers(text).any(|word| self.source_at(text, word, aliases, true))
    }

    /// [`Self::has_queryset_source`] of one logical line from its tokens: the names of its
    /// code, and those in its short strings and f-strings (`QuerySet["Book"]`,
    /// `f"{Book.objects.count()}"`). Comments and long strings hold no source. Type hints
    /// (`book: Book`, `QuerySet["Book"]`) count only in a `def` line (`annotations`): the
    /// resolver reads parameters' hints, and `{'type': File}` is no hint.
    fn line_has_queryset_source(
        &self,
        line: &[u8],
        offset: usize,
        tokens: &[Token],
        aliases: &Aliases,
        annotations: bool,
    ) -> bool {
        tokens.iter().any(|t| {
            let word = t.start - offset..t.end - offset;
            match t.kind {
                Tok::Ident => self.source_at(line, word, aliases, annotations),
                Tok::Str
                    if word.len() <= 128 || memchr::memchr(b'{', &line[word.clone()]).is_some() =>
                {
                    identifiers(&line[word.clone()]).any(|w| {
                        let w = w.start + word.start..w.end + word.start;
                        self.source_at(line, w, aliases, annotations)
                    })
                }
                _ => false,
            }
        })
    }

    /// Is the identifier at `word` of `text` a queryset source? With `annotations`, a model
    /// name after `:` or `[` is one (a type hint).
    fn source_at(
        &self,
        text: &[u8],
        word: Range<usize>,
        aliases: &Aliases,
        annotations: bool,
    ) -> bool {
        let w = &text[word.clone()];
        if w == b"get_object_or_404" {
            return true;
        }
        // A call of a function that returns a queryset, by its bare name (the resolver reads
        // no other: `d.get(…)` is not a call of a function `get`).
        if (self.functions.contains(w) || aliases.functions.contains(&w))
            && next_byte(text, word.end) == Some(b'(')
            && previous_byte(text, word.start) != Some(b'.')
        {
            return true;
        }
        // `self.books…`: a related manager of the model a method belongs to.
        if aliases.model_class && self.relations.contains(w) && after_self_dot(text, word.start) {
            return true;
        }
        if !(self.models.contains(w) || aliases.models.contains(&w)) {
            return false;
        }
        if annotations
            && matches!(
                previous_byte(text, hint_start(text, word.start)),
                Some(b':' | b'[')
            )
        {
            return true;
        }
        let mut i = word.end;
        if next_byte_at(text, &mut i) != Some(b'.') {
            return false;
        }
        i += 1;
        next_byte_at(text, &mut i);
        let start = i;
        while i < text.len() && is_ident_byte(text[i]) {
            i += 1;
        }
        self.managers.contains(&text[start..i])
    }
}

/// Names a file imports under another name.
#[derive(Default)]
pub struct Aliases<'t> {
    models: Vec<&'t [u8]>,
    functions: Vec<&'t [u8]>,
    /// The text defines a class named as a model: its methods' `self.<relation>` are sources.
    model_class: bool,
}

/// What phase 2's prefilter reads of one logical line.
struct LineFacts {
    indent: usize,
    /// It is a `for` statement (its block follows).
    for_statement: bool,
    /// A `for` of a statement or a comprehension is in it.
    has_for: bool,
    /// A queryset source is in what one of its loops iterates over.
    loop_source: bool,
    /// A queryset source is in it (a type hint only in a `def` line).
    source: bool,
    /// `Model.manager.get(pk=…)` or `.filter(id=…)`, or `get_object_or_404`: maybe one row per
    /// id (ORM203).
    fetch: bool,
    /// Its names, the names it binds (but by assignment) and the names its loops iterate over
    /// (in [`Names`]).
    words: Range<usize>,
    bound: Range<usize>,
    iterables: Range<usize>,
    /// The names it assigns a value to (`name = value`), and the root of that value (its first
    /// name, `qs` of `list(qs.filter(…))`), a source or not.
    assigned: Range<usize>,
    value_source: bool,
    roots: Range<usize>,
}

/// The names of a file's lines, one list for all of them ([`LineFacts`] says which are whose).
#[derive(Default)]
struct Names<'t> {
    words: Vec<&'t [u8]>,
    bound: Vec<&'t [u8]>,
    iterables: Vec<&'t [u8]>,
    assigned: Vec<&'t [u8]>,
    roots: Vec<&'t [u8]>,
}

/// Can a loop of these lines (one scope, in order) run a query per row? The loop rules need a
/// loop (statement or comprehension) whose iterable resolves to a queryset, or a loop whose
/// body fetches one row per id (ORM203). The queryset resolver follows names bound in the
/// function, so this follows them too, without order and without scopes (more than the
/// resolver, never less): a name is *tainted* when it is assigned a value whose root is a
/// source or a tainted name (`qs = Book.objects…`, `rows = list(qs)`), when a `def` line hints
/// it with a model, or when another line that binds it (`:=`, augmented assignments,
/// `for … in`, `as`) holds a source or a tainted name. A loop counts when what it iterates
/// over holds a source or a tainted name (not elsewhere in its line:
/// `assertEqual([b.pk for b in books], list(Book.objects…))`, a settings dict of 150 KB with a
/// comprehension in it); a fetch counts inside a `for` block or in a line with a
/// comprehension.
fn loops_over<'l>(lines: impl Iterator<Item = &'l LineFacts> + Clone, names: &Names) -> bool {
    let mut tainted: HashSet<&[u8]> = HashSet::default();
    let words = |line: &LineFacts| &names.words[line.words.clone()];
    loop {
        let mut changed = false;
        for line in lines.clone() {
            if !line.assigned.is_empty()
                && (line.value_source
                    || names.roots[line.roots.clone()]
                        .iter()
                        .any(|w| tainted.contains(w)))
            {
                for b in &names.assigned[line.assigned.clone()] {
                    changed |= tainted.insert(b);
                }
            }
            if line.bound.is_empty()
                || !(line.source || words(line).iter().any(|w| tainted.contains(w)))
            {
                continue;
            }
            for b in &names.bound[line.bound.clone()] {
                changed |= tainted.insert(b);
            }
        }
        if !changed {
            break;
        }
    }
    let mut loops: Vec<usize> = Vec::new(); // indentation of the enclosing `for` statements
    lines.into_iter().any(|line| {
        while loops.last().is_some_and(|&i| i >= line.indent) {
            loops.pop();
        }
        let iterated = || names.iterables[line.iterables.clone()].iter();
        let found = (line.has_for && (line.loop_source || iterated().any(|w| tainted.contains(w))))
            || (line.fetch && (line.has_for || !loops.is_empty()));
        if line.for_statement {
            loops.push(line.indent);
        }
        found
    })
}

/// Keywords that start a compound statement, whose header ends at its first top-level `:`.
const COMPOUND_KEYWORDS: &[&str] = &[
    "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "async", "class",
    "def", "match", "case",
];

/// Is this string token (prefix included) an f-string or a t-string, whose fields are code?
fn formatted(token: &[u8]) -> bool {
    token
        .iter()
        .take_while(|&&b| b != b'"' && b != b'\'')
        .any(|b| matches!(b, b'f' | b'F' | b't' | b'T'))
}

/// The tokens each `for` of a logical line iterates over, as ranges of `tokens`: after its `in`
/// up to the `:` of a `for` statement, or in a comprehension up to its next clause (`for`,
/// `async for`, `if`) or its closing bracket. A `for` without an `in` at its level (a line the
/// tokenizer misread) iterates over the rest of the line.
fn iterables(text: &[u8], tokens: &[Token]) -> Vec<Range<usize>> {
    let word = |t: &Token, w: &[u8]| t.kind == Tok::Ident && &text[t.start..t.end] == w;
    // The bracket depth of each token (a bracket counts at the level outside it).
    let mut depth = 0usize;
    let levels: Vec<usize> = tokens
        .iter()
        .map(|t| match t.kind {
            Tok::Op(b'(' | b'[' | b'{') => {
                depth += 1;
                depth - 1
            }
            Tok::Op(b')' | b']' | b'}') => {
                depth = depth.saturating_sub(1);
                depth
            }
            _ => depth,
        })
        .collect();
    let mut out = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        if !word(t, b"for") {
            continue;
        }
        let level = levels[k];
        // A statement (`for` or `async for` first): its iterable may hold `if … else`.
        let statement = level == 0;
        let Some(start) =
            (k + 1..tokens.len()).find(|&j| levels[j] == level && word(&tokens[j], b"in"))
        else {
            out.push(k + 1..tokens.len());
            continue;
        };
        let end = (start + 1..tokens.len())
            .find(|&j| {
                let t = &tokens[j];
                levels[j] < level
                    || (levels[j] == level
                        && (t.kind == Tok::Op(b':')
                            || (!statement
                                && (word(t, b"for") || word(t, b"async") || word(t, b"if")))))
            })
            .unwrap_or(tokens.len());
        out.push(start + 1..end);
    }
    out
}

/// Cheap byte test before parsing for phase 2: can any rule find something in this file?
pub fn may_have_findings(text: &str, needles: Option<&Needles>) -> bool {
    let bytes = text.as_bytes();
    if crate::index::frameworks::may_have_findings(bytes) {
        return true;
    }
    // Without the prefilter, every file is read (the comparisons of tests/prefilter.rs).
    let Some(needles) = needles else {
        return true;
    };
    // A loop, a prefetch, or a rule's own byte test (a thrown-away `qs.select_related(…)`).
    let loops = crate::finder!(b"for ").find(bytes).is_some()
        || crate::finder!(b"prefetch_related").find(bytes).is_some()
        || needles.with_source.iter().any(|test| test(bytes));
    loops && needles.may_have_queryset(bytes)
}

/// Phase 2 on a file that may have findings: the parts to parse and the rest, or None to parse
/// all of it.
///
/// Kept: the module-level statements the rules and fixes read (imports, the first statement;
/// all of them when module-level code or a class body can hold a finding, or the file has a
/// view or an admin: their names are looked up at module level); of the classes the framework
/// rules read (a view, admin or inline by its bases, followed through the project's classes as
/// the rules follow them), their statements, the methods the rules ask for and the functions
/// their statements name (`list_display = (author_country,)`); and of every
/// other function, method or class, what can hold a finding:
/// - for the loop rules, a loop over a queryset source the index knows, or over a name bound
///   to one (a `prefetch_related`, a thrown-away queryset method call for ORM105, a per-id
///   fetch in a loop for ORM203 count too);
/// - for the framework rules, a call that renders a template or builds a serializer over rows.
///
/// A class is read member by member: it keeps its header with the methods that can hold a
/// finding, and its other statements when they can (read together, as the class body's scope)
/// or define a class with bases (a view or an admin perhaps).
/// What is left out cannot hold a finding: the loop rules read a loop, its function and the
/// index; the framework rules read their classes and calls, and the index.
///
/// `outline` is phase 1's outline of the same text, if it made one. Only parts whose bytes
/// can hold what the rules look for are tokenized (see `wanted_together` below).
pub fn analysis_ranges(
    text: &str,
    needles: &Needles,
    index: &ProjectIndex,
    outline: Option<&Outline>,
) -> Option<Parts> {
    let bytes = text.as_bytes();
    let own;
    let outline = match outline {
        Some(outline) => outline,
        None => {
            own = crate::text::outline::outline(text);
            &own
        }
    };
    if outline.max_depth > 256 {
        return None;
    }
    let aliases = needles.aliases(bytes);
    // A loop, a prefetch, a thrown-away queryset method or a serializer over rows, in a part's
    // bytes (which hold all its tokens do, and more: comments, long strings).
    let may_loop = |p: &[u8]| {
        ((needles.loops || needles.fetches) && has_word(p, crate::finder!(b"for")))
            || needles.with_source.iter().any(|test| test(p))
    };
    // Parts read together (the module-level statements are one scope), each part tokenized
    // only when its bytes can hold what the rules look for.
    let wanted_together = |parts: &[Range<usize>]| {
        let texts = || parts.iter().map(|p| &bytes[p.clone()]);
        if texts().any(|p| needles.renders_template(p)) {
            return true;
        }
        texts().any(may_loop)
            && texts().any(|p| needles.has_queryset_source(p, &aliases))
            && needles.holds_loop_finding(bytes, parts, &aliases)
    };
    let wanted = |part: Range<usize>| wanted_together(&[part]);
    let mut parts = Parts::default();
    // The classes the framework rules read (views, admins), by statement.
    let site_classes: Vec<bool> = outline
        .statements
        .iter()
        .map(|st| match &st.kind {
            Kind::Class(class) => needles.sites && index.frameworks.is_site_class(&class.bases),
            _ => false,
        })
        .collect();
    let sites = site_classes.contains(&true);
    // ORM302 reads the module-level functions an admin's `list_display` names
    // (`list_display = ("title", author_name)`): those named in a site class's statements.
    let site_statements: Vec<&[u8]> = outline
        .statements
        .iter()
        .zip(&site_classes)
        .filter_map(|(st, &site)| match &st.kind {
            Kind::Class(class) if site => Some((st, class)),
            _ => None,
        })
        .flat_map(|(st, class)| {
            if class.body_lines.is_empty() {
                vec![&bytes[st.range.clone()]]
            } else {
                class
                    .members(st.range.end)
                    .into_iter()
                    .filter(|m| !m.1)
                    .map(|m| &bytes[m.0])
                    .collect()
            }
        })
        .collect();
    let site_reads_function = |part: &[u8]| {
        def_name(part).is_some_and(|name| {
            site_statements
                .iter()
                .any(|t| identifiers(t).any(|w| &t[w] == name))
        })
    };
    // Module-level code (a script, a management module) is one scope; so are the imports and
    // `admin.site.register(...)` calls the kept parts need.
    let module_level: Vec<Range<usize>> = outline
        .statements
        .iter()
        .filter(|st| matches!(st.kind, Kind::Other(_)))
        .map(|st| st.range.clone())
        .collect();
    // Nothing kept but the module-level statements, and they hold nothing: nothing to parse.
    let module_wanted = wanted_together(&module_level);
    let mut wanted_any = sites || module_wanted;
    // Names in a class body (not in a method) are looked up in the module's scope: with class
    // statements that can hold a finding, or a class the framework rules read, every
    // module-level statement is kept (see below).
    let mut module_scope_read = sites || module_wanted;
    let mut partial = false;
    // Where each part goes, in order: kept, left out, or (module-level statements) decided last.
    enum To {
        Keep,
        Rest,
        Module,
    }
    let mut placed: Vec<(Range<usize>, To)> = Vec::new();
    for (st, &site) in outline.statements.iter().zip(&site_classes) {
        let part = st.range.clone();
        match &st.kind {
            Kind::Other(_) => {
                module_scope_read |= defines_class_with_bases(&bytes[part.clone()]);
                placed.push((part, To::Module));
            }
            Kind::Function => {
                if site_reads_function(&bytes[part.clone()]) || wanted(part.clone()) {
                    wanted_any = true;
                    placed.push((part, To::Keep));
                } else {
                    partial = true;
                    placed.push((part, To::Rest));
                }
            }
            Kind::Class(class) => {
                // A class the framework rules read (a view, an admin) keeps what they read of
                // it: its statements, the methods they ask for by name, and its first and last
                // members (edits go before the first or after the last).
                if site && class.body_lines.is_empty() {
                    wanted_any = true;
                    placed.push((part, To::Keep));
                    continue;
                }
                partial = true;
                // Kept: its methods that can hold a finding, and its other statements when a
                // method is kept or when they can hold one themselves (read together, as the
                // class body's scope; a nested class with bases, a view or an admin perhaps, is
                // kept whatever it holds).
                let members = class.members(st.range.end);
                let statements: Vec<Range<usize>> = members
                    .iter()
                    .filter(|m| !m.1)
                    .map(|m| m.0.clone())
                    .collect();
                let site_reads = |k: usize, range: &Range<usize>| {
                    site && (k == 0
                        || k + 1 == members.len()
                        || def_name(&bytes[range.clone()]).is_some_and(|name| {
                            crate::index::frameworks::site_reads_method(
                                name,
                                statements.iter().map(|r| &bytes[r.clone()]),
                            )
                        }))
                };
                let members: Vec<(Range<usize>, bool, bool)> = members
                    .iter()
                    .enumerate()
                    .map(|(k, (range, method))| {
                        let wanted = *method && (site_reads(k, range) || wanted(range.clone()));
                        (range.clone(), *method, wanted)
                    })
                    .collect();
                let statements_wanted = site || wanted_together(&statements);
                let nested_classes = statements
                    .iter()
                    .any(|r| defines_class_with_bases(&bytes[r.clone()]));
                wanted_any |= statements_wanted;
                module_scope_read |= statements_wanted || nested_classes;
                let kept = statements_wanted || members.iter().any(|m| m.2) || nested_classes;
                if class.body_lines.is_empty() || !kept {
                    placed.push((part, To::Rest));
                    continue;
                }
                let header = st.range.start..class.body_lines[0].start;
                placed.push((header.clone(), To::Keep));
                let mut header_in_rest = false;
                // Its statements are kept when they can hold a finding or nest a class with
                // bases, or the framework rules read them; else, with a method kept, only the
                // method (the loop rules read nothing else of the class).
                let statements_kept = statements_wanted || nested_classes;
                for (range, method, member_wanted) in members {
                    if member_wanted || (!method && statements_kept) {
                        wanted_any |= member_wanted;
                        placed.push((range, To::Keep));
                    } else {
                        // The rest holds the class's header too, and is proof of the whole only
                        // if every member starts at the same indentation (a member indented
                        // otherwise parses alone but not after the others).
                        if !header_in_rest {
                            header_in_rest = true;
                            placed.push((header.clone(), To::Rest));
                            parts.rest_is_proof &= same_indentation(bytes, &class.body_lines);
                        }
                        placed.push((range, To::Rest));
                    }
                }
            }
        }
    }
    if !wanted_any {
        // Nothing can hold a finding: imports and module-level code alone cannot.
        return Some(Parts::default());
    }
    // Module-level statements: all of them when their scope is read (above); else only what
    // the rules and fixes read of them besides functions and classes: the imports (also in an
    // `if` or a `try`), the first statement (a docstring: new imports go after it), and a class
    // with bases nested in one. A settings module's 150 KB dictionary is not parsed for the
    // loop of its one function.
    for (k, (range, to)) in placed.into_iter().enumerate() {
        let keep = match to {
            To::Keep => true,
            To::Rest => false,
            To::Module => {
                let text = &bytes[range.clone()];
                let keep =
                    module_scope_read || k == 0 || crate::finder!(b"import").find(text).is_some();
                partial |= !keep;
                keep
            }
        };
        push(
            if keep {
                &mut parts.keep
            } else {
                &mut parts.rest
            },
            range,
        );
    }
    // Code in neither (the outline misread a class that does not parse) proves nothing.
    parts.rest_is_proof &= covers(bytes, &parts.keep, &parts.rest);
    partial.then_some(parts)
}

/// What phase 2 parses of a file (see [`analysis_ranges`]).
#[derive(Debug)]
pub struct Parts {
    /// The parts that can hold a finding (sorted, apart, whole statements; class headers with
    /// the members kept). Empty: nothing to parse.
    pub keep: Vec<Range<usize>>,
    /// What is left out, as whole statements too (a class's header again before its members
    /// left out). A file whose kept parts and rest both parse apart parses whole.
    pub rest: Vec<Range<usize>>,
    /// False when that does not follow (members of a class indented differently).
    pub rest_is_proof: bool,
}

impl Parts {
    /// Does the whole file parse, `kept` being the parse of [`Parts::keep`] without an error?
    /// Yes when the rest parses apart too, when every statement of both parses is within one
    /// range (a statement left incomplete at the end of a range, `x = `, is completed by the
    /// next range's text: `x = y = 1`), and when the rest is proof at all (see `rest_is_proof`).
    /// `examples/syntax_proof.rs` compares this with whole parses of the corpus with errors
    /// put in.
    pub fn rest_proves_whole(&self, text: &str, kept: &tree_sitter::Tree) -> bool {
        use crate::syntax::parse::{MAX_NESTING, nesting_depth, parse_ranges, statements_within};
        self.rest_is_proof
            && statements_within(kept, &self.keep)
            && (self.rest.is_empty()
                || parse_ranges(text, &self.rest).is_some_and(|rest| {
                    !rest.root_node().has_error()
                        && nesting_depth(&rest, MAX_NESTING) <= MAX_NESTING
                        && statements_within(&rest, &self.rest)
                }))
    }
}

impl Default for Parts {
    fn default() -> Parts {
        Parts {
            keep: Vec::new(),
            rest: Vec::new(),
            rest_is_proof: true,
        }
    }
}

/// Add `range` to sorted, apart `ranges`, joining it to the last one when they touch.
fn push(ranges: &mut Vec<Range<usize>>, range: Range<usize>) {
    match ranges.last_mut() {
        Some(last) if last.end == range.start => last.end = range.end,
        _ => ranges.push(range),
    }
}

/// Do two lists of sorted ranges cover all of `text` but blank and comment lines together?
fn covers(text: &[u8], a: &[Range<usize>], b: &[Range<usize>]) -> bool {
    let mut all: Vec<&Range<usize>> = a.iter().chain(b).collect();
    all.sort_unstable_by_key(|r| r.start);
    let blank_or_comments = |gap: &[u8]| {
        gap.split(|&b| b == b'\n').all(|line| {
            let code = line.trim_ascii_start();
            code.is_empty() || code[0] == b'#'
        })
    };
    let mut covered = 0;
    for r in all {
        if r.start > covered && !blank_or_comments(&text[covered..r.start]) {
            return false;
        }
        covered = covered.max(r.end);
    }
    covered >= text.len() || blank_or_comments(&text[covered..])
}

/// Do all these lines start with the same white space?
fn same_indentation(text: &[u8], lines: &[Range<usize>]) -> bool {
    let indent = |line: &Range<usize>| {
        let l = &text[line.clone()];
        &l[..l.iter().take_while(|b| matches!(b, b' ' | b'\t')).count()]
    };
    lines.windows(2).all(|w| indent(&w[0]) == indent(&w[1]))
}

/// `class Name(…)` somewhere in `text` (not `class Meta:`).
fn defines_class_with_bases(text: &[u8]) -> bool {
    crate::finder!(b"class").find_iter(text).any(|at| {
        let header = &text[at + 5..];
        let end = memchr::memchr2(b':', b'\n', header).unwrap_or(header.len());
        !(at > 0 && is_ident_byte(text[at - 1]))
            && header.first().is_some_and(|&b| b == b' ' || b == b'\t')
            && memchr::memchr(b'(', &header[..end]).is_some()
    })
}

/// The next byte after `at` that is not white space (or a line continuation).
fn next_byte(text: &[u8], at: usize) -> Option<u8> {
    let mut i = at;
    next_byte_at(text, &mut i)
}

/// Is the word at `at` written `self.<word>`?
fn after_self_dot(text: &[u8], at: usize) -> bool {
    let before = &text[..at];
    let Some(dot) = before.iter().rposition(|&b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if before[dot] != b'.' {
        return false;
    }
    let head = &before[..dot];
    let end = head
        .iter()
        .rposition(|&b| !b.is_ascii_whitespace())
        .map_or(0, |e| e + 1);
    head[..end].ends_with(b"self") && (end == 4 || !is_ident_byte(head[end - 5]))
}

/// The byte before `at`, skipping white space and quotes (`x: "Book"`).
/// Where the dotted name ending in the word at `at` starts (`shop_models.Book` in a hint).
fn hint_start(text: &[u8], at: usize) -> usize {
    let mut start = at;
    while start > 0 && text[start - 1] == b'.' {
        let mut i = start - 1;
        while i > 0 && is_ident_byte(text[i - 1]) {
            i -= 1;
        }
        if i == start - 1 {
            break;
        }
        start = i;
    }
    start
}

fn previous_byte(text: &[u8], at: usize) -> Option<u8> {
    let mut i = at;
    while i > 0 {
        i -= 1;
        if !matches!(text[i], b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'"' | b'\'') {
            return Some(text[i]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Needles {
        let mut n = Needles::default();
        n.set_triggers(&crate::rules::registry().triggers());
        n.models.insert(b"Book".to_vec());
        n.managers.insert(b"objects".to_vec());
        n.managers.insert(b"published".to_vec());
        n.functions.insert(b"recent_books".to_vec());
        n
    }

    /// Phase 2's parts of `text` with an index knowing `Book` (kept, rest, rest is proof).
    fn parts_of(text: &str) -> Option<(Vec<&str>, Vec<&str>, bool)> {
        let models = "from django.db import models\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n";
        let index = crate::index::index_of("shop/models.py", models);
        let needles = Needles::new(&index, &crate::rules::registry().triggers());
        let parts = analysis_ranges(text, &needles, &index, None)?;
        // Phase 1's outline of the same text gives the same parts.
        let outline = crate::text::outline::outline(text);
        let again = analysis_ranges(text, &needles, &index, Some(&outline)).unwrap();
        assert_eq!((&again.keep, &again.rest), (&parts.keep, &parts.rest));
        let texts = |r: &[Range<usize>]| r.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>();
        Some((texts(&parts.keep), texts(&parts.rest), parts.rest_is_proof))
    }

    #[test]
    fn the_rest_is_whole_statements_and_class_headers() {
        let text = "# a comment\nimport os\n\n\nclass A(B):\n    x = 1\n\n    def f(self):\n        return 2\n\n    def g(self):\n        for b in Book.objects.all():\n            print(b)\n\n\ndef h():\n    return 3\n";
        let (keep, rest, proof) = parts_of(text).unwrap();
        assert_eq!(
            keep,
            [
                "import os\n\n\nclass A(B):\n",
                "    def g(self):\n        for b in Book.objects.all():\n            print(b)\n\n\n"
            ]
        );
        // The class's statements are left out with its other methods: the loop rules read
        // nothing of them.
        assert_eq!(
            rest,
            [
                "class A(B):\n    x = 1\n\n    def f(self):\n        return 2\n\n",
                "def h():\n    return 3\n"
            ]
        );
        assert!(proof);
        // Members indented otherwise parse apart but not together.
        let odd = "class A(B):\n        x = 1\n\n\tdef f(self):\n\t\treturn 2\n\n        def g(self):\n            for b in Book.objects.all():\n                print(b)\n";
        let (_, rest, proof) = parts_of(odd).unwrap();
        assert_eq!(
            rest,
            ["class A(B):\n        x = 1\n\n\tdef f(self):\n\t\treturn 2\n\n"]
        );
        assert!(!proof);
        // Code in neither part proves nothing; comments and blank lines need no proof.
        let t = "# c\nx = 1\n\n# d\ny = 2\nz = 3\n";
        let at = |s: &str| t.find(s).unwrap();
        let (x, y, z) = (at("x")..at("\n\n") + 1, at("y")..at("z"), at("z")..t.len());
        let t = t.as_bytes();
        let one = |r: Range<usize>| vec![r];
        assert!(covers(t, &one(0..x.end), &one(y.start..t.len())));
        assert!(covers(t, &one(x.clone()), &[y.clone(), z.clone()]));
        assert!(!covers(t, &one(x), &one(z)));
        assert!(!covers(t, &one(0..y.start), &one(y)));
    }

    #[test]
    fn classes_keep_what_can_hold_a_finding() {
        let kept = |text: &str| parts_of(text).map(|(keep, _, _)| keep.concat());
        // No method can: the class is left out, whatever its docstring says.
        let text = "class T(TestCase):\n    \"\"\"Tests for Book.objects.\"\"\"\n\n    def test_a(self):\n        Book.objects.create()\n\n    def test_b(self):\n        for x in range(3):\n            print(x)\n";
        assert_eq!(kept(text), Some(String::new()));
        // A statement of the body holds a loop over rows: the class is kept, not its methods.
        let attr = text.replace(
            "    \"\"\"Tests for Book.objects.\"\"\"\n",
            "    titles = [b.title for b in Book.objects.all()]\n",
        );
        let keep = kept(&attr).unwrap();
        assert!(
            keep.contains("titles = ") && !keep.contains("def test_"),
            "{keep}"
        );
        // A nested class with bases (a view, an admin) is kept with the statements.
        let nested = format!(
            "{text}\n    class V(ListView):\n        model = Book\n\n\ndef f():\n    return [b.title for b in Book.objects.all()]\n"
        );
        let keep = kept(&nested).unwrap();
        assert!(
            keep.contains("class V(ListView)") && !keep.contains("def test_"),
            "{keep}"
        );
    }

    #[test]
    fn module_level_statements_kept_for_what_reads_them() {
        let text = "\"\"\"Docs.\"\"\"\nimport os\n\nCHOICES = {'a': 1}\n\ntry:\n    import json\nexcept ImportError:\n    json = None\n\n\ndef f():\n    for b in Book.objects.all():\n        print(b.author)\n\n\nTAIL = 2\n";
        let (keep, rest, proof) = parts_of(text).unwrap();
        let keep = keep.concat();
        for kept in ["\"\"\"Docs.\"\"\"", "import os", "import json", "def f():"] {
            assert!(keep.contains(kept), "{kept} not in {keep}");
        }
        assert_eq!(rest, ["CHOICES = {'a': 1}\n\n", "TAIL = 2\n"]);
        assert!(proof);
        // Names in a class body are looked up at module level: with class statements that can
        // hold a finding, every module-level statement is kept.
        let class_scope = "import os\n\nQS = Book.objects.all()\n\n\nclass A(B):\n    titles = [b.title for b in Book.objects.all()]\n";
        assert!(parts_of(class_scope).is_none_or(|(_, rest, _)| rest.is_empty()));
        // So is the module-level code when it can hold one itself.
        let script = "import os\n\nfor b in Book.objects.all():\n    print(b.author)\n\nX = 1\n\n\ndef g():\n    return 1\n";
        let (keep, _, _) = parts_of(script).unwrap();
        assert!(keep.concat().contains("X = 1"));
    }

    #[test]
    fn site_classes_keep_what_the_framework_rules_read() {
        let text = "from django.contrib import admin\n\n\ndef country(obj):\n    return obj.author.country\n\n\ndef helper():\n    return 0\n\n\nclass BookAdmin(admin.ModelAdmin):\n    def first(self):\n        return 1\n\n    list_display = (\"title\", \"author_name\", shelf, country)\n\n    @admin.display(description=\"Author\")\n    def author_name(self, obj):\n        return obj.author.name\n\n    def shelf(self, obj):\n        return obj.shelf\n\n    def unrelated(self):\n        return 2\n\n    def get_queryset(self, request):\n        return super().get_queryset(request)\n\n    def report(self):\n        for b in Book.objects.all():\n            print(b.author)\n\n    def last(self):\n        return 3\n";
        let (keep, rest, proof) = parts_of(text).unwrap();
        let keep = keep.concat();
        for kept in [
            "def country(obj)",
            "class BookAdmin",
            "def first",
            "list_display",
            "@admin.display(description=\"Author\")\n    def author_name",
            "def shelf",
            "def get_queryset",
            "def report",
            "def last",
        ] {
            assert!(keep.contains(kept), "{kept} not in {keep}");
        }
        assert!(!keep.contains("def unrelated"), "{keep}");
        // A module-level function the admin's statements name is kept (ORM302 reads it), not
        // another.
        assert_eq!(
            rest,
            [
                "def helper():\n    return 0\n\n\nclass BookAdmin(admin.ModelAdmin):\n",
                "    def unrelated(self):\n        return 2\n\n"
            ]
        );
        assert!(proof);
        // A class of one line is kept whole.
        let one = "class BookAdmin(admin.ModelAdmin): pass\n";
        assert_eq!(parts_of(one).map(|p| p.0.concat()), None);
    }

    #[test]
    fn queryset_sources_are_found() {
        let n = needles();
        for yes in [
            "for b in Book.objects.all(): pass",
            "x = Book .published\n",
            "x = (Book\n  .objects)",
            "def f(book: Book): pass",
            "def f(qs: QuerySet[\"Book\"]): pass",
            "get_object_or_404(Thing, pk=1)",
            "for b in recent_books(): pass",
            "from shop.models import Book as B\nfor b in B.objects.all(): pass",
            "from shop.q import recent_books as rb\nrb ()",
        ] {
            assert!(n.may_have_queryset(yes.as_bytes()), "{yes}");
        }
        for no in [
            "for b in books: print(b.title)",
            "Book = 1\nBook.title",
            "Booking.objects.all()",
            "recent_books_count = 3",
            "from shop.models import Book\n",
        ] {
            assert!(!n.may_have_queryset(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn returns_of_attribute_chains() {
        let heads = |t: &str| returned_chain_heads(t.as_bytes());
        assert_eq!(
            heads("def f():\n    return Book.objects.all()\n"),
            ["Book", "objects"]
        );
        assert_eq!(
            heads("def f():\n    return (\n        models.Book\n        .objects)\n"),
            ["models", "Book"]
        );
        assert_eq!(
            heads("def f(x):\n    if x:\n        return self.y\n    return Book.objects\n"),
            ["self", "Book"]
        );
        assert!(heads("def f():\n    return 1\n").is_empty());
        assert!(heads("def f():\n    return book\n").is_empty());
        assert!(heads("def f():\n    returned = x.y\n").is_empty());
    }

    #[test]
    fn functions_returning_chains_of_no_class_are_not_read() {
        let files = [
            "def books():\n    return Book.objects.all()\ndef name(self):\n    return self.name\ndef other():\n    return models.Thing.objects.all()\n",
            "class Book:\n    pass\n",
        ];
        let scans: Vec<Option<FileScan>> = files.iter().map(|f| Some(FileScan::new(f))).collect();
        let scope = IndexScope::new(&scans);
        // `books` is read (Book is a class); `name` returns no class's chain, nor does `other`
        // (no class is named Thing, so `models.Thing.objects` is no model's manager).
        let chosen = scope.statements(0, scans[0].as_ref().unwrap()).unwrap();
        assert_eq!(chosen, [0]);
    }

    /// The classes of each file that phase 1 reads, by name.
    fn chosen_classes(files: &[&str]) -> Vec<Vec<String>> {
        let scans: Vec<Option<FileScan>> = files.iter().map(|f| Some(FileScan::new(f))).collect();
        let scope = IndexScope::new(&scans);
        scans
            .iter()
            .enumerate()
            .map(|(fi, scan)| {
                let scan = scan.as_ref().unwrap();
                let chosen = scope.statements(fi, scan).unwrap_or_default();
                scan.outline
                    .classes()
                    .filter(|(si, _)| chosen.contains(si))
                    .map(|(_, c)| c.name.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn scope_follows_bases_by_name() {
        let files = [
            "from django.db import models\nclass Base(models.Model):\n    class Meta:\n        abstract = True\nclass Helper:\n    def label(self): pass\n",
            "class Book(Base, Helper):\n    objects = BookManager()\nclass Unrelated(Other):\n    pass\nclass BookManager(Custom):\n    pass\nclass Custom:\n    pass\n",
        ];
        let chosen = chosen_classes(&files);
        let names = |fi: usize| chosen[fi].clone();
        assert_eq!(names(0), ["Base", "Helper"]);
        assert_eq!(names(1), ["Book", "BookManager", "Custom"]);
    }

    #[test]
    fn scope_ignores_names_that_only_look_like_querysets() {
        let files = [
            // A test case named like a queryset, deriving from an admin: neither is read.
            "class BookAdmin(ModelAdmin):\n    list_display = ['title']\nclass PageQuerySetTests(TestCase):\n    pass\n",
            // A view with `model = models.Book` is no model; a class with a column is.
            "class BookView(ListView):\n    model = models.Book\nclass Thing(External):\n    name = models.CharField(max_length=3)\n",
            // Managers a model uses: by callee, by `as_manager`, by `from_queryset`.
            "class Book(models.Model):\n    a = Shelf()\n    b = BookQS.as_manager()\n    c = Base.from_queryset(OtherQS)()\nclass BookQS(Mixin):\n    pass\nclass OtherQS:\n    pass\nclass Base:\n    pass\nclass Shelf:\n    pass\nclass Mixin:\n    pass\n",
        ];
        let chosen = chosen_classes(&files);
        let names = |fi: usize| chosen[fi].clone();
        assert!(names(0).is_empty(), "{:?}", names(0));
        assert_eq!(names(1), ["Thing"]);
        assert_eq!(names(2), ["Book", "BookQS", "OtherQS", "Base", "Mixin"]);
    }

    #[test]
    fn model_columns_are_seen_in_class_lines() {
        for yes in [
            "    name = models.CharField(max_length=3)",
            "    author = models.ForeignKey(Author, on_delete=models.CASCADE)",
            "    objects = models.Manager()",
            "    tags: list = models.ManyToManyField('Tag')",
        ] {
            assert!(assigns_from_models(yes.as_bytes()), "{yes}");
        }
        for no in [
            "    model = models.Book",
            "    queryset = models.Book.objects.all()",
            "    formfield_overrides = {models.TextField: {}}",
            "    x == models.CharField()",
        ] {
            assert!(!assigns_from_models(no.as_bytes()), "{no}");
        }
    }

    const MODEL: &str = "class Book(models.Model):\n    title = models.CharField()\n\n    @property\n    def label(self):\n        return self.author.name\n\n    def published(self):\n        return self.filter(x=1)\n\n    def get_thing(self, obj):\n        return obj.x\n\n    def save(self, *a):\n        super().save(*a)\n\n    def twice(self):\n        pass\n\n    def twice(self):\n        pass\n";

    #[test]
    fn methods_left_for_later() {
        let scan = FileScan::new(MODEL);
        let lazy = lazy_methods(&scan, &[0], MODEL.as_bytes());
        let names: Vec<&str> = lazy.iter().map(|m| m.name.as_str()).collect();
        // Not a queryset method (`return self.filter`), a serializer hook, a redefined name.
        assert_eq!(names, ["label", "save"]);
        let label = &lazy[0];
        assert!(MODEL[label.range.clone()].starts_with("    @property\n    def label"));
        assert!(MODEL[label.header.clone()].starts_with("class Book(models.Model):\n"));
        // What is parsed: everything but the lazy methods.
        let parts = without(
            ranges(&scan, &[0]),
            &[lazy[0].range.clone(), lazy[1].range.clone()],
        );
        let kept: String = parts.iter().map(|r| &MODEL[r.clone()]).collect();
        assert!(kept.contains("def published") && kept.contains("def twice"));
        assert!(!kept.contains("def label") && !kept.contains("def save"));
        // A class keeps a statement of its body.
        let only = "class A(models.Model):\n    def a(self):\n        pass\n\n    def b(self):\n        pass\n";
        let scan = FileScan::new(only);
        let names: Vec<String> = lazy_methods(&scan, &[0], only.as_bytes())
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn returns_built_from_self() {
        assert!(returns_from_self(b"return self.filter(a=1)"));
        assert!(returns_from_self(
            b"return (\n  # why\n  super().get_queryset())"
        ));
        assert!(returns_from_self(b"if x:\n    return 1\nreturn self"));
        assert!(returns_from_self(b"return self . published ()"));
        assert!(!returns_from_self(b"return self.author.name"));
        assert!(!returns_from_self(b"return selfish()"));
        assert!(!returns_from_self(b"return other.filter()"));
        assert!(!returns_from_self(b"pass"));
    }

    fn loops(part: &str) -> bool {
        let n = needles();
        let aliases = n.aliases(part.as_bytes());
        n.holds_loop_finding(
            part.as_bytes(),
            std::slice::from_ref(&(0..part.len())),
            &aliases,
        )
    }

    #[test]
    fn loops_over_querysets_follow_names() {
        for yes in [
            "def f():\n    for b in Book.objects.all():\n        pass\n",
            "def f():\n    qs = Book.objects.all()\n    rows = list(qs)\n    for b in rows:\n        pass\n",
            // Bound after the loop in the text (a loop runs again): order is not followed.
            "def f():\n    for b in later:\n        pass\n    later = Book.objects.all()\n",
            "def f(author: Author, books: QuerySet[Book]):\n    for b in books:\n        pass\n",
            "def f(self, *, books: 'QuerySet[Book]' = None):\n    for b in books:\n        pass\n",
            "def f(ids):\n    return [Book.objects.filter(id=i).first() for i in ids]\n",
            // Assigned values by their root, through parentheses and list()/sorted().
            "def f():\n    qs = (\n        Book.objects\n        .filter(x=1)\n    )\n    for b in qs:\n        pass\n",
            "def f():\n    a = b = sorted((Book.objects.all()))\n    for x in b:\n        pass\n",
            "def f():\n    books: QuerySet = Book.objects.all()\n    for x in books[:3]:\n        pass\n",
            // Simple statements apart, and after a compound statement's header.
            "def f():\n    qs = Book.objects.all(); names = [b.author for b in qs]\n",
            "def f(x):\n    if x: qs = Book.objects.all(); n = [b.author for b in qs]\n",
            "def f(x):\n    if x: pass\n    else: qs: QuerySet = Book.objects.all()\n    for b in qs: pass\n",
            "def f():\n    a = Book.objects.get(pk=1)\n    return [c.x for c in a.chapters.all()]\n",
            "def f():\n    with ctx() as (qs := Book.objects.all()):\n        pass\n    for b in qs: pass\n",
            "def f():\n    qs = None\n    qs |= Book.objects.all()\n    for b in qs: pass\n",
            "def f():\n    for i, (a, b) in enumerate(recent_books()):\n        pass\n",
            // ORM203: one row per id inside a loop over anything.
            "def f(ids):\n    for i in ids:\n        if i:\n            x = Book.objects.get(pk=i)\n",
            // Code in f-strings and short strings (forward references) counts.
            "def f():\n    print(f\"{[b.author for b in Book.objects.all()]}\")\n",
            "def f(books: 'QuerySet[\"Book\"]'):\n    for b in books:\n        pass\n",
            // What a loop iterates over: a conditional expression in a `for` statement, a later
            // clause of a comprehension, a fetch in a comprehension's element.
            "def f(x):\n    for b in x if x else Book.objects.all():\n        pass\n",
            "def f(ids):\n    return [b for i in ids for b in Book.objects.filter(pk=i)]\n",
            "def f(ids):\n    return [Book.objects.get(pk=i) for i in ids]\n",
            "def f():\n    for b in Book.objects.all(): print(b.author)\n",
        ] {
            assert!(loops(yes), "{yes}");
        }
        for no in [
            "def f():\n    Book.objects.create(title='x')\n    for i in range(3):\n        print(i)\n",
            "def f():\n    n = Book.objects.count()\n    for k, v in data.items():\n        pass\n",
            "def f():\n    \"\"\"for b in Book.objects.all()\"\"\"\n    for x in y:\n        pass\n",
            "def f(ids):\n    for i in ids:\n        pass\n    x = Book.objects.get(pk=1)\n",
            "def f():\n    ok = Book.objects.exists() == other\n    for x in ok_list:\n        pass\n",
            // A comment inside a statement is not code.
            "def f():\n    rows = compute(\n        x,  # was Book.objects.all()\n    )\n    for r in rows:\n        pass\n",
            // A source elsewhere in the loop's line is not what it iterates over.
            "def f(objs):\n    assert [b.pk for b in objs] == list(Book.objects.all())\n",
            "def f(objs):\n    check([b.pk for b in objs if b], Book.objects.count())\n",
            // A comprehension's names live in it: `k` is not bound in the function.
            "def f(ks):\n    n = Book.objects.count() + sum(1 for k in ks)\n    for y in k.parts:\n        pass\n",
            // Only a `def` line's hints are types: `{'type': Book}` is a value.
            "X = {'type': Book, 'label': 'Book'}\nfor k in X:\n    pass\n",
            // `d.get(…)` does not call a module function named `get`.
            "def f(d):\n    rows = d.recent_books()\n    for r in rows:\n        pass\n",
            // A value whose root is no source: a call on something else, a literal.
            "def f(self):\n    response = self.client.get(u, {'b': Book.objects.first().pk})\n    for x in response.context:\n        pass\n",
            "def f():\n    tests = [(Book.objects.all(), 1)]\n    for qs, n in tests:\n        pass\n",
            // An attribute target binds no name the resolver follows.
            "def f(self):\n    self.qs = Book.objects.all()\n    for x in self.items:\n        pass\n",
            // A `def` line binds what its hints type: not `self`, not a default value.
            "def f(self, book: Book):\n    for x in self.items:\n        pass\n",
            "def f(rows=Book.objects.all()):\n    for r in rows:\n        pass\n",
            // ORM203 fetches one row per id: by `pk=` or `id=`.
            "def f(names):\n    for n in names:\n        x = Book.objects.get(title=n)\n",
            // A plain string saying "for" holds no loop.
            "def f():\n    x = Book.objects.get(pk=1)\n    log('{} for {}'.format(x, y))\n",
        ] {
            assert!(!loops(no), "{no}");
        }
    }

    #[test]
    fn template_renders() {
        let mut n = needles();
        assert!(!n.renders_template(b"render(request, 'shop/books.html', {})"));
        n.templates.insert(b"shop/books.html".to_vec());
        assert!(n.renders_template(b"return render(request, \"shop/books.html\", ctx)"));
        assert!(n.renders_template(b"TemplateResponse(request, ['x.html', 'shop/books.html'])"));
        assert!(!n.renders_template(b"template.render(Context({}))"));
        assert!(!n.renders_template(b"'shop/books.html'"));
    }
}
