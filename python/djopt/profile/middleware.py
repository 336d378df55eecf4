"""A middleware that records the queries of each request, for a development server:

    MIDDLEWARE = [..., "djopt.profile.ProfileMiddleware"]
    DJOPT_PROFILE = {"file": BASE_DIR / "djopt-profile.jsonl"}   # optional

Each request appends one record (kind ``request``, id ``METHOD /path``) to the file. It is
active when ``settings.DEBUG`` is true, or when ``DJOPT_PROFILE["enabled"]`` says so; paths
under ``STATIC_URL``, ``MEDIA_URL`` and ``/__debug__/`` (the Debug Toolbar) are not recorded
(``DJOPT_PROFILE["skip"]``: a list of path prefixes instead). Queries that run after the
response leaves the middleware (a streaming response's iterator) are not seen.
"""

import sys

from . import _config

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
except ImportError:  # asgiref < 3.8
    from asyncio import iscoroutinefunction

    def markcoroutinefunction(func):
        import asyncio

        func._is_coroutine = asyncio.coroutines._is_coroutine
        return func


def _skip_prefixes(conf):
    if conf.get("skip") is not None:
        return tuple(str(p) for p in conf["skip"])
    from django.conf import settings

    prefixes = ["/__debug__/"]
    for name in ("STATIC_URL", "MEDIA_URL"):
        url = getattr(settings, name, None)
        if url and str(url).startswith("/") and str(url) != "/":
            prefixes.append(str(url))
    return tuple(prefixes)


class ProfileMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        from django.conf import settings
        from django.core.exceptions import MiddlewareNotUsed

        self.profiler, conf = _config.profiler()
        if not conf.get("enabled", settings.DEBUG) or not self.profiler.file:
            raise MiddlewareNotUsed("djopt.profile: not recording (DEBUG is off)")
        self.skip = _skip_prefixes(conf)
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _start(self, request, frame):
        if request.path.startswith(self.skip):
            return None
        return self.profiler.start("request", f"{request.method} {request.path}", frame)

    def _stop(self, rec, response):
        if rec is not None:
            self.profiler.stop(rec, status=getattr(response, "status_code", None))

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        # The view runs below this frame: the walk up the stack from a query stops here.
        rec = self._start(request, sys._getframe(0))
        response = None
        try:
            response = self.get_response(request)
            return response
        finally:
            self._stop(rec, response)

    async def __acall__(self, request):
        rec = self._start(request, None)
        response = None
        try:
            response = await self.get_response(request)
            return response
        finally:
            self._stop(rec, response)
