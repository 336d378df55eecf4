#!/usr/bin/env python3
"""The djopt real-database end-to-end suite.

Runs with the system python3 (standard library only).  It

1. creates or reuses tests/e2e/.venv with the exact pins of requirements.txt;
2. runs every scenario of tests/e2e/project on a fresh in-memory SQLite
   database at two sizes (harness/worker.py, inside the venv), recording the
   query count and a sha256 of the JSON result, and checks each scenario's
   ``nplusone`` declaration against the measured growth;
3. runs ``djopt fix`` on one temp copy and ``djopt fix --unsafe-fixes`` on
   another, re-runs the scenarios and checks results, query counts, untouched
   sources, idempotence, that every .py file still compiles and that the fixed
   files are as tidy as before (no new line over 88 columns, imports in
   isort's order);
4. runs the self-test: deliberately wrong "fixes" that the suite must catch.

The last line printed is the summary:
    e2e: scenarios=N nplusone=M fixed=K broken=B untouched_changed=U idempotent=yes|no
The exit status is non-zero when anything failed.
"""

import argparse
import ast
import difflib
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROJECT = HERE / "project"
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
WORKER = HERE / "harness" / "worker.py"
SIZES = (5, 10)
DJOPT_TIMEOUT = 300
WORKER_TIMEOUT = 300
# never compared: bytecode, and djopt's own cache should it put one there
IGNORED_DIRS = {"__pycache__", ".djopt_cache"}


def say(msg=""):
    print(msg, flush=True)


class SuiteError(Exception):
    """The suite itself could not run (venv, worker crash, djopt missing)."""


# ---------------------------------------------------------------- virtualenv


def read_pins():
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SuiteError(f"requirements.txt: {line!r} is not pinned with ==")
        pins[name.strip()] = version.strip()
    return pins


def venv_python():
    return VENV / "bin" / "python"


def installed_versions(pins):
    code = (
        "import json, sys, importlib.metadata as m\n"
        "out = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try: out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError: out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [str(venv_python()), "-c", code, json.dumps(sorted(pins))], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)


def ensure_venv():
    pins = read_pins()
    if venv_python().exists():
        have = installed_versions(pins)
        if have is not None and all(have.get(k) == v for k, v in pins.items()):
            return pins
        if have is None:
            say("-- e2e virtualenv is unusable: recreating it")
            shutil.rmtree(VENV)
        else:
            say("-- e2e virtualenv pins differ: reinstalling")
    if not venv_python().exists():
        say(f"-- creating virtualenv {VENV.relative_to(REPO)}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    proc = subprocess.run(
        [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(REQUIREMENTS)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SuiteError("pip install failed:\n" + proc.stdout[-2000:] + proc.stderr[-2000:])
    have = installed_versions(pins)
    if have is None or any(have.get(k) != v for k, v in pins.items()):
        raise SuiteError(f"virtualenv does not match requirements.txt after install: {have}")
    return pins


# ------------------------------------------------------------------- running


def copy_project(dest):
    shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def run_scenarios(project_dir, workdir):
    """Run the worker at every size in parallel; returns {name: record}."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    procs = []
    for size in SIZES:
        out = Path(workdir) / f"report-{Path(project_dir).name}-{size}.json"
        cmd = [str(venv_python()), str(WORKER), "--project", str(project_dir), "--size", str(size), "--out", str(out)]
        procs.append((size, out, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    reports = {}
    for size, out, proc in procs:
        output, _ = proc.communicate(timeout=WORKER_TIMEOUT)
        if proc.returncode != 0 or not out.exists():
            raise SuiteError(f"worker for size {size} failed (exit {proc.returncode}):\n{output.decode()[-3000:]}")
        report = json.loads(out.read_text())
        if "fatal" in report:
            raise SuiteError(f"worker for size {size} on {project_dir} crashed:\n{tail(report['fatal'], 8)}")
        reports[size] = report["scenarios"]
    records = {}
    for size in SIZES:
        for entry in reports[size]:
            rec = records.setdefault(
                entry["name"],
                {k: entry[k] for k in ("name", "module", "file", "nplusone", "fixed_by", "may_change", "owns")},
            )
            rec.setdefault("queries", []).append(entry["queries"])
            rec.setdefault("digests", []).append(entry["digest"])
            rec.setdefault("errors", []).append(entry["error"])
    return records


def tail(text, n):
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-n:])


def grows(counts):
    return counts[-1] > counts[0]


# ------------------------------------------------------------ source checks


def function_sources(project_dir, relfile):
    """{name: exact source text incl. decorators} for top-level functions and
    classes of one file, or None if the file does not parse."""
    path = Path(project_dir) / relfile
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    lines = text.splitlines(keepends=True)
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out[node.name] = "".join(lines[start - 1 : node.end_lineno])
    return out


def scenario_source(sources, rec):
    """The scenario function's source followed by the sources of what it owns
    (None when the function is missing)."""
    if sources is None or rec["name"] not in sources:
        return None
    parts = [sources[rec["name"]]]
    for owned in rec.get("owns", []):
        parts.append(sources.get(owned, f"<missing {owned}>\n"))
    return "".join(parts)


def module_level_rest(project_dir, relfile, scenario_names):
    """Source of every top-level statement that is neither an import nor a
    scenario function (helpers, constants), in order."""
    path = Path(project_dir) / relfile
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    rest = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in scenario_names:
            continue
        rest.append(ast.get_source_segment(text, node))
    return rest


def unified(before, after, label):
    return "".join(
        difflib.unified_diff(
            (before or "").splitlines(keepends=True), after.splitlines(keepends=True), label, label + " (fixed)", n=1
        )
    )


def snapshot(project_dir):
    root = Path(project_dir)
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not IGNORED_DIRS.intersection(path.relative_to(root).parts):
            files[str(path.relative_to(root))] = path.read_bytes()
    return files


def compile_errors(project_dir, scratch):
    errors = []
    cfile = str(Path(scratch) / "compile-check.pyc")
    for path in sorted(Path(project_dir).rglob("*.py")):
        try:
            py_compile.compile(str(path), cfile=cfile, doraise=True)
        except py_compile.PyCompileError as exc:
            errors.append(f"{path.relative_to(project_dir)}: {exc.msg.strip().splitlines()[-1]}")
    return errors


# ------------------------------------------------------------------ tidiness

# The project has no ruff or black configuration: ruff's default line length.
LINE_LENGTH = 88


def first_party(project_dir):
    """The project's top-level packages and modules (isort's first-party section)."""
    root = Path(project_dir)
    return {p.name for p in root.iterdir() if (p / "__init__.py").exists()} | {
        p.stem for p in root.glob("*.py")
    }


def import_section(node, own):
    """isort's section of a top-level import: future, stdlib, third-party, first-party, local."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return 4
        root = (node.module or "").split(".")[0]
    else:
        root = node.names[0].name.split(".")[0]
    if root == "__future__":
        return 0
    if root in getattr(sys, "stdlib_module_names", ()):
        return 1
    return 3 if root in own else 2


def member_key(name):
    """isort's and ruff's order-by-type: CONSTANTS, Classes, functions; case-insensitively."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def untidiness(text, own):
    """(lines over LINE_LENGTH, imports out of isort's order) of one file's text."""
    long_lines = sum(1 for line in text.splitlines() if len(line) > LINE_LENGTH)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return long_lines, 0
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    disorder = 0
    for a, b in zip(imports, imports[1:]):
        sa, sb = import_section(a, own), import_section(b, own)
        if sb < sa:
            disorder += 1  # a section after a later one
        elif sa == sb and b.lineno == a.end_lineno + 1:
            # One group: `import x` lines first, then `from x import y`, each by module name.
            ka = (isinstance(a, ast.ImportFrom), (getattr(a, "module", None) or a.names[0].name).lower())
            kb = (isinstance(b, ast.ImportFrom), (getattr(b, "module", None) or b.names[0].name).lower())
            disorder += kb < ka
    for n in imports:
        if isinstance(n, ast.ImportFrom):
            names = [a.name for a in n.names]
            disorder += names != sorted(names, key=member_key)
    return long_lines, disorder


def untidy(base_dir, fixed_dir):
    """The fixed .py files with more over-long lines or more imports out of order than before."""
    own = first_party(base_dir)
    out = []
    for path in sorted(Path(fixed_dir).rglob("*.py")):
        rel = path.relative_to(fixed_dir)
        before_path = Path(base_dir) / rel
        if IGNORED_DIRS.intersection(rel.parts) or not before_path.exists():
            continue
        before, after = before_path.read_text(encoding="utf-8"), path.read_text(encoding="utf-8")
        if before == after:
            continue
        (long_before, order_before), (long_after, order_after) = untidiness(before, own), untidiness(after, own)
        if long_after > long_before:
            out.append(f"{rel}: {long_after - long_before} more line(s) over {LINE_LENGTH} columns")
        if order_after > order_before:
            out.append(f"{rel}: imports out of isort's order ({order_before} -> {order_after})")
    return out


# --------------------------------------------------------------- evaluation


def evaluate(base, base_dir, after, after_dir, mode):
    """Compare one fixed copy against the baseline.

    mode "safe": fixes declared "safe" apply; mode "unsafe": "safe" and
    "unsafe" apply.  Returns {name: {"problems": [...], "fixed": bool}} plus
    a list of changes outside scenario functions."""
    applicable = {"safe"} if mode == "safe" else {"safe", "unsafe"}
    results = {}
    files = sorted({rec["file"] for rec in base.values()})
    names_by_file = {
        f: {n for name, r in base.items() if r["file"] == f for n in [name, *r.get("owns", [])]} for f in files
    }
    base_src = {f: function_sources(base_dir, f) or {} for f in files}
    after_src = {f: function_sources(after_dir, f) for f in files}
    for name, rec in base.items():
        problems = []
        new = after.get(name)
        before_text = scenario_source(base_src[rec["file"]], rec)
        after_text = scenario_source(after_src[rec["file"]], rec)
        if new is None or after_text is None:
            results[name] = {"problems": ["missing"], "fixed": False, "queries": None, "error": None, "diff": None}
            continue
        if new["digests"] != rec["digests"]:
            problems.append("broken")
        changed = before_text != after_text
        if changed and rec["fixed_by"] not in applicable and not rec["may_change"]:
            problems.append("untouched_changed")
        expected = rec["nplusone"] and rec["fixed_by"] in applicable
        still = grows(new["queries"])
        if expected and still:
            problems.append("not_fixed")
        if any(a > b for a, b in zip(new["queries"], rec["queries"])):
            problems.append("regressed")
        fixed = rec["nplusone"] and not still and "broken" not in problems
        results[name] = {
            "problems": problems,
            "fixed": fixed,
            "queries": new["queries"],
            "error": next((e for e in new["errors"] if e), None),
            "diff": None if not changed else unified(before_text, after_text, rec["file"]),
        }

    other_changes = []
    base_files, after_files = snapshot(base_dir), snapshot(after_dir)
    scenario_files = set(files)
    for rel in sorted(set(base_files) | set(after_files)):
        if rel in scenario_files:
            if after_src[rel] is None:
                continue  # reported by the compile check and as missing scenarios
            if module_level_rest(base_dir, rel, names_by_file[rel]) != module_level_rest(
                after_dir, rel, names_by_file[rel]
            ):
                other_changes.append(f"{rel} (module level, outside scenarios)")
        elif base_files.get(rel) != after_files.get(rel):
            what = "added" if rel not in base_files else "removed" if rel not in after_files else "changed"
            other_changes.append(f"{rel} ({what})")
    return results, other_changes


def run_djopt(djopt, args, project_dir):
    cmd = [str(djopt), *args, str(project_dir)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=DJOPT_TIMEOUT, cwd=str(Path(project_dir).parent)
        )
    except subprocess.TimeoutExpired:
        return None, f"{' '.join(cmd)}: timed out after {DJOPT_TIMEOUT}s"
    note = f"{' '.join(args)} exited {proc.returncode}"
    if proc.returncode != 0:
        note += ":\n" + "\n".join(("    " + l) for l in (proc.stdout + proc.stderr).strip().splitlines()[-15:])
    return proc.returncode, note


def resolve_djopt(explicit):
    path = explicit or os.environ.get("DJOPT")
    if path:
        path = Path(path).resolve()
        if not os.access(path, os.X_OK):
            raise SuiteError(f"DJOPT={path} is not an executable file")
        return path
    say("-- DJOPT not set: cargo build --release")
    proc = subprocess.run(["cargo", "build", "--release"], cwd=str(REPO), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SuiteError("cargo build --release failed:\n" + proc.stderr[-3000:])
    path = REPO / "target" / "release" / "djopt"
    if not path.exists():
        raise SuiteError(f"cargo build succeeded but {path} does not exist")
    return path


# ----------------------------------------------------------------- self-test


class Mutation:
    """A deliberately wrong (or, once, right) edit inside one scenario."""

    def __init__(self, scenario, old, new, expect, why):
        self.scenario, self.old, self.new, self.expect, self.why = scenario, old, new, expect, why


MUTATIONS = [
    Mutation("book_titles_with_author", "Book.objects.filter(published=True)", "Book.objects.all()",
             "broken", "filter() turned into all()"),
    Mutation("queryset_reassigned_with_filter", "qs = qs.filter(pages__gte=min_pages)", "qs = qs",
             "broken", "a .filter(...) dropped"),
    Mutation("book_tag_names", "Book.objects.filter(published=True)",
             'Book.objects.filter(published=True).select_related("tags")',
             "broken", "select_related on a many-to-many (FieldError)"),
    Mutation("author_book_titles", "Author.objects.all()", 'Author.objects.all().prefetch_related("books").iterator()',
             "broken", "prefetch_related before iterator() without chunk_size (ValueError)"),
    Mutation("inline_for_over_all", "Book.objects.all()", 'Book.objects.order_by("-title")',
             "broken", "row order changed"),
    Mutation("trap_prefetch_above_writes", "Author.objects.all()", 'Author.objects.prefetch_related("books")',
             "broken", "prefetch hoisted above writes (stale cache)"),
    Mutation("trap_union_loop", 'short.union(long).order_by("title")',
             'short.union(long).order_by("title").select_related("author")',
             "broken", "select_related after union() (NotSupportedError)"),
    Mutation("trap_only_deferred_fk", 'Book.objects.only("title")', 'Book.objects.only("title").select_related("author")',
             "broken", "select_related of a deferred FK (FieldError)"),
    Mutation("already_select_related", 'select_related("author")', 'select_related("author", "editor")',
             "untouched_changed", "harmless edit of a must-stay-untouched function"),
    Mutation("reverse_one_to_one_biography", "Author.objects.all()", 'Author.objects.select_related("publisher")',
             "not_fixed", "a join on the wrong path leaves the N+1"),
    Mutation("list_comprehension_author", 'Book.objects.order_by("-pages", "title")',
             'Book.objects.select_related("author").order_by("-pages", "title")',
             "fixed", "the correct fix"),
]


def apply_mutations(project_dir, base):
    for m in MUTATIONS:
        rec = base[m.scenario]
        path = Path(project_dir) / rec["file"]
        text = path.read_text(encoding="utf-8")
        segment = function_sources(project_dir, rec["file"])[m.scenario]
        if segment.count(m.old) != 1:
            raise SuiteError(f"self-test: {m.old!r} occurs {segment.count(m.old)} times in {m.scenario}")
        if text.count(segment) != 1:
            raise SuiteError(f"self-test: cannot locate {m.scenario} in {rec['file']}")
        path.write_text(text.replace(segment, segment.replace(m.old, m.new)), encoding="utf-8")


# Module-level edits of an untidy fixer (of scenarios/tidy_edits.py), each to be reported.
TIDY_MUTATIONS = [
    ("from ._registry import scenario\n", "from ._registry import scenario\nfrom django.db.models import Count\n",
     "imports out of isort's order", "an import appended after the local imports"),
    ("    books = Book.objects.filter(published=True, pages__gte=0)\n",
     '    books = Book.objects.filter(published=True, pages__gte=0).select_related("author__publisher")\n',
     "over 88 columns", "a line made longer than 88 columns"),
]


def tidy_self_test(base_dir, tmp):
    """Each untidy edit alone must be reported by `untidy`: how many were."""
    count = 0
    rel = Path("library") / "scenarios" / "tidy_edits.py"
    for i, (old, new, expect, why) in enumerate(TIDY_MUTATIONS):
        copy = copy_project(Path(tmp) / f"selftest-tidy-{i}")
        path = copy / rel
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise SuiteError(f"self-test: {old!r} occurs {text.count(old)} times in {rel}")
        path.write_text(text.replace(old, new), encoding="utf-8")
        got = untidy(base_dir, copy)
        caught = len(got) == 1 and expect in got[0]
        count += caught
        say(f"{'(tidy_edits.py)':42} {why:68} {'untidy':18} {'; '.join(got) or 'ok'}"
            f"{'' if caught else '   <-- NOT CAUGHT'}")
    return count


def self_test(base, base_dir, tmp):
    say("-- self-test: applying deliberately wrong fixes to a copy")
    mutated = copy_project(Path(tmp) / "selftest")
    apply_mutations(mutated, base)
    after = run_scenarios(mutated, tmp)
    results, _ = evaluate(base, base_dir, after, mutated, "safe")
    failures = []
    say(f"{'mutated scenario':42} {'mutation':68} {'expect':18} got")
    for m in MUTATIONS:
        r = results[m.scenario]
        got = ",".join(r["problems"]) or ("fixed" if r["fixed"] else "ok")
        if m.expect == "fixed":
            ok = r["fixed"] and not r["problems"]
        elif m.expect == "untouched_changed":
            ok = "untouched_changed" in r["problems"] and "broken" not in r["problems"]
        else:
            ok = m.expect in r["problems"]
        if not ok:
            failures.append(m.scenario)
        say(f"{m.scenario:42} {m.why:68} {m.expect:18} {got}{'' if ok else '   <-- NOT CAUGHT'}")
    # Scenarios nobody touched must come out clean (apart from safe ones not fixed).
    mutated_names = {m.scenario for m in MUTATIONS}
    for name, r in results.items():
        if name not in mutated_names and set(r["problems"]) - {"not_fixed"}:
            failures.append(name)
            say(f"{name:42} {'(not mutated)':68} {'ok':18} {','.join(r['problems'])}   <-- FALSE ALARM")
    tidy_caught = tidy_self_test(base_dir, tmp)
    if tidy_caught < len(TIDY_MUTATIONS):
        failures.append("tidy")
    broken = sum(1 for r in results.values() if "broken" in r["problems"])
    caught = len(MUTATIONS) - len([f for f in failures if f in mutated_names])
    caught += tidy_caught
    say(f"e2e-self-test: mutations={len(MUTATIONS) + len(TIDY_MUTATIONS)} caught={caught} "
        f"broken={broken} result={'pass' if not failures and broken > 0 else 'FAIL'}")
    return not failures and broken > 0


# ---------------------------------------------------------------------- main


def fmt_counts(counts):
    return "-" if counts is None else "/".join(str(c) for c in counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true", help="only check that the suite catches wrong fixes")
    parser.add_argument("--djopt", help="djopt binary (default: $DJOPT, else cargo build --release)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies and print where they are")
    args = parser.parse_args()

    failures = []
    tmp = tempfile.mkdtemp(prefix="djopt-e2e-")
    if args.keep:
        say(f"-- temporary copies kept in {tmp}")
    try:
        ensure_venv()
        base_dir = copy_project(Path(tmp) / "baseline")
        say(f"-- baseline: {len(SIZES)} sizes {SIZES}")
        base = run_scenarios(base_dir, tmp)

        for name, rec in base.items():
            if any(rec["errors"]):
                failures.append(f"{name}: raises on the unmodified project: {next(e for e in rec['errors'] if e)}")
            if grows(rec["queries"]) != rec["nplusone"]:
                failures.append(
                    f"{name}: declared nplusone={rec['nplusone']} but queries {fmt_counts(rec['queries'])} "
                    f"{'grow' if grows(rec['queries']) else 'do not grow'} (the scenario is wrong)"
                )
        mismatched = {f.split(":", 1)[0] for f in failures}

        if args.self_test:
            ok = self_test(base, base_dir, tmp)
            for f in failures:
                say(f"FAIL: {f}")
            return 0 if ok and not failures else 1

        djopt = resolve_djopt(args.djopt)
        say(f"-- djopt: {djopt}")
        runs = {}
        idempotent = True
        other_changes = []
        for mode, flags in (("safe", ["fix"]), ("unsafe", ["fix", "--unsafe-fixes"])):
            copy = copy_project(Path(tmp) / f"fixed-{mode}")
            rc, note = run_djopt(djopt, flags, copy)
            say(f"-- djopt {note}")
            if rc is None or rc not in (0, 1):
                failures.append(f"djopt {note.splitlines()[0]}")
            first = snapshot(copy)
            try:
                after = run_scenarios(copy, tmp)
            except SuiteError as exc:  # e.g. djopt wrote a syntax error: every scenario is missing
                failures.append(f"[{mode}] the fixed project no longer runs: {exc}")
                after = {}
            results, others = evaluate(base, base_dir, after, copy, mode)
            runs[mode] = results
            other_changes += [f"[{mode}] {o}" for o in others]
            for err in compile_errors(copy, tmp):
                failures.append(f"[{mode}] does not compile: {err}")
            for problem in untidy(base_dir, copy):
                failures.append(f"[{mode}] untidy: {problem}")
            rc2, note2 = run_djopt(djopt, flags, copy)
            if rc2 is None or rc2 not in (0, 1):
                failures.append(f"djopt (second run) {note2.splitlines()[0]}")
            second = snapshot(copy)
            if first != second:
                idempotent = False
                diff = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
                failures.append(f"[{mode}] second `djopt {' '.join(flags)}` changed: {', '.join(diff)}")

        # ---- table
        say()
        header = f"{'scenario':44} {'declared':9} {'before':9} {'fix':9} {'unsafe':9} status"
        say(header)
        say("-" * len(header))
        fixed = broken = changed = 0
        grouped = {}
        for name, rec in base.items():
            decl = rec["fixed_by"] or ("may" if rec["may_change"] else "n+1" if rec["nplusone"] else "-")
            problems = []
            for mode in ("safe", "unsafe"):
                problems += [f"{p}({mode})" for p in runs[mode][name]["problems"]]
            if name in mismatched:
                problems.insert(0, "declaration_mismatch")
            if rec["fixed_by"] is not None:
                is_fixed = runs[rec["fixed_by"]][name]["fixed"]
            else:  # a fix nobody expected: counted, and reported as untouched_changed
                is_fixed = any(runs[mode][name]["fixed"] for mode in runs)
            if is_fixed:
                fixed += 1
            if any(p.startswith(("broken", "missing")) for p in problems):
                broken += 1
            if any(p.startswith("untouched_changed") for p in problems):
                changed += 1
            status = ", ".join(problems) or ("fixed" if is_fixed else "open" if rec["nplusone"] else "ok")
            say(
                f"{name:44} {decl:9} {fmt_counts(rec['queries']):9} {fmt_counts(runs['safe'][name]['queries']):9} "
                f"{fmt_counts(runs['unsafe'][name]['queries']):9} {status}"
            )
            for p in problems:
                if not p.startswith(("broken", "missing", "untouched_changed", "declaration_mismatch")):
                    grouped.setdefault(p, []).append(name)
        say()
        say("declared: safe/unsafe = fix expected from `fix`/`fix --unsafe-fixes`; n+1 = N+1 djopt must leave alone;")
        say("          may = may change, results checked only; - = must stay untouched.  counts: queries at sizes "
            + "/".join(map(str, SIZES)))
        for problem, names in grouped.items():
            failures.append(f"{problem}: {', '.join(names)}")
        details = []
        for mode in ("safe", "unsafe"):
            for name, r in runs[mode].items():
                bad = [p for p in r["problems"] if p in ("broken", "missing", "untouched_changed")]
                if not bad:
                    continue
                why = f" -> {r['error']}" if r["error"] else ""
                details.append(f"[{mode}] {name}: {', '.join(bad)}{why}")
                if r["diff"]:
                    details += ["    " + line for line in r["diff"].rstrip("\n").splitlines()[:40]]
        if details:
            say("details (djopt fix vs --unsafe-fixes):")
            for line in details:
                say(line)
        changed += len(other_changes)
        for o in other_changes:
            say(f"CHANGED outside scenarios: {o}")
        if broken:
            failures.append(f"{broken} scenario(s) broken: results differ after the fix")
        if changed:
            failures.append(f"{changed} function(s)/file(s) changed that must stay untouched")

        say()
        selftest_ok = self_test(base, base_dir, tmp)
        if not selftest_ok:
            failures.append("self-test: the suite failed to catch a deliberately wrong fix")

        say()
        for f in failures:
            say(f"FAIL: {f}")
        nplusone = sum(1 for rec in base.values() if grows(rec["queries"]))
        say(
            f"e2e: scenarios={len(base)} nplusone={nplusone} fixed={fixed} broken={broken} "
            f"untouched_changed={changed} idempotent={'yes' if idempotent else 'no'}"
        )
        return 1 if failures else 0
    except SuiteError as exc:
        say(f"FAIL: {exc}")
        say("e2e: scenarios=0 nplusone=0 fixed=0 broken=0 untouched_changed=0 idempotent=no")
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
