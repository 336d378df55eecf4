"""The recorder: one execute wrapper on every database connection, recordings that group the
queries they see, and the JSON Lines writer. Django is imported only when recording starts.

The format written here is documented in docs/profile.md and tests/schemas/profile.schema.json
of djopt's repository; FORMAT_VERSION changes whenever a field changes meaning or goes away.
"""

import contextvars
import datetime
import dis
import itertools
import json
import linecache
import os
import re
import sys
import sysconfig
import threading
import time

try:
    import fcntl
except ImportError:  # Windows: appends are not locked (see docs/profile.md)
    fcntl = None

FORMAT = "djopt-profile"
FORMAT_VERSION = 1
DEFAULT_THRESHOLD = 3
DEFAULT_FILE = "djopt-profile.jsonl"
MAX_FRAMES = 32  # project frames kept per query (innermost first)
MAX_EXAMPLE = 2000  # characters of an example query
_PY311 = sys.version_info >= (3, 11)

# The recordings that see the queries of the current thread or task. A tuple: a toolbar panel
# and the middleware may record the same request.
_active = contextvars.ContextVar("djopt_profile_recordings", default=())


# ---------------------------------------------------------------------------------------------
# SQL normalization

_STRING = re.compile(r"'(?:[^']|'')*'")
_SPACE = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+")
_NUMBER = re.compile(r"(?<![\w.\"`$])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w\"`])")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_ROWS = re.compile(r"\(\?\)(?:\s*,\s*\(\?\))+")
_SAVEPOINT = re.compile(
    r"^((?:RELEASE |ROLLBACK TO )?SAVEPOINT) \S+$", re.IGNORECASE
)
_norm_cache = {}
_op_cache = {}


def normalize_sql(sql):
    """The shape of a statement: literals and placeholders become ``?``, a parenthesized list
    of them (an IN list, a VALUES row) becomes ``(?)``, rows of VALUES one row, whitespace one
    space. ``%%`` (an escaped percent sign in Django's SQL) becomes ``%``."""
    s = _STRING.sub("?", sql)
    s = _SPACE.sub(" ", s).strip()
    s = s.replace("%%", "\0")
    s = _PLACEHOLDER.sub("?", s)
    s = s.replace("\0", "%")
    s = _NUMBER.sub("?", s)
    s = _LIST.sub("(?)", s)
    s = _ROWS.sub("(?)", s)
    s = _SAVEPOINT.sub(r"\1 ?", s)
    return s


def _normalized(sql):
    norm = _norm_cache.get(sql)
    if norm is None:
        if not isinstance(sql, str):
            sql = str(sql)  # psycopg's sql.Composed and friends
        norm = normalize_sql(sql)
        if len(_norm_cache) > 4096:
            _norm_cache.clear()
        _norm_cache[sql] = norm
    return norm


def statement_kind(norm):
    """The statement's first keyword, lowercase: select, insert, update, delete, with,
    savepoint, release, ... (``other`` when it starts with none)."""
    op = _op_cache.get(norm)
    if op is None:
        m = re.match(r"\(*\s*([A-Za-z]+)", norm)
        op = m.group(1).lower() if m else "other"
        if len(_op_cache) > 4096:
            _op_cache.clear()
        _op_cache[norm] = op
    return op


def _literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value)[:64].hex() + "'"
    if isinstance(value, (datetime.date, datetime.time)):
        value = value.isoformat()
    text = str(value)
    if len(text) > 200:
        text = text[:200] + "..."
    return "'" + text.replace("'", "''") + "'"


def interpolate(sql, params):
    """The statement with its parameters written in, for reading (not always valid SQL)."""
    if not isinstance(sql, str):
        sql = str(sql)
    try:
        if isinstance(params, dict):
            out = re.sub(
                r"%\((\w+)\)s",
                lambda m: _literal(params[m.group(1)]) if m.group(1) in params else m.group(0),
                sql,
            )
        elif params:
            values = iter(params)
            out = re.sub(r"%s", lambda m: _literal(next(values, None)), sql)
        else:
            out = sql
        out = out.replace("%%", "%")
    except Exception:
        out = sql
    if len(out) > MAX_EXAMPLE:
        out = out[:MAX_EXAMPLE] + "..."
    return out


# ---------------------------------------------------------------------------------------------
# Which frames are the project's own code


def _real(path):
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


_PACKAGE_DIR = _real(os.path.dirname(os.path.dirname(__file__)))  # .../djopt
_LIBRARY_DIRS = tuple(
    sorted(
        {
            _real(p) + os.sep
            for key in ("stdlib", "platstdlib")
            for p in [sysconfig.get_paths().get(key)]
            if p
        }
    )
)


class Classifier:
    """Maps a code object's file name to its path relative to the root (``/`` separators), or
    to None for frames that are not the project's own: outside the root, in site-packages or
    dist-packages, in the standard library, or in djopt itself. One per root, cached."""

    _by_root = {}
    _lock = threading.Lock()

    @classmethod
    def for_root(cls, root):
        root = _real(root)
        with cls._lock:
            found = cls._by_root.get(root)
            if found is None:
                found = cls._by_root[root] = cls(root)
        return found

    def __init__(self, root):
        self.root = root
        self._prefix = root.rstrip(os.sep) + os.sep
        self.files = {}

    def relative(self, path):
        """``path`` relative to the root with ``/`` separators, or None outside it."""
        real = _real(path)
        if not real.startswith(self._prefix):
            return None
        return real[len(self._prefix):].replace(os.sep, "/")

    def classify(self, filename):
        rel = None
        if filename and not filename.startswith("<"):
            real = _real(filename)
            parts = real.split(os.sep)
            if (
                real.startswith(self._prefix)
                and "site-packages" not in parts
                and "dist-packages" not in parts
                and not real.startswith(_LIBRARY_DIRS)
                and not (real + os.sep).startswith(_PACKAGE_DIR + os.sep)
            ):
                rel = real[len(self._prefix):].replace(os.sep, "/")
        self.files[filename] = rel
        return rel


_spans = {}


def _function_span(code):
    key = (code.co_filename, code.co_firstlineno, code.co_name)
    span = _spans.get(key)
    if span is None:
        lines = [line for _, line in dis.findlinestarts(code) if line]
        for const in code.co_consts:  # nested functions and comprehensions before 3.12
            if hasattr(const, "co_code"):
                start, end = _function_span(const)
                lines.append(end)
        span = (code.co_firstlineno, max(lines) if lines else code.co_firstlineno)
        if len(_spans) > 8192:
            _spans.clear()
        _spans[key] = span
    return span


def _column(frame):
    """1-based column (in characters) of the expression the frame is executing, or None."""
    if not _PY311:
        return None
    try:
        code = frame.f_code
        pos = next(itertools.islice(code.co_positions(), frame.f_lasti // 2, None), None)
        if not pos or pos[2] is None:
            return None
        text = linecache.getline(code.co_filename, pos[0])
        if not text:
            return pos[2] + 1
        return len(text.encode("utf-8")[: pos[2]].decode("utf-8", "replace")) + 1
    except Exception:
        return None


def _frame_info(frame, rel):
    code = frame.f_code
    first, last = _function_span(code)
    info = {
        "file": rel,
        "line": frame.f_lineno,
        "function": getattr(code, "co_qualname", code.co_name),
        "first_line": first,
        "last_line": max(last, frame.f_lineno),
    }
    col = _column(frame)
    if col is not None:
        info["column"] = col
    return info


def _template_info(frame, classifier):
    """The innermost Django template node on the stack: template name, file, line."""
    f = frame
    while f is not None:
        code = f.f_code
        if code.co_name == "render_annotated" and code.co_filename.endswith(
            os.path.join("django", "template", "base.py")
        ):
            node = f.f_locals.get("self")
            token = getattr(node, "token", None)
            origin = getattr(node, "origin", None)
            if token is None or origin is None:
                return None
            name = getattr(origin, "template_name", None) or str(origin.name)
            path = getattr(origin, "name", None)
            rel = classifier.relative(path) if isinstance(path, str) and os.path.isabs(path) else None
            return {"name": str(name), "file": rel, "line": token.lineno}
        f = f.f_back
    return None


# ---------------------------------------------------------------------------------------------
# Recording


class Group:
    __slots__ = (
        "index", "db", "sql", "op", "count", "seconds", "params", "paths",
        "first", "example", "file", "line", "frames", "template",
    )

    def __init__(self, index, db, sql, first):
        self.index = index
        self.db = db
        self.sql = sql
        self.op = statement_kind(sql)
        self.count = 0
        self.seconds = 0.0
        self.params = set()
        self.paths = set()
        self.first = first
        self.example = None
        self.file = None
        self.line = None
        self.frames = []
        self.template = None


_MISSING = object()


def _params_key(params):
    if type(params) is list:
        return tuple(params)
    if isinstance(params, dict):
        return tuple(sorted(params.items()))
    return params


class Recording:
    """The queries of one test or request, grouped by (database, normalized SQL, innermost
    project frame). Fed by the execute wrapper while it is active."""

    def __init__(self, kind, id, classifier, threshold, stop_frame=None):
        self.kind = kind
        self.id = id
        self.classifier = classifier
        self.threshold = threshold
        self.started_at = time.time()
        self.queries = 0
        self.seconds = 0.0
        self.groups = {}
        self.order = []
        self.sequence = []  # the group index of every query, in order
        self._stop_frame = stop_frame  # where the walk up the stack ends (the recording's caller)
        self.result = None

    def add(self, db, sql, params, many, elapsed, frame):
        files = self.classifier.files
        stop = self._stop_frame
        path = []
        inner = []
        f = frame
        while f is not None and f is not stop:
            fn = f.f_code.co_filename
            rel = files.get(fn, _MISSING)
            if rel is _MISSING:
                rel = self.classifier.classify(fn)
            if rel is not None:
                path.append((rel, f.f_lineno))
                inner.append(f)
                if len(path) == MAX_FRAMES:
                    break
            f = f.f_back
        norm = _normalized(sql)
        key = (db, norm, path[0]) if path else (db, norm, None)
        group = self.groups.get(key)
        if group is None:
            group = self._new_group(key, db, norm, sql, params, many, path, inner, frame)
        group.count += 1
        group.seconds += elapsed
        if group.params is not None:
            try:
                if many:
                    raise TypeError  # one statement, many parameter sets
                group.params.add(_params_key(params))
            except TypeError:
                group.params = None
        group.paths.add(tuple(path))
        self.queries += 1
        self.seconds += elapsed
        self.sequence.append(group.index)

    def _new_group(self, key, db, norm, sql, params, many, path, inner, frame):
        group = Group(len(self.order), db, norm, len(self.sequence))
        if many:
            params = params[0] if isinstance(params, (list, tuple)) and params else None
        group.example = (sql, params)
        if path:
            group.file, group.line = path[0]
            group.frames = [_frame_info(f, rel) for f, (rel, _) in zip(inner, path)]
        try:
            group.template = _template_info(frame, self.classifier)
        except Exception:
            group.template = None
        self.groups[key] = group
        self.order.append(group)
        return group

    def finish(self, **extra):
        """The record (a dict ready for JSON); ``extra`` adds fields such as outcome, status."""
        self._stop_frame = None
        flagged = {
            g.index
            for g in self.order
            if g.count >= self.threshold and g.op in ("select", "with")
        }
        groups = []
        for g in self.order:
            sql, params = g.example
            item = {
                "db": g.db,
                "op": g.op,
                "sql": g.sql,
                "example": interpolate(sql, params),
                "count": g.count,
                "time_ms": round(g.seconds * 1000.0, 3),
                "n_plus_one": g.index in flagged,
                "distinct_params": len(g.params) if g.params is not None else None,
                "callers": len(g.paths),
                "first": g.first,
                "fed_by": self._fed_by(g, flagged) if g.index in flagged else None,
                "file": g.file,
                "line": g.line,
                "frames": g.frames,
            }
            if g.template is not None:
                item["template"] = g.template
            groups.append(item)
        started = datetime.datetime.fromtimestamp(self.started_at, datetime.timezone.utc)
        record = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "id": self.id,
            "run": None,
            "started_at": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "root": self.classifier.root,
            "threshold": self.threshold,
            "queries": self.queries,
            "time_ms": round(self.seconds * 1000.0, 3),
            "n_plus_one": len(flagged),
            "groups": groups,
        }
        record.update(extra)
        self.result = record
        self.sequence = []
        return record

    def _fed_by(self, group, flagged):
        """The group of the nearest SELECT before ``group``'s first that is not itself flagged
        (repeated per row): most often the query that loaded the rows of the loop."""
        order = self.order
        for i in range(group.first - 1, -1, -1):
            g = order[self.sequence[i]]
            if g.index not in flagged and g.op in ("select", "with"):
                return g.index
        return None


def _wrapper(execute, sql, params, many, context):
    recordings = _active.get()
    if not recordings:
        return execute(sql, params, many, context)
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = time.perf_counter() - start
        frame = sys._getframe(1)
        try:
            db = context["connection"].alias
        except Exception:
            db = "default"
        for rec in recordings:
            try:
                rec.add(db, sql, params, many, elapsed, frame)
            except Exception:  # never break the query because of the recorder
                pass
        del frame


_installed = None  # the process id that connected the signal
_install_lock = threading.Lock()


def _attach(connection, **kwargs):
    wrappers = connection.execute_wrappers
    if _wrapper not in wrappers:
        # First, so the outermost: a `with connection.execute_wrapper(...)` of the project,
        # which pops the last wrapper when it ends, never removes this one.
        wrappers.insert(0, _wrapper)


def install():
    """Puts the wrapper on every connection of this thread, and on every connection opened
    from now on (``connection_created``). Idempotent; needs configured Django settings."""
    global _installed
    from django.db import connections
    from django.db.backends.signals import connection_created

    with _install_lock:
        if _installed != os.getpid():
            connection_created.connect(_attach, weak=False, dispatch_uid="djopt.profile")
            _installed = os.getpid()
    for conn in connections.all():
        _attach(conn)


def activate(recording):
    _active.set(_active.get() + (recording,))


def deactivate(recording):
    _active.set(tuple(r for r in _active.get() if r is not recording))


# ---------------------------------------------------------------------------------------------
# Writing


def append_record(path, record):
    """Appends one JSON line with a single write to a file opened for appending, under an
    exclusive lock where the platform has flock: parallel workers never interleave lines."""
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode(
        "utf-8"
    )
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def truncate(path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8"):
        pass


_process_run = None  # (pid, run id): one run per process


def new_run_id():
    """The run id of this process: its start time and pid, the same for every profiler it
    makes (Django builds the middleware again for each test client's handler; those
    recordings are still one run), a new one in a forked child."""
    global _process_run
    pid = os.getpid()
    if _process_run is None or _process_run[0] != pid:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        _process_run = (pid, f"{stamp}-{pid}")
    return _process_run[1]


class Profiler:
    """Settings shared by the recordings of one test run or server: where records go (None:
    nowhere, the caller keeps ``recording.result``), the root of the project's own code, the
    N+1 threshold and the run id written in every record."""

    def __init__(self, file=None, root=None, threshold=None, run=None):
        self.file = os.path.abspath(file) if file else None
        self.root = _real(root or os.getcwd())
        self.threshold = int(threshold) if threshold else DEFAULT_THRESHOLD
        if self.threshold < 1:
            raise ValueError("the N+1 threshold must be at least 1")
        self.run = run or new_run_id()
        self.classifier = Classifier.for_root(self.root)

    def start(self, kind, id, stop_frame=None):
        install()  # cheap when done: the connections of this thread (a forked worker's too)
        rec = Recording(kind, id, self.classifier, self.threshold, stop_frame)
        activate(rec)
        return rec

    def stop(self, recording, write=True, **extra):
        deactivate(recording)
        record = recording.finish(**extra)
        record["run"] = self.run
        if write and self.file:
            append_record(self.file, record)
        return record
