"""The operations web console, served under ``/console`` by ``revbridge serve``.

It owns the console's pages (overview, deals, exceptions, replays, configuration), its
sign-in with users and sessions (argon2 passwords, HttpOnly cookies, a CSRF token in every
form) and its templates and stylesheet. Pages are server-rendered with Jinja2; there is
no JavaScript. Reads use the same store queries as API v1 and actions go through
:mod:`revbridge.cases.actions`, with the API's roles (:data:`revbridge.api.auth.ROLES`) and
object-level rule (:func:`revbridge.api.auth.may_act_on`). See docs/console.md.
"""

from __future__ import annotations

from revbridge.console.site import PATH, build

__all__ = ["PATH", "build"]
