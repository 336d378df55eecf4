"""Loaded by bench/suites/run (on PYTHONPATH, so `site` imports it at start-up in every process of
a suite run, the test runner's workers included): records which of the lines djopt wrote are
executed, so that "no test changed its outcome" can be told apart from "no test ran the fix".

Does nothing unless DJOPT_BENCH_LINES names a JSON file {absolute path: [line, ...]}. Each such
line, the first time any process executes it, is appended as "path:line" to DJOPT_BENCH_LINES_OUT
(O_APPEND, one write per line, so that workers ending with os._exit lose nothing). Uses
sys.monitoring (Python 3.12+); on older Pythons it records nothing and says so in the output.
"""
import os
import sys


def _install():
    spec, out = os.environ.get("DJOPT_BENCH_LINES"), os.environ.get("DJOPT_BENCH_LINES_OUT")
    if not spec or not out:
        return
    import json

    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        os.write(fd, b"#unsupported: no sys.monitoring before Python 3.12\n")
        return
    with open(spec) as f:
        wanted = {os.path.realpath(p): set(lines) for p, lines in json.load(f).items()}
    tool = next((t for t in range(5, 0, -1) if mon.get_tool(t) is None), None)
    if tool is None:
        os.write(fd, b"#unsupported: no free sys.monitoring tool id\n")
        return
    by_name = {}  # co_filename -> the wanted lines of that file, or None
    DISABLE = mon.DISABLE
    realpath, write = os.path.realpath, os.write

    def on_line(code, line):
        name = code.co_filename
        hit = by_name.get(name, False)
        if hit is False:  # first time this file is seen: (real path, wanted lines) or None
            real = realpath(name) if name and not name.startswith("<") else None
            hit = by_name[name] = (real, wanted[real]) if real in wanted else None
        if hit is not None and line in hit[1]:
            write(fd, f"{hit[0]}:{line}\n".encode("utf-8", "surrogateescape"))
        return DISABLE  # each code location reports once

    mon.use_tool_id(tool, "djopt-bench-lines")
    mon.register_callback(tool, mon.events.LINE, on_line)
    mon.set_events(tool, mon.events.LINE)


try:
    _install()
except Exception as e:  # never break the suite under test
    sys.stderr.write(f"[djopt bench] line recording disabled: {e!r}\n")
