//! Edits that make names from `django.db.models` available in a file, placed where isort and
//! ruff (their defaults) would put them: a name goes into an existing
//! `from django.db.models import …` at its sorted place; a new import line goes into the
//! third-party section at its sorted place, or becomes that section, between the standard
//! library's and the project's own imports.

use crate::analysis::FileContext;
use crate::fix::Edit;
use crate::syntax::NodeKind;
use crate::syntax::text;
use tree_sitter::Node;

const MODULE: &str = "django.db.models";

/// How to spell `Count`, `Exists`… in this file, and the import edits that make it work:
/// `models.Count` when the file has `from django.db import models`; else the bare names,
/// added to an existing `from django.db.models import …` or in a new import line.
pub fn db_models_names(ctx: &FileContext, names: &[&str]) -> (String, Vec<Edit>) {
    let root = ctx.tree.root_node();
    let mut cursor = root.walk();
    let mut imports = Vec::new();
    let mut existing_from_models = None;
    for node in root.named_children(&mut cursor) {
        if !matches!(
            node.node_kind(),
            "import_statement" | "import_from_statement" | "future_import_statement"
        ) {
            continue;
        }
        imports.push(node);
        if node.node_kind() != "import_from_statement" {
            continue;
        }
        let module = node
            .child_by_field_id(crate::field!("module_name"))
            .map(|m| text(m, ctx.src))
            .unwrap_or("");
        let mut names_cursor = node.walk();
        let imported: Vec<Imported> = node
            .children_by_field_name("name", &mut names_cursor)
            .filter_map(|n| match n.node_kind() {
                "dotted_name" => Some(Imported {
                    name: text(n, ctx.src).to_string(),
                    local: text(n, ctx.src).to_string(),
                    node: n,
                }),
                "aliased_import" => Some(Imported {
                    name: text(n.child_by_field_id(crate::field!("name"))?, ctx.src).to_string(),
                    local: text(n.child_by_field_id(crate::field!("alias"))?, ctx.src).to_string(),
                    node: n,
                }),
                _ => None,
            })
            .collect();
        if module == "django.db"
            && let Some(models) = imported.iter().find(|i| i.name == "models")
        {
            return (format!("{}.", models.local), Vec::new());
        }
        if module == MODULE && !imported.is_empty() {
            existing_from_models = Some((node, imported));
        }
    }
    let mut missing: Vec<&str> = names.to_vec();
    missing.sort_by(|a, b| member_key(a).cmp(&member_key(b)));
    missing.dedup();
    if let Some((statement, imported)) = existing_from_models {
        missing.retain(|n| !imported.iter().any(|i| i.name == *n && i.local == *n));
        if missing.is_empty() {
            return (String::new(), Vec::new());
        }
        return (
            String::new(),
            add_names(ctx, statement, &imported, &missing),
        );
    }
    let le = line_ending(ctx);
    let line = format!("from {MODULE} import {}", missing.join(", "));
    let edit = new_import(ctx, &imports, &line).unwrap_or_else(|| {
        // After the last import (or the docstring), as before the sections were read.
        let at = match imports.last() {
            Some(&last) => after_line(ctx.src, end_of_line_statements(last)),
            None => start_after_docstring(ctx),
        };
        let line = format!("{line}{le}");
        let line = if at == ctx.src.len() && !ctx.src.is_empty() && !ctx.src.ends_with('\n') {
            format!("{le}{line}")
        } else {
            line
        };
        Edit::insertion(at, line)
    });
    (String::new(), vec![edit])
}

/// A name an import statement imports, and the node that names it.
struct Imported<'t> {
    name: String,
    local: String,
    node: Node<'t>,
}

/// isort's and ruff's `order-by-type`: CONSTANTS, then Classes, then functions and variables;
/// each case-insensitively, then case-sensitively.
fn member_key(name: &str) -> (u8, String, &str) {
    let kind = if name.chars().count() > 1
        && name.chars().any(char::is_alphabetic)
        && !name.chars().any(char::is_lowercase)
    {
        0
    } else if name.chars().next().is_some_and(char::is_uppercase) {
        1
    } else {
        2
    };
    (kind, name.to_lowercase(), name)
}

/// Edits adding `missing` (sorted) to `statement`, a `from django.db.models import …`: each at
/// its sorted place when the names there are sorted, else after the last; on a line of its
/// own when the statement puts one name per line.
fn add_names(
    ctx: &FileContext,
    statement: Node,
    imported: &[Imported],
    missing: &[&str],
) -> Vec<Edit> {
    let le = line_ending(ctx);
    let sorted = imported
        .windows(2)
        .all(|w| member_key(&w[0].name) <= member_key(&w[1].name));
    // One name per line: each starts a line of its own, below the statement's first line.
    let own_lines = imported.iter().all(|i| {
        i.node.start_position().row > statement.start_position().row && starts_line(ctx.src, i.node)
    }) && imported
        .windows(2)
        .all(|w| w[0].node.start_position().row < w[1].node.start_position().row);
    let last = imported.last().expect("not empty");
    // The name each missing one goes before (None: after the last).
    let mut at: Vec<(Option<usize>, &str)> = missing
        .iter()
        .map(|m| {
            let before = sorted
                .then(|| {
                    imported
                        .iter()
                        .position(|i| member_key(&i.name) > member_key(m))
                })
                .flatten();
            (before, *m)
        })
        .collect();
    at.sort_by_key(|(before, _)| before.map_or(usize::MAX, |b| b));
    let mut edits: Vec<Edit> = Vec::new();
    let mut i = 0;
    while i < at.len() {
        let before = at[i].0;
        let group: Vec<&str> = at[i..]
            .iter()
            .take_while(|(b, _)| *b == before)
            .map(|(_, m)| *m)
            .collect();
        i += group.len();
        let edit = match (before, own_lines) {
            (Some(b), false) => {
                let node = imported[b].node;
                let text: String = group.iter().map(|m| format!("{m}, ")).collect();
                Edit::insertion(node.start_byte(), text)
            }
            (Some(b), true) => {
                let node = imported[b].node;
                let indent = indentation(ctx.src, node);
                let text: String = group.iter().map(|m| format!("{indent}{m},{le}")).collect();
                Edit::insertion(line_start(ctx.src, node.start_byte()), text)
            }
            (None, false) => {
                let text: String = group.iter().map(|m| format!(", {m}")).collect();
                Edit::insertion(last.node.end_byte(), text)
            }
            (None, true) => {
                let indent = indentation(ctx.src, last.node);
                let end = last.node.end_byte();
                let rest = &ctx.src[end..];
                let line_rest = &rest[..rest.find('\n').unwrap_or(rest.len())];
                let trailing_comma = line_rest.trim_start().strip_prefix(',').is_some_and(|r| {
                    let r = r.trim();
                    r.is_empty() || r.starts_with('#')
                });
                if trailing_comma && rest.contains('\n') {
                    let text: String = group.iter().map(|m| format!("{indent}{m},{le}")).collect();
                    Edit::insertion(after_line(ctx.src, end), text)
                } else {
                    let text: String = group.iter().map(|m| format!(",{le}{indent}{m}")).collect();
                    Edit::insertion(end, text)
                }
            }
        };
        edits.push(edit);
    }
    edits
}

/// Which section isort puts an import in (their order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Future,
    Stdlib,
    ThirdParty,
    FirstParty,
    Local,
}

fn section(ctx: &FileContext, import: Node) -> Section {
    let root_of = |dotted: &str| -> Section {
        let root = dotted.split('.').next().unwrap_or(dotted).trim();
        if is_stdlib(root) {
            Section::Stdlib
        } else if ctx.index.first_party.contains(&ctx.module, root) {
            Section::FirstParty
        } else {
            Section::ThirdParty
        }
    };
    match import.node_kind() {
        "future_import_statement" => Section::Future,
        "import_from_statement" => match import.child_by_field_id(crate::field!("module_name")) {
            Some(m) if m.node_kind() == "relative_import" => Section::Local,
            Some(m) => root_of(text(m, ctx.src)),
            None => Section::Local,
        },
        _ => {
            let mut cursor = import.walk();
            let first = import.children_by_field_name("name", &mut cursor).next();
            match first {
                Some(n) if n.node_kind() == "aliased_import" => n
                    .child_by_field_id(crate::field!("name"))
                    .map_or(Section::ThirdParty, |n| root_of(text(n, ctx.src))),
                Some(n) => root_of(text(n, ctx.src)),
                None => Section::ThirdParty,
            }
        }
    }
}

/// The edit adding `line` as a new import where isort would: at its sorted place among the
/// `from` imports of the third-party group (the first group of top-level imports, runs without
/// a blank line or another statement between them, holding a third-party import); without
/// one, as a group of its own before the project's own imports, or after the standard
/// library's. None when the file gives no such place (no import, or imports sharing a line).
fn new_import(ctx: &FileContext, imports: &[Node], line: &str) -> Option<Edit> {
    let le = line_ending(ctx);
    let sections: Vec<Section> = imports.iter().map(|&n| section(ctx, n)).collect();
    let groups = groups(ctx.src, imports);
    let third_party = groups
        .iter()
        .find(|g| sections[g.start..g.end].contains(&Section::ThirdParty));
    if let Some(group) = third_party {
        let own: Vec<usize> = group
            .clone()
            .filter(|&i| sections[i] == Section::ThirdParty)
            .collect();
        let key = MODULE.to_lowercase();
        let from_module = |i: usize| {
            (imports[i].node_kind() == "import_from_statement")
                .then(|| imports[i].child_by_field_id(crate::field!("module_name")))
                .flatten()
                .map(|m| text(m, ctx.src).to_lowercase())
        };
        let next = own
            .iter()
            .copied()
            .find(|&i| from_module(i).is_some_and(|m| m > key));
        if let Some(i) = next {
            let at = attached_start(ctx.src, imports[i])?;
            return Some(Edit::insertion(at, format!("{line}{le}")));
        }
        let after = own
            .iter()
            .copied()
            .rfind(|&i| from_module(i).is_some())
            .or(own.last().copied())?;
        return after_import(ctx, imports[after], &format!("{line}{le}"));
    }
    if let Some(first) = (0..imports.len()).find(|&i| sections[i] >= Section::FirstParty) {
        let at = attached_start(ctx.src, imports[first])?;
        let group_start = groups.iter().any(|g| g.start == first);
        let text = if group_start {
            format!("{line}{le}{le}")
        } else {
            format!("{line}{le}")
        };
        return Some(Edit::insertion(at, text));
    }
    let last = (0..imports.len()).rfind(|&i| sections[i] <= Section::Stdlib)?;
    after_import(ctx, imports[last], &format!("{le}{line}{le}"))
}

/// Insert `text` on the line after `import` (and what shares its last line).
fn after_import(ctx: &FileContext, import: Node, text: &str) -> Option<Edit> {
    let le = line_ending(ctx);
    let at = after_line(ctx.src, end_of_line_statements(import));
    if at == ctx.src.len() && !ctx.src.ends_with('\n') {
        return Some(Edit::insertion(at, format!("{le}{text}")));
    }
    Some(Edit::insertion(at, text.to_string()))
}

/// The top-level imports in runs: consecutive ones with only comment lines between them.
fn groups(src: &str, imports: &[Node]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, node) in imports.iter().enumerate() {
        let joined = i > 0 && {
            let prev = imports[i - 1];
            let mut between = prev.next_named_sibling();
            let mut only_comments = true;
            while let Some(n) = between
                && n.id() != node.id()
            {
                if n.node_kind() != "comment" {
                    only_comments = false;
                    break;
                }
                between = n.next_named_sibling();
            }
            let gap = &src[prev.end_byte()..node.start_byte()];
            let mut lines = gap.split('\n');
            lines.next(); // the rest of the previous import's line
            let inner: Vec<&str> = lines.collect();
            let blank =
                inner.len() > 1 && inner[..inner.len() - 1].iter().any(|l| l.trim().is_empty());
            only_comments && !blank && gap.contains('\n')
        };
        match out.last_mut() {
            Some(group) if joined => group.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Where a line inserted before `statement` goes: the start of its line, above the comment
/// lines right above it (they belong to it). None when it does not start its line.
fn attached_start(src: &str, statement: Node) -> Option<usize> {
    if !starts_line(src, statement) {
        return None;
    }
    let mut first = statement;
    while let Some(prev) = first.prev_sibling()
        && prev.node_kind() == "comment"
        && prev.end_position().row + 1 == first.start_position().row
        && starts_line(src, prev)
    {
        first = prev;
    }
    Some(line_start(src, first.start_byte()))
}

fn starts_line(src: &str, node: Node) -> bool {
    src[line_start(src, node.start_byte())..node.start_byte()]
        .chars()
        .all(|c| c == ' ' || c == '\t')
}

fn indentation(src: &str, node: Node) -> String {
    src[line_start(src, node.start_byte())..node.start_byte()].to_string()
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_ending(ctx: &FileContext) -> &'static str {
    if ctx.src.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Where the statements that share the line `node` ends on end: `import os; X = (\n 1,\n)`
/// goes on past the import's own line, and a new line after the import's would split `X`
/// (found by fuzzing: a fix that broke the syntax, rolled back).
fn end_of_line_statements(node: tree_sitter::Node) -> usize {
    let mut last = node;
    while let Some(next) = last.next_named_sibling()
        && next.start_position().row == last.end_position().row
    {
        last = next;
    }
    last.end_byte()
}

/// The offset just past the end of the line holding `offset`.
fn after_line(src: &str, offset: usize) -> usize {
    match src[offset..].find('\n') {
        Some(i) => offset + i + 1,
        None => src.len(),
    }
}

fn start_after_docstring(ctx: &FileContext) -> usize {
    let root = ctx.tree.root_node();
    let first = root.named_child(0);
    match first {
        Some(n)
            if n.node_kind() == "expression_statement"
                && n.named_child(0).is_some_and(|s| s.node_kind() == "string") =>
        {
            after_line(ctx.src, n.end_byte())
        }
        _ => 0,
    }
}

fn is_stdlib(root: &str) -> bool {
    STDLIB.binary_search(&root).is_ok()
}

/// The standard library's top-level modules (Python 3.8 to 3.13), sorted.
const STDLIB: &[&str] = &[
    "__future__",
    "abc",
    "aifc",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "cProfile",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nntplib",
    "ntpath",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Edit, apply_edits};
    use std::path::{Path, PathBuf};

    const MODELS: &str = "from django.db import models\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n";

    /// `src` (the module `shop.views` of a project with the package `shop`) with the edits
    /// that import `names`.
    fn imported(src: &str, names: &[&str]) -> String {
        let mut index = crate::index::index_of("shop/models.py", MODELS);
        let files: Vec<PathBuf> = ["shop/__init__.py", "shop/models.py", "shop/views.py"]
            .iter()
            .map(PathBuf::from)
            .collect();
        index.first_party =
            crate::index::first_party::FirstParty::new(Path::new("/nonexistent"), &files);
        let tree = crate::syntax::parse::parse(src).unwrap();
        let ctx = FileContext::new(&index, src, &tree, "shop.views".into(), false);
        let (prefix, mut edits) = db_models_names(&ctx, names);
        assert_eq!(prefix, "");
        edits.sort();
        let refs: Vec<&Edit> = edits.iter().collect();
        apply_edits(src, &refs)
    }

    #[test]
    fn a_name_goes_into_the_existing_import_at_its_sorted_place() {
        assert_eq!(
            imported("from django.db.models import Q, Sum\n", &["Count"]),
            "from django.db.models import Count, Q, Sum\n"
        );
        assert_eq!(
            imported("from django.db.models import F, Q\n", &["Value", "Exists"]),
            "from django.db.models import Exists, F, Q, Value\n"
        );
        // Constants, then classes, then functions.
        assert_eq!(
            imported(
                "from django.db.models import CASCADE, Q, signals\n",
                &["Count"]
            ),
            "from django.db.models import CASCADE, Count, Q, signals\n"
        );
    }

    #[test]
    fn names_not_sorted_get_the_new_one_after_the_last() {
        assert_eq!(
            imported("from django.db.models import Sum, Q\n", &["Count"]),
            "from django.db.models import Sum, Q, Count\n"
        );
    }

    #[test]
    fn a_parenthesised_import_gets_a_line_per_name() {
        assert_eq!(
            imported(
                "from django.db.models import (\n    F,\n    Q,\n)\n",
                &["Count"]
            ),
            "from django.db.models import (\n    Count,\n    F,\n    Q,\n)\n"
        );
        assert_eq!(
            imported(
                "from django.db.models import (\n    F,\n    Q,\n)\n",
                &["Value"]
            ),
            "from django.db.models import (\n    F,\n    Q,\n    Value,\n)\n"
        );
        assert_eq!(
            imported(
                "from django.db.models import (\n    F,\n    Q\n)\n",
                &["Value"]
            ),
            "from django.db.models import (\n    F,\n    Q,\n    Value\n)\n"
        );
        assert_eq!(
            imported("from django.db.models import (F, Q)\n", &["Count"]),
            "from django.db.models import (Count, F, Q)\n"
        );
        assert_eq!(
            imported(
                "from django.db.models import (\r\n    F,\r\n    Q,\r\n)\r\n",
                &["Count"]
            ),
            "from django.db.models import (\r\n    Count,\r\n    F,\r\n    Q,\r\n)\r\n"
        );
    }

    #[test]
    fn a_new_import_goes_into_the_third_party_group_at_its_sorted_place() {
        let src = "import os\n\nimport django\nfrom django.conf import settings\nfrom rest_framework import views\n\nfrom shop.models import Book\n";
        assert_eq!(
            imported(src, &["Count"]),
            "import os\n\nimport django\nfrom django.conf import settings\nfrom django.db.models import Count\nfrom rest_framework import views\n\nfrom shop.models import Book\n"
        );
        let src = "from django.conf import settings\n\nfrom shop.models import Book\n";
        assert_eq!(
            imported(src, &["Count"]),
            "from django.conf import settings\nfrom django.db.models import Count\n\nfrom shop.models import Book\n"
        );
    }

    #[test]
    fn without_a_third_party_group_the_import_makes_one_before_the_projects() {
        let src = "\"\"\"Doc.\"\"\"\nimport os\n\n# The models.\nfrom shop.models import Book\nfrom .forms import F\n\nX = 1\n";
        assert_eq!(
            imported(src, &["Exists", "Count"]),
            "\"\"\"Doc.\"\"\"\nimport os\n\nfrom django.db.models import Count, Exists\n\n# The models.\nfrom shop.models import Book\nfrom .forms import F\n\nX = 1\n"
        );
        // Only local imports.
        assert_eq!(
            imported("from .models import Book\n", &["Count"]),
            "from django.db.models import Count\n\nfrom .models import Book\n"
        );
    }

    #[test]
    fn after_the_standard_library_when_nothing_else_is_imported() {
        assert_eq!(
            imported(
                "from __future__ import annotations\n\nimport os\n\n\nX = 1\n",
                &["Count"]
            ),
            "from __future__ import annotations\n\nimport os\n\nfrom django.db.models import Count\n\n\nX = 1\n"
        );
        assert_eq!(
            imported("import os", &["Count"]),
            "import os\n\nfrom django.db.models import Count\n"
        );
    }

    #[test]
    fn a_mixed_group_gets_the_line_before_the_projects_import() {
        assert_eq!(
            imported("import os\nfrom shop.models import Book\n", &["Count"]),
            "import os\nfrom django.db.models import Count\nfrom shop.models import Book\n"
        );
    }

    #[test]
    fn imports_in_blocks_are_not_groups() {
        let src = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from django.http import HttpRequest\n\nfrom shop.models import Book\n";
        assert_eq!(
            imported(src, &["Count"]),
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from django.http import HttpRequest\n\nfrom django.db.models import Count\n\nfrom shop.models import Book\n"
        );
    }

    #[test]
    fn crlf_lines_and_shared_lines() {
        assert_eq!(
            imported(
                "import os\r\n\r\nfrom shop.models import Book\r\n",
                &["Count"]
            ),
            "import os\r\n\r\nfrom django.db.models import Count\r\n\r\nfrom shop.models import Book\r\n"
        );
        // An import that does not start its line: after the last import, as before.
        assert_eq!(
            imported("import os; from shop.models import Book\n", &["Count"]),
            "import os; from shop.models import Book\nfrom django.db.models import Count\n"
        );
    }

    #[test]
    fn models_module_prefix_and_nothing_missing() {
        let index = crate::index::index_of("shop/models.py", MODELS);
        let src = "from django.db import models as m\nfrom django.db.models import Count\n";
        let tree = crate::syntax::parse::parse(src).unwrap();
        let ctx = FileContext::new(&index, src, &tree, "shop.views".into(), false);
        assert_eq!(
            db_models_names(&ctx, &["Count"]),
            ("m.".to_string(), vec![])
        );
    }

    #[test]
    fn the_standard_library_list_is_sorted() {
        assert!(STDLIB.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stdlib("os") && is_stdlib("collections") && !is_stdlib("django"));
    }
}
