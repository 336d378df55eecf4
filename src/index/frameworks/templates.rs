//! Django templates: found the way Django's loaders find them (`TEMPLATES` `DIRS` first, then
//! each installed app's `templates/` folder when `APP_DIRS` is on; the first file of a name wins),
//! and read with a small reader of the Django template language.
//!
//! There is no maintained Rust crate that parses the Django template language, so this is a
//! hand-written lexer (`{{ }}`, `{% %}`, `{# #}`, `{% comment %}`, `{% verbatim %}`) and a parser
//! into nested tags. The analysis follows what a rule needs: which relation paths the template
//! reads from each context variable, through `{% for %}`, `{% with %}`, `{% include %}` (with and
//! without `with`/`only`), `{% extends %}`/`{% block %}`, filters and `{{ x }}` (which calls
//! `__str__`).

use super::FileFacts;
use super::settings::{PathExpr, evaluate};
use crate::index::reads::{ROWS, RawRead, STR};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const FRAMEWORK: super::Framework = super::Framework {
    name: "templates",
    words: &[b"render", b"TemplateResponse", b"ListView", b"DetailView"],
    site_base: |base| {
        matches!(
            base,
            "ListView" | "BaseListView" | "DetailView" | "BaseDetailView"
        )
    },
    site_methods: &["get_queryset", "get_template_names", "get_context_data"],
};

/// Largest template read, and how many files at most (a guard against huge asset folders).
const MAX_TEMPLATE_SIZE: u64 = 1024 * 1024;
const MAX_TEMPLATES: usize = 20_000;

#[derive(Debug, Default)]
pub struct TemplateSet {
    /// Template name (`library/book_list.html`) → parsed template.
    templates: HashMap<String, Template>,
    /// A settings module with a Django `TEMPLATES` backend was found.
    pub configured: bool,
    /// The folders read, relative to the project root (the cache watches them).
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Template {
    /// Where it was read, relative to the project root (for messages).
    pub path: String,
    /// The file, read and parsed the first time a rule asks (most templates of a project are
    /// never rendered by a view the rules read).
    file: PathBuf,
    nodes: OnceLock<Vec<TNode>>,
}

impl Template {
    /// The parsed template (nothing when the file cannot be read as UTF-8 text any more).
    fn nodes(&self) -> &[TNode] {
        self.nodes.get_or_init(|| {
            std::fs::read(&self.file)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .map(|source| parse(&source))
                .unwrap_or_default()
        })
    }
}

/// A parsed piece of template.
#[derive(Clone, Debug)]
enum TNode {
    Var {
        expr: String,
        line: usize,
    },
    Tag {
        name: String,
        args: String,
        line: usize,
        /// Bodies of a block tag, one per branch (`{% if %}…{% else %}…`); with the args of the
        /// tag that opens each branch after the first.
        branches: Vec<(String, Vec<TNode>)>,
    },
}

impl TemplateSet {
    /// Every template the settings point to, listed (each is read and parsed on first use).
    pub fn load(files: &[FileFacts], root: &Path) -> TemplateSet {
        let mut set = TemplateSet::default();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut app_dirs = false;
        let mut apps: Vec<String> = Vec::new();
        for file in files {
            let Some(raw) = &file.frameworks.settings else {
                continue;
            };
            apps.extend(raw.installed_apps.iter().cloned());
            if !raw.templates {
                continue;
            }
            set.configured = true;
            app_dirs |= raw.app_dirs;
            let names: HashMap<&str, &PathExpr> =
                raw.names.iter().map(|(n, e)| (n.as_str(), e)).collect();
            for d in &raw.dirs {
                if let Some(p) = evaluate(d, &raw.path, &names, 0)
                    && !dirs.contains(&p)
                {
                    dirs.push(p);
                }
            }
        }
        if app_dirs {
            for dir in app_template_dirs(files, &apps, root) {
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        // Listed in order: the first folder with a name wins, as with Django's loaders. Each
        // is read when a rule first asks for it.
        let mut listed: Vec<(String, PathBuf)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for dir in &dirs {
            list_dir(root, dir, &mut seen, &mut listed);
        }
        for (name, rel) in listed {
            set.templates.entry(name).or_insert_with(|| Template {
                path: rel.to_string_lossy().into_owned(),
                file: root.join(&rel),
                nodes: OnceLock::new(),
            });
        }
        set.dirs = dirs;
        set
    }

    /// Add a template from its text (also for tests).
    pub fn insert(&mut self, name: &str, path: &str, source: &str) {
        self.templates.insert(
            name.to_string(),
            Template {
                path: path.to_string(),
                file: PathBuf::new(),
                nodes: OnceLock::from(parse(source)),
            },
        );
    }

    /// Every template name (`library/book_list.html`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }

    /// What template `name` (and what it includes or extends) reads from the context variables
    /// in `roots`. Each read starts with `*` when it happens once per row of the variable.
    pub fn reads(&self, name: &str, roots: &[String]) -> Vec<TemplateRead> {
        let Some(nodes) = self.effective(name, 0) else {
            return Vec::new();
        };
        let mut env: Env = roots
            .iter()
            .map(|r| (r.clone(), (r.clone(), Vec::new())))
            .collect();
        let mut a = Analyzer {
            set: self,
            out: Vec::new(),
            stack: vec![name.to_string()],
        };
        a.walk(&nodes, name, &mut env);
        a.out
    }

    /// The nodes of a template with `{% extends %}` resolved: the parent's, with the child's
    /// blocks in place of the parent's.
    fn effective(&self, name: &str, depth: usize) -> Option<Vec<TNode>> {
        let template = self.templates.get(name)?;
        if depth > 8 {
            return None;
        }
        let parent = template.nodes().iter().find_map(|n| match n {
            TNode::Tag { name, args, .. } if name == "extends" => literal(args.trim()),
            _ => None,
        });
        let Some(parent) = parent else {
            return Some(template.nodes().to_vec());
        };
        let mut blocks = HashMap::new();
        collect_blocks(template.nodes(), &mut blocks);
        let parent_nodes = self.effective(&parent, depth + 1).unwrap_or_default();
        Some(replace_blocks(parent_nodes, &blocks))
    }
}

/// A read of a context variable in a template.
#[derive(Clone, Debug)]
pub struct TemplateRead {
    /// The context variable the read starts from.
    pub root: String,
    pub read: RawRead,
    /// The template the read is in (an included one, maybe).
    pub template: String,
}

/// The `templates/` folders of installed apps that live in the project.
fn app_template_dirs(files: &[FileFacts], apps: &[String], root: &Path) -> Vec<PathBuf> {
    // Every run of dotted segments of every module ("a", "a.b", "b", …) → the first file (in
    // order) whose module holds it, and where it starts there: one pass, not one per app.
    let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
    for (fi, file) in files.iter().enumerate() {
        let module = file.module.as_str();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(module.match_indices('.').map(|(i, _)| i + 1))
            .collect();
        let ends: Vec<usize> = module
            .match_indices('.')
            .map(|(i, _)| i)
            .chain(std::iter::once(module.len()))
            .collect();
        for (pos, &start) in starts.iter().enumerate() {
            for &end in &ends[pos..] {
                first.entry(&module[start..end]).or_insert((fi, pos));
            }
        }
    }
    let mut out = Vec::new();
    for app in apps {
        // "library.apps.LibraryConfig" → "library"
        let module = match app.find(".apps.") {
            Some(i) => &app[..i],
            None => app.as_str(),
        };
        let Some(&(fi, pos)) = first.get(module) else {
            continue;
        };
        let parts = module.split('.').count();
        // The package folder: as many leading components of the file's path.
        let comps: Vec<_> = Path::new(&files[fi].path).components().collect();
        if comps.len() < pos + parts {
            continue;
        }
        let dir: PathBuf = comps[..pos + parts].iter().collect();
        let templates = dir.join("templates");
        if !out.contains(&templates) && root.join(&templates).is_dir() {
            out.push(templates);
        }
    }
    out
}

fn collect_blocks(nodes: &[TNode], out: &mut HashMap<String, Vec<TNode>>) {
    for n in nodes {
        if let TNode::Tag {
            name,
            args,
            branches,
            ..
        } = n
        {
            if name == "block"
                && let Some(block) = args.split_whitespace().next()
                && let Some((_, body)) = branches.first()
            {
                out.entry(block.to_string()).or_insert_with(|| body.clone());
            }
            for (_, body) in branches {
                collect_blocks(body, out);
            }
        }
    }
}

fn replace_blocks(nodes: Vec<TNode>, blocks: &HashMap<String, Vec<TNode>>) -> Vec<TNode> {
    nodes
        .into_iter()
        .map(|n| match n {
            TNode::Tag {
                name,
                args,
                line,
                branches,
            } => {
                let own = (name == "block")
                    .then(|| args.split_whitespace().next())
                    .flatten()
                    .and_then(|b| blocks.get(b));
                let branches = match own {
                    Some(body) => vec![(String::new(), body.clone())],
                    None => branches
                        .into_iter()
                        .map(|(a, body)| (a, replace_blocks(body, blocks)))
                        .collect(),
                };
                TNode::Tag {
                    name,
                    args,
                    line,
                    branches,
                }
            }
            other => other,
        })
        .collect()
}

// ------------------------------------------------------------------------------------ lexer

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Var(String, usize),
    Tag(String, usize),
}

fn lex(source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut line = 1;
    // Inside `{% verbatim %}` or `{% comment %}`: the tag name that ends it.
    let mut skipping: Option<String> = None;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let close = match bytes[i + 1] {
            b'{' => "}}",
            b'%' => "%}",
            b'#' => "#}",
            _ => {
                i += 1;
                continue;
            }
        };
        let Some(len) = source[i + 2..].find(close) else {
            break;
        };
        let inner = &source[i + 2..i + 2 + len];
        let start_line = line;
        line += inner.matches('\n').count();
        i += 2 + len + 2;
        let inner = inner.trim();
        match (close, &skipping) {
            ("%}", Some(end)) => {
                let name = inner.split_whitespace().next().unwrap_or("");
                if name == end {
                    skipping = None;
                }
            }
            (_, Some(_)) | ("#}", None) => {}
            ("}}", None) => out.push(Token::Var(inner.to_string(), start_line)),
            (_, None) => {
                let name = inner.split_whitespace().next().unwrap_or("");
                match name {
                    "comment" => skipping = Some("endcomment".into()),
                    "verbatim" => skipping = Some("endverbatim".into()),
                    _ => out.push(Token::Tag(inner.to_string(), start_line)),
                }
            }
        }
    }
    out
}

// ----------------------------------------------------------------------------------- parser

/// Tags that open a branch of the enclosing block tag.
const BRANCHES: &[&str] = &["elif", "else", "empty", "plural"];

fn parse(source: &str) -> Vec<TNode> {
    let tokens = lex(source);
    let ends: HashSet<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Tag(s, _) => s.split_whitespace().next(),
            _ => None,
        })
        .filter_map(|n| n.strip_prefix("end"))
        .map(String::from)
        .collect();
    let mut pos = 0;
    let (nodes, _) = parse_until(&tokens, &mut pos, &ends, None, 0);
    nodes
}

/// Parse nodes until the end tag of `open` (or a branch tag of it); returns them and the tag
/// that stopped the parse.
fn parse_until(
    tokens: &[Token],
    pos: &mut usize,
    ends: &HashSet<String>,
    open: Option<&str>,
    depth: usize,
) -> (Vec<TNode>, Option<String>) {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let token = &tokens[*pos];
        *pos += 1;
        match token {
            Token::Var(expr, line) => nodes.push(TNode::Var {
                expr: expr.clone(),
                line: *line,
            }),
            Token::Tag(content, line) => {
                let (name, args) = match content.split_once(char::is_whitespace) {
                    Some((n, a)) => (n.to_string(), a.trim().to_string()),
                    None => (content.clone(), String::new()),
                };
                if open.is_some() && (name.starts_with("end") || BRANCHES.contains(&name.as_str()))
                {
                    return (nodes, Some(content.clone()));
                }
                let is_block = ends.contains(&name) && depth < 64;
                let mut branches = Vec::new();
                if is_block {
                    let mut branch_args = String::new();
                    loop {
                        let (body, stop) = parse_until(tokens, pos, ends, Some(&name), depth + 1);
                        branches.push((branch_args, body));
                        match stop {
                            Some(s) if !s.starts_with("end") => {
                                branch_args = s;
                            }
                            _ => break,
                        }
                    }
                }
                nodes.push(TNode::Tag {
                    name,
                    args,
                    line: *line,
                    branches,
                });
            }
        }
    }
    (nodes, None)
}

// --------------------------------------------------------------------------------- analysis

/// A context variable and a path from it.
type Reach = (String, Vec<String>);
/// Template variable → where it comes from.
type Env = HashMap<String, Reach>;
/// `{% with a=b.author %}`: the names bound, and what they reach (None: not from the context).
type Bindings = Vec<(String, Option<Reach>)>;

struct Analyzer<'s> {
    set: &'s TemplateSet,
    out: Vec<TemplateRead>,
    /// Templates being read (include cycles).
    stack: Vec<String>,
}

/// Filters after which the value is not the object any more (no `__str__` of it).
const NOT_TEXT: &[&str] = &[
    "length",
    "length_is",
    "yesno",
    "pluralize",
    "date",
    "time",
    "timesince",
    "timeuntil",
    "floatformat",
    "filesizeformat",
    "divisibleby",
    "add",
    "get_digit",
    "json_script",
    "dictsort",
    "dictsortreversed",
    "slice",
    "unordered_list",
    "default_if_none",
    "pprint",
];
/// Filters that give one element of a list (the element is printed).
const ELEMENT: &[&str] = &["first", "last", "random"];

impl Analyzer<'_> {
    fn walk(&mut self, nodes: &[TNode], template: &str, env: &mut Env) {
        for node in nodes {
            match node {
                TNode::Var { expr, line } => self.output(expr, *line, template, env),
                TNode::Tag {
                    name,
                    args,
                    line,
                    branches,
                } => self.tag(name, args, *line, branches, template, env),
            }
        }
    }

    /// `{{ expr|filters }}`: the value is printed.
    fn output(&mut self, expr: &str, line: usize, template: &str, env: &Env) {
        let parts = split_filters(expr);
        let Some((base, filters)) = parts.split_first() else {
            return;
        };
        for f in filters {
            if let Some((_, arg)) = f.split_once(':') {
                self.read(arg, line, template, env, false);
            }
        }
        let first = filters
            .first()
            .map(|f| f.split(':').next().unwrap_or("").trim());
        match first {
            Some("join") => {
                if let Some(mut names) = self.chain(base, env) {
                    names.1.push(ROWS.into());
                    names.1.push(STR.into());
                    self.push(names, expr, line, template);
                }
            }
            Some(f) if ELEMENT.contains(&f) => {
                if let Some(mut names) = self.chain(base, env) {
                    if names.1.last().map(String::as_str) != Some(ROWS) {
                        names.1.push(ROWS.into());
                    }
                    names.1.push(STR.into());
                    self.push(names, expr, line, template);
                }
            }
            Some(f) if NOT_TEXT.contains(&f) => self.read(base, line, template, env, false),
            // `{{ b.tags.count }}` prints a number.
            _ if base.ends_with(".count") || base.ends_with(".exists") => {
                self.read(base, line, template, env, false)
            }
            _ => self.read(base, line, template, env, true),
        }
    }

    fn read(&mut self, expr: &str, line: usize, template: &str, env: &Env, text: bool) {
        let parts = split_filters(expr);
        let Some(base) = parts.first() else { return };
        if let Some(mut chain) = self.chain(base, env) {
            if text {
                chain.1.push(STR.into());
            }
            self.push(chain, expr, line, template);
        }
        for f in parts.iter().skip(1) {
            if let Some((_, arg)) = f.split_once(':') {
                self.read(arg, line, template, env, false);
            }
        }
    }

    fn push(&mut self, (root, names): (String, Vec<String>), expr: &str, line: usize, t: &str) {
        if names.iter().all(|n| n == ROWS) {
            return; // the rows themselves: what the view's queryset already loads
        }
        self.out.push(TemplateRead {
            root,
            read: RawRead {
                names,
                line,
                text: expr.split_whitespace().collect::<Vec<_>>().join(" "),
            },
            template: t.to_string(),
        });
    }

    /// `b.author.name` → (context variable, path), when `b` comes from the context.
    fn chain(&self, expr: &str, env: &Env) -> Option<(String, Vec<String>)> {
        let expr = expr.trim();
        if expr.starts_with(['"', '\'']) || expr.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let mut segments = expr.split('.').peekable();
        let head = segments.next()?;
        let (root, prefix) = env.get(head)?;
        let mut names = prefix.clone();
        while let Some(seg) = segments.next() {
            if seg.is_empty() {
                return None;
            }
            if seg.chars().all(|c| c.is_ascii_digit()) {
                // `b.tags.all.0`: one of the rows.
                if names.last().map(String::as_str) != Some(ROWS) {
                    return None;
                }
                continue;
            }
            // A template calls what it reaches when it is callable: `.all` gives the rows; a
            // final `.count`/`.exists` on a related manager is served by its prefetched rows
            // (and a template cannot read an annotation instead).
            let last = segments.peek().is_none();
            names.push(
                if seg == "all" || (last && matches!(seg, "count" | "exists")) {
                    ROWS.to_string()
                } else {
                    seg.to_string()
                },
            );
        }
        Some((root.clone(), names))
    }

    fn rows_of(&self, expr: &str, env: &Env) -> Option<(String, Vec<String>)> {
        let (root, mut names) = self.chain(split_filters(expr).first()?, env)?;
        if names.last().map(String::as_str) != Some(ROWS) {
            names.push(ROWS.into());
        }
        Some((root, names))
    }

    fn tag(
        &mut self,
        name: &str,
        args: &str,
        line: usize,
        branches: &[(String, Vec<TNode>)],
        template: &str,
        env: &mut Env,
    ) {
        match name {
            "for" => return self.for_tag(args, line, branches, template, env),
            "with" => {
                let bindings = self.bindings(args, line, template, env);
                return self.walk_with(branches, bindings, template, env);
            }
            "blocktranslate" | "blocktrans" => {
                let bindings = self.bindings(args, line, template, env);
                return self.walk_with(branches, bindings, template, env);
            }
            "include" => return self.include(args, line, template, env),
            "firstof" => {
                for token in tokens(args) {
                    if token != "as" {
                        self.read(&token, line, template, env, true);
                    }
                }
            }
            "extends" | "load" | "csrf_token" | "block" | "now" | "templatetag" | "spaceless"
            | "autoescape" | "comment" | "verbatim" | "debug" | "lorem" => {}
            _ => {
                // `if`, `url`, `cycle`, custom tags: their arguments are read.
                for token in tokens(args) {
                    self.read_token(&token, line, template, env);
                }
            }
        }
        for (branch_args, body) in branches {
            for token in tokens(branch_args).into_iter().skip(1) {
                self.read_token(&token, line, template, env);
            }
            self.walk(body, template, env);
        }
    }

    fn read_token(&mut self, token: &str, line: usize, template: &str, env: &Env) {
        let value = token.split_once('=').map_or(token, |(_, v)| v);
        self.read(value, line, template, env, false);
    }

    fn for_tag(
        &mut self,
        args: &str,
        line: usize,
        branches: &[(String, Vec<TNode>)],
        template: &str,
        env: &mut Env,
    ) {
        let words = tokens(args);
        let Some(in_pos) = words.iter().position(|w| w == "in") else {
            return;
        };
        let targets: Vec<String> = words[..in_pos]
            .join(" ")
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let iterable = words.get(in_pos + 1).cloned().unwrap_or_default();
        self.read(&iterable, line, template, env, false);
        let rows = self.rows_of(&iterable, env);
        if let Some((body_args, body)) = branches.first() {
            let _ = body_args;
            let mut saved = Vec::new();
            for t in &targets {
                saved.push((t.clone(), env.remove(t)));
            }
            if let (Some(rows), [single]) = (rows, targets.as_slice()) {
                env.insert(single.clone(), rows);
            }
            self.walk(body, template, env);
            for (t, old) in saved {
                env.remove(&t);
                if let Some(old) = old {
                    env.insert(t, old);
                }
            }
        }
        for (_, body) in branches.iter().skip(1) {
            self.walk(body, template, env);
        }
    }

    /// `a=b.author c=d` or the old `b.author as a`.
    fn bindings(&mut self, args: &str, line: usize, template: &str, env: &Env) -> Bindings {
        let words = tokens(args);
        let mut out = Vec::new();
        if words.len() == 3 && words[1] == "as" {
            self.read(&words[0], line, template, env, false);
            out.push((words[2].clone(), self.chain(&words[0], env)));
            return out;
        }
        for w in &words {
            if let Some((name, value)) = w.split_once('=') {
                self.read(value, line, template, env, false);
                let base = split_filters(value).first().cloned().unwrap_or_default();
                out.push((name.to_string(), self.chain(&base, env)));
            }
        }
        out
    }

    fn walk_with(
        &mut self,
        branches: &[(String, Vec<TNode>)],
        bindings: Bindings,
        template: &str,
        env: &mut Env,
    ) {
        let mut saved = Vec::new();
        for (name, value) in bindings {
            saved.push((name.clone(), env.remove(&name)));
            if let Some(v) = value {
                env.insert(name, v);
            }
        }
        for (_, body) in branches {
            self.walk(body, template, env);
        }
        for (name, old) in saved.into_iter().rev() {
            env.remove(&name);
            if let Some(old) = old {
                env.insert(name, old);
            }
        }
    }

    fn include(&mut self, args: &str, line: usize, template: &str, env: &Env) {
        let words = tokens(args);
        let Some(first) = words.first() else { return };
        let Some(name) = literal(first) else {
            return; // a template chosen at run time
        };
        let only = words.iter().any(|w| w == "only");
        let mut bindings = Vec::new();
        if let Some(with) = words.iter().position(|w| w == "with") {
            for w in &words[with + 1..] {
                if let Some((k, v)) = w.split_once('=') {
                    self.read(v, line, template, env, false);
                    let base = split_filters(v).first().cloned().unwrap_or_default();
                    bindings.push((k.to_string(), self.chain(&base, env)));
                }
            }
        }
        if self.stack.contains(&name) || self.stack.len() > 8 {
            return;
        }
        let Some(nodes) = self.set.effective(&name, 0) else {
            return;
        };
        let mut inner: Env = if only { Env::new() } else { env.clone() };
        for (k, v) in bindings {
            inner.remove(&k);
            if let Some(v) = v {
                inner.insert(k, v);
            }
        }
        self.stack.push(name.clone());
        self.walk(&nodes, &name, &mut inner);
        self.stack.pop();
    }
}

/// `"name.html"` → `name.html`.
fn literal(token: &str) -> Option<String> {
    let t = token.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return Some(inner.to_string());
        }
    }
    None
}

/// Split tag arguments on whitespace, keeping quoted strings whole.
fn tokens(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in args.chars() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                current.push(c);
            }
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `a.b|default:"x|y"|upper` → [`a.b`, `default:"x|y"`, `upper`].
fn split_filters(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                current.push(c);
            }
            None if c == '|' => out.push(std::mem::take(&mut current).trim().to_string()),
            None => current.push(c),
        }
    }
    out.push(current.trim().to_string());
    out
}

/// The template files under `dir` (relative to `root`), by template name, in the order Django's
/// loaders look at them (`seen` counts the names, up to `MAX_TEMPLATES`).
fn list_dir(root: &Path, dir: &Path, seen: &mut HashSet<String>, out: &mut Vec<(String, PathBuf)>) {
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((current, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&current)) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let rel = current.join(entry.file_name());
            if kind.is_dir() && depth < 12 {
                stack.push((rel, depth + 1));
            } else if kind.is_file() {
                let Ok(name) = rel.strip_prefix(dir) else {
                    continue;
                };
                let name = name
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let too_big = entry
                    .metadata()
                    .map_or(true, |m| m.len() > MAX_TEMPLATE_SIZE);
                if too_big {
                    continue;
                }
                if seen.insert(name.clone()) && seen.len() > MAX_TEMPLATES {
                    return;
                }
                out.push((name, rel));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(set: &TemplateSet, name: &str, roots: &[&str]) -> Vec<String> {
        let roots: Vec<String> = roots.iter().map(|s| s.to_string()).collect();
        set.reads(name, &roots)
            .into_iter()
            .map(|r| format!("{}:{}@{}", r.root, r.read.names.join("."), r.read.line))
            .collect()
    }

    #[test]
    fn loops_with_include_and_extends() {
        let mut set = TemplateSet::default();
        set.insert(
            "base.html",
            "base.html",
            "<h1>{% block title %}x{% endblock %}</h1>{% block content %}{% endblock %}",
        );
        set.insert(
            "list.html",
            "list.html",
            "{% extends \"base.html\" %}\nignored {{ books.0.author }}\n{% block content %}\n{% for b in books %}\n{{ b.author.name|upper }}\n{% with a=b.editor %}{{ a }}{% endwith %}\n{% include \"row.html\" with item=b only %}\n{% for t in b.tags.all %}{{ t }}{% empty %}none{% endfor %}\n{{ forloop.counter }}\n{% endfor %}\n{% endblock %}",
        );
        set.insert("row.html", "row.html", "{{ item.publisher }} {{ b.title }}");
        assert_eq!(
            reads(&set, "list.html", &["books"]),
            vec![
                "books:*.author.name.__str__()@5",
                "books:*.editor@6",
                "books:*.editor.__str__()@6",
                "books:*.publisher.__str__()@1",
                "books:*.tags.*@8",
                "books:*.tags.*.__str__()@8",
            ]
        );
    }

    #[test]
    fn comments_and_verbatim_are_skipped() {
        let mut set = TemplateSet::default();
        set.insert(
            "t.html",
            "t.html",
            "{# {{ b.x }} #}{% comment %}{{ b.y }}{% endcomment %}{% verbatim %}{{ b.z }}{% endverbatim %}{{ b.w|length }}",
        );
        assert_eq!(reads(&set, "t.html", &["b"]), vec!["b:w@1"]);
    }
}
