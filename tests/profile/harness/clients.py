"""Drives the test project with Django's test clients, inside tests/profile/.venv; started by
tests/profile/run from the project copy's folder:

    python clients.py middleware PROFILE   # SHOP_PROFILE_MIDDLEWARE=PROFILE in the environment
    python clients.py toolbar OUT.json     # the Debug Toolbar with djopt's panel

Prints nothing on success but what the runner reads; the runner makes the assertions.
"""

import asyncio
import json
import os
import re
import sys


def setup(settings_module):
    sys.path.insert(0, os.getcwd())
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    from shop.data import make_books

    make_books(5)


def middleware():
    setup("shopproj.settings")
    from django.test import AsyncClient, Client

    client = Client()
    statuses = {
        "/books/n1/": client.get("/books/n1/").status_code,
        "/books/ok/": client.get("/books/ok/").status_code,
        "/static/site.css": client.get("/static/site.css").status_code,
    }

    async def fetch():
        return (await AsyncClient().get("/async/")).status_code

    statuses["/async/"] = asyncio.run(fetch())
    print(json.dumps(statuses))


def toolbar(out):
    setup("shopproj.settings_toolbar")
    from django.test import Client

    client = Client()
    result = {}
    for page in ("/books/n1/", "/report/", "/books/ok/"):
        response = client.get(page, REMOTE_ADDR="127.0.0.1")
        html = response.content.decode()
        found = re.search(r'data-request-id="([0-9a-f]+)"', html)
        entry = {
            "status": response.status_code,
            "toolbar": "djDebug" in html,
            "nav": re.findall(r"djopt N\+1.*?</small>", html, re.S)[:1],
            "request_id": found.group(1) if found else None,
        }
        if found:
            panel = client.get(
                "/__debug__/render_panel/",
                {"request_id": found.group(1), "panel_id": "DjoptPanel"},
                REMOTE_ADDR="127.0.0.1",
            )
            entry["panel_status"] = panel.status_code
            entry["panel"] = panel.json().get("content", "") if panel.status_code == 200 else ""
            from debug_toolbar.toolbar import DebugToolbar

            stored = DebugToolbar.fetch(found.group(1), "DjoptPanel")
            panel_obj = stored.get_panel_by_id("DjoptPanel") if stored else None
            entry["record"] = panel_obj.get_stats().get("record") if panel_obj else None
        result[page] = entry
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)


def main():
    what = sys.argv[1]
    if what == "middleware":
        middleware()
    elif what == "toolbar":
        toolbar(sys.argv[2])
    else:
        raise SystemExit(f"unknown: {what}")


if __name__ == "__main__":
    main()
