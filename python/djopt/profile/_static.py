"""What djopt's static checker says about the N+1 groups of a record: runs ``djopt check
--format json`` on the files of the groups' frames and matches its findings to the groups.

A finding matches a group when, trying each frame of the group innermost first: it is on the
frame's line; else its message names the frame's (or the group's template's) ``file:line``
(the framework rules list the reads they found that way); else it is inside the frame's
function. The first frame that matches wins.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig


def djopt_binary(configured=None):
    """The djopt command: the configured path, $DJOPT, the one next to this Python (the wheel
    installs it in the environment's scripts folder), or the PATH's."""
    for candidate in (configured, os.environ.get("DJOPT")):
        if candidate:
            return str(candidate)
    scripts = sysconfig.get_path("scripts")
    for name in ("djopt", "djopt.exe"):
        path = os.path.join(scripts, name) if scripts else None
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("djopt")


def check(root, files, binary, timeout=60):
    """djopt's findings for ``files`` (paths relative to ``root``): (findings, error)."""
    if not binary:
        return [], "the djopt command was not found (set DJOPT_PROFILE['djopt'] or $DJOPT)"
    files = sorted({f for f in files if f and os.path.isfile(os.path.join(root, f))})
    if not files:
        return [], None
    try:
        proc = subprocess.run(
            [binary, "check", "--format", "json", "--color", "never", *files],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return [], f"djopt check failed to run: {exc}"
    if proc.returncode not in (0, 1):
        return [], f"djopt check exited {proc.returncode}: {proc.stderr.strip()[:500]}"
    try:
        findings = json.loads(proc.stdout or "[]")
    except ValueError as exc:
        return [], f"djopt check printed no JSON: {exc}"
    for f in findings:
        f["path"] = f.get("path", "").replace(os.sep, "/")
        if f["path"].startswith("./"):
            f["path"] = f["path"][2:]
    return findings, None


def _mentions(message, file, line):
    if not file or not line:
        return False
    # The message names reads as `path:line`, a path relative to the app or template folder.
    for m in re.finditer(r"([\w./-]+):(\d+)\b", message):
        named, named_line = m.group(1), int(m.group(2))
        if named_line == line and (file == named or file.endswith("/" + named)):
            return True
    return False


def match(group, findings):
    """The finding that explains ``group`` (a dict of a record's ``groups``), or None."""
    frames = group.get("frames") or []
    by_path = {}
    for f in findings:
        by_path.setdefault(f["path"], []).append(f)
    for frame in frames:
        for f in by_path.get(frame["file"], ()):
            if f.get("line") == frame["line"]:
                return f
    template = group.get("template") or {}
    for frame in frames:
        for f in findings:
            message = f.get("message", "")
            if _mentions(message, frame["file"], frame["line"]):
                return f
            if template and (
                _mentions(message, template.get("name"), template.get("line"))
                or _mentions(message, template.get("file"), template.get("line"))
            ):
                return f
    for frame in frames:
        for f in by_path.get(frame["file"], ()):
            if frame.get("first_line", 0) <= f.get("line", 0) <= frame.get("last_line", 0):
                return f
    return None


def fix_command(finding):
    """The ``djopt fix`` command line that applies the finding's fix (run from the root), or
    None when it has no automatic fix."""
    fix = finding.get("fix") or {}
    applicability = fix.get("applicability")
    if applicability not in ("safe", "unsafe"):
        return None
    parts = ["djopt", "fix"]
    if applicability == "unsafe":
        parts.append("--unsafe-fixes")
    parts += ["--select", finding["rule"], finding["path"]]
    return " ".join(shlex.quote(p) for p in parts)


def n_plus_one_files(records):
    return {fr["file"] for r in records for g in r.get("groups", []) if g.get("n_plus_one")
            for fr in g.get("frames") or []}


def explain(record, findings):
    """For each N+1 group of ``record``: (group, finding or None, fix command or None)."""
    out = []
    for g in record.get("groups", []):
        if g.get("n_plus_one"):
            finding = match(g, findings)
            out.append((g, finding, fix_command(finding) if finding else None))
    return out


def main(argv=None):
    """``python -m djopt.profile FILE``: each N+1 group of a profile with djopt's matching
    finding and the fix command (a stand-in until djopt reads profiles itself)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m djopt.profile FILE", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    binary = djopt_binary()
    findings = {}
    for root in sorted({r["root"] for r in records}):
        of_root = [r for r in records if r["root"] == root]
        findings[root], error = check(root, n_plus_one_files(of_root), binary)
        if error:
            print(f"({error})")
    seen = 0
    for record in records:
        explained = explain(record, findings[record["root"]])
        if not explained:
            continue
        print(f"{record['kind']} {record['id']}: {record['queries']} queries, "
              f"{record['n_plus_one']} N+1")
        for g, finding, command in explained:
            seen += 1
            where = f"{g['file']}:{g['line']}" if g["file"] else "(no frame in the project)"
            print(f"  {g['count']}x {where}  {g['sql'][:100]}")
            if finding:
                print(f"    {finding['rule']} {finding['path']}:{finding['line']}: {finding['message']}")
                print(f"    {command or 'no automatic fix'}")
            else:
                print("    djopt check has no finding on these lines")
    print(f"{seen} N+1 groups in {len(records)} records")
    return 0
