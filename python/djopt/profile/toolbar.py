"""A Django Debug Toolbar panel: the request's N+1 query groups, each with the finding of
djopt's static checker that explains it and the ``djopt fix`` command that would remove it.

    DEBUG_TOOLBAR_PANELS = [*debug_toolbar.settings.PANELS_DEFAULTS,
                            "djopt.profile.toolbar.DjoptPanel"]

Importing this module imports the toolbar; nothing else in djopt.profile does. The panel
records on its own (it needs neither the middleware nor a profile file). The static check
runs when the panel is opened, on the files of the N+1 groups' frames, with the djopt command
of ``DJOPT_PROFILE["djopt"]``, ``$DJOPT``, the Python environment's scripts or the PATH.
"""

import sys

from debug_toolbar.panels import Panel
from django.utils.html import format_html, format_html_join, mark_safe

from . import _config, _core, _static


def _ms(value):
    return f"{value:.2f} ms"


class DjoptPanel(Panel):
    title = "djopt: N+1 queries"
    nav_title = "djopt N+1"
    is_async = False  # the recording follows a sync request; under ASGI the toolbar skips it

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._record = None

    @property
    def nav_subtitle(self):
        record = self.get_stats().get("record")
        if not record:
            return ""
        n, q = record["n_plus_one"], record["queries"]
        return f"{n} N+1 group{'' if n == 1 else 's'} in {q} quer{'y' if q == 1 else 'ies'}"

    def process_request(self, request):
        profiler, self._conf = _config.profiler(file="")
        rec = profiler.start("request", f"{request.method} {request.path}", sys._getframe(0))
        try:
            return super().process_request(request)
        finally:
            self._record = profiler.stop(rec, write=False)

    def generate_stats(self, request, response):
        if self._record is not None:
            self._record["status"] = getattr(response, "status_code", None)
            self.record_stats({"record": self._record, "djopt": self._conf.get("djopt")})

    @property
    def content(self):
        stats = self.get_stats()
        record = stats.get("record")
        if not record:
            return format_html("<p>{}</p>", "No queries were recorded for this request.")
        explained = _static.explain(record, [])
        error = None
        if explained:
            findings, error = _static.check(
                record["root"],
                _static.n_plus_one_files([record]),
                _static.djopt_binary(stats.get("djopt")),
            )
            explained = _static.explain(record, findings)
        return render(record, explained, error)


def _frames(group):
    return format_html_join(
        "",
        "<li><code>{}:{}</code> in <code>{}</code></li>",
        ((f["file"], f["line"], f["function"]) for f in group.get("frames") or []),
    )


def render(record, explained, error=None):
    """The panel's HTML for a record and the output of ``_static.explain``."""
    summary = format_html(
        "<p>{} quer{} in {}; {} N+1 group{} (a SELECT run {} times or more from the same "
        "line); project code under <code>{}</code>.</p>",
        record["queries"],
        "y" if record["queries"] == 1 else "ies",
        _ms(record["time_ms"]),
        record["n_plus_one"],
        "" if record["n_plus_one"] == 1 else "s",
        record["threshold"],
        record["root"],
    )
    if not explained:
        return summary
    rows = []
    for group, finding, command in explained:
        where = (
            format_html("<code>{}:{}</code>", group["file"], group["line"])
            if group["file"]
            else format_html("{}", "no frame in the project's code")
        )
        template = group.get("template")
        if template:
            where = format_html(
                "{}<br>template <code>{}:{}</code>", where, template["name"], template["line"]
            )
        if finding:
            static = format_html(
                "<strong>{}</strong> <code>{}:{}</code>: {}<br>{}",
                finding["rule"],
                finding["path"],
                finding["line"],
                finding["message"],
                format_html("fix: <code class=\"djopt-fix\">{}</code>", command)
                if command
                else format_html("{}", "no automatic fix"),
            )
        elif error:
            static = format_html("{}", error)
        else:
            static = format_html(
                "djopt check finds nothing on these lines: <code>{}</code>",
                "djopt check " + (group["file"] or "."),
            )
        rows.append(
            format_html(
                "<tr><td>{}&times;</td><td>{}</td><td>{}<details><summary>call path</summary>"
                "<ul>{}</ul></details></td><td><div class=\"djDebugSql\"><code>{}</code></div>"
                "<details><summary>example</summary><code>{}</code></details></td><td>{}</td></tr>",
                group["count"],
                _ms(group["time_ms"]),
                where,
                _frames(group),
                group["sql"],
                group["example"],
                static,
            )
        )
    table = format_html(
        "<table class=\"djopt-n-plus-one\"><thead><tr><th>runs</th><th>time</th><th>where</th>"
        "<th>query</th><th>djopt</th></tr></thead><tbody>{}</tbody></table>",
        mark_safe("".join(rows)),
    )
    return summary + table
