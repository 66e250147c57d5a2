"""The served dashboard's HTTP protections: `flowlogs serve` and `panel serve dashboard/app.py`.

- **Sign-out ends the session.** Panel's login cookie is signed by the cookie secret and valid for
  days, and its /logout only asks the browser to drop it: a copy kept elsewhere still opened the
  page. Each sign-out is recorded (the store's `signouts` table: user, time) and a login cookie
  issued at or before its user's last sign-out is refused on every request and websocket, in every
  process serving that data location, also after a restart. Signing out ends every session of
  that user opened before it (the cookie only says when it was issued, to the second: signing in
  again within the second of a sign-out is refused once).
- **Unknown users are refused.** With a users file, a signed cookie of a user who is no longer in
  it (removed, same cookie secret, server restarted) opens nothing.
- **No framing, SameSite cookies.** Every response says `X-Frame-Options: DENY` and
  `Content-Security-Policy: frame-ancestors 'none'` (no other site can frame the page and steer
  clicks on Delete or Clear all), and every cookie is `SameSite=Lax` unless set otherwise.

`install(access, store)` puts these in place once per process. Panel builds its login, logout and
auth provider from its own classes (under `panel serve` from its command line, before any of our
code runs), so the checks wrap those classes' methods, and tornado's RequestHandler gets the headers
and the cookie attribute. `flowlogs serve` installs them before the server starts; `panel serve`
runs app.py with the first page, or at start-up with `--warm` (README: use it).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from .auth import AccessConfig
from .store import Store

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
SAMESITE = "Lax"  # not Strict: an OAuth provider redirects back to /login from another site
LOGIN_COOKIE = "user"  # Panel's signed login cookie


def issued_at(signed: str | None) -> int | None:
    """The second a tornado signed cookie value was issued at (it is part of the signed text), or None.

    Version 2 is `2|1:0|10:1733440000|4:user|...|signature` (length-prefixed fields), version 1
    `value|timestamp|signature`. The signature is checked by whoever read the user from it."""
    if not signed:
        return None
    parts = signed.split("|")
    if parts[0] == "2" and len(parts) > 2:
        text = parts[2].partition(":")[2]
    elif len(parts) == 3:
        text = parts[1]
    else:
        return None
    return int(text) if text.isdigit() else None


class SignOuts:
    """When each user last signed out: the store's `signouts` table, shared by every process (on every
    host) serving the data location."""

    def __init__(self, store: Store):
        self.table = store.tables["signouts"]
        self.store = store
        self._version = -2
        self._times: dict[str, float] | None = {}  # None: the table is unreadable

    def last(self, user: str) -> float | None:
        """The time `user` last signed out; infinity for everyone while the table is unreadable (fail closed)."""
        try:
            snapshot = self.table.snapshot()  # one look at the log per request; read only when it moved
            if snapshot.version != self._version:
                rows = self.store.read_rows("signouts", snapshot.files(), columns='"user", epoch(max("at")) AS "at"',
                                            where='GROUP BY "user"')
                self._times = dict(zip(rows.column("user").to_pylist(), rows.column("at").to_pylist(),
                                       strict=True)) if rows.num_rows else {}
                self._version = snapshot.version
        except Exception:
            log.exception("the sign-outs of %s are unreadable: every signed-in user is refused until they are",
                          self.store.root)
            self._times, self._version = None, -2
        return float("inf") if self._times is None else self._times.get(user)

    def record(self, user: str, at: float | None = None) -> None:
        at = dt.datetime.fromtimestamp(time.time() if at is None else at, dt.UTC)
        self.table.append(pa.table({"user": [user], "at": [at], "day": [at.date()]}))
        log.info("%s signed out: login cookies issued before now are refused", user)


@dataclass
class Gate:
    """Who may pass, checked on every request and websocket (and when a page is built)."""

    access: AccessConfig
    signouts: SignOuts

    def refusal(self, user: str | None, login_cookie: str | None) -> str | None:
        """Why this signed-in user may not pass (None: they may)."""
        if not user:
            return None  # not signed in: Panel's own check sends them to the login page
        if self.access.users is not None and user not in self.access.users:
            return f"{user!r} is not in the users file"
        last = self.signouts.last(user)
        issued = issued_at(login_cookie)
        if last is not None and (issued is None or issued <= last):
            return f"{user!r} signed out after this login cookie was issued"
        return None


_gate: Gate | None = None


def install(access: AccessConfig, store: Store) -> Gate:
    """Put the protections in place in this process (idempotent; the last call's access rules apply)."""
    global _gate
    first = _gate is None
    _gate = Gate(access, SignOuts(store))
    if first:
        _protect_responses()
        _check_every_user()
    return _gate


def gate() -> Gate | None:
    return _gate


def _protect_responses() -> None:
    from tornado.web import RequestHandler

    set_default_headers = RequestHandler.set_default_headers
    set_cookie = RequestHandler.set_cookie

    def with_security_headers(handler: RequestHandler) -> None:
        set_default_headers(handler)
        for name, value in SECURITY_HEADERS.items():
            handler.set_header(name, value)

    def same_site(handler: RequestHandler, *args, **kwargs) -> None:
        if not any(key.lower() == "samesite" and value for key, value in kwargs.items()):
            kwargs["samesite"] = SAMESITE
        set_cookie(handler, *args, **kwargs)

    RequestHandler.set_default_headers = with_security_headers
    RequestHandler.set_cookie = same_site


def _check_every_user() -> None:
    """Panel's providers read the user from the login cookie for every page, static file and websocket:
    a user the gate refuses is read as nobody (a page redirects to the login, a websocket gets 403).
    OAuthProvider.get_user_async goes through BasicAuthProvider.get_user, so both are covered."""
    from panel import auth as panel_auth

    read_user = panel_auth.BasicAuthProvider.get_user

    def get_user(provider) -> Callable:
        inner = read_user.fget(provider)

        def checked(handler):
            user = inner(handler)
            why = _gate.refusal(user, handler.get_cookie(LOGIN_COOKIE)) if _gate and user else None
            if why:
                log.warning("refused %s %s: %s", handler.request.method, handler.request.path, why)
                return None
            return user

        return checked

    panel_auth.BasicAuthProvider.get_user = property(get_user)

    logout = panel_auth.LogoutHandler.get

    def record_sign_out(handler) -> None:
        from panel.config import config

        user = handler.get_secure_cookie(LOGIN_COOKIE, max_age_days=config.oauth_expiry)
        if user and _gate is not None:
            _gate.signouts.record(user.decode("utf-8", "replace"))
        return logout(handler)

    panel_auth.LogoutHandler.get = record_sign_out


def listening_addresses() -> list[str]:
    """The addresses this process listens on (TCP), e.g. ['0.0.0.0', '::'] for every interface."""
    import psutil

    return sorted({c.laddr.ip for c in psutil.Process().net_connections(kind="inet")
                   if c.status == psutil.CONN_LISTEN})
