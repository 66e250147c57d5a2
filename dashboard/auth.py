"""Who may use the dashboard, and what they may do.

Authentication is Panel's own (`pn.serve(basic_auth=..., oauth_provider=..., cookie_secret=...)`);
this module decides the rest:

- `flowlogs serve` listens on anything but loopback only with authentication configured,
  and authentication always needs a strong cookie secret (`check_listen`, `AccessConfig`);
  beyond loopback the users file must be readable by its owner only.
- Two roles: a viewer reads; an admin may also delete an execution and Clear all.
  Basic auth reads a users file with a password and a role per user:

      {"alice": {"password": "…", "role": "admin"}, "bob": {"password": "…", "role": "viewer"}}

  (or the same as TOML: `[alice]` / `password = "…"` / `role = "admin"`). Panel's basic
  auth wants `{"user": "password"}`: that is derived in memory, never written anywhere.
  With OAuth, the users named by `--admins` are admins and everyone else is a viewer. With a
  users file, a user who is not in it is refused (a signed cookie outlives a removal).
- Without authentication (loopback only) the one local user is an admin, as before.
- The privacy options (`Privacy`) apply per session: phones masked for everyone when
  asked for, prompts and replies hidden from viewers only.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
import math
import os
import stat
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .privacy import Privacy

log = logging.getLogger(__name__)

MIN_COOKIE_SECRET = 16  # characters; `python -c "import secrets; print(secrets.token_urlsafe(32))"` gives 43
# A floor against secrets nobody generated ("xxxxxxxxxxxxxxxx", "abababab..."): distinct characters, and bits
# estimated as length x the Shannon entropy of its characters. 16 random url-safe characters give ~60 bits.
MIN_COOKIE_SECRET_DISTINCT = 10
MIN_COOKIE_SECRET_BITS = 48
MAKE_A_SECRET = '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
TRUE = {"1", "true", "yes", "on"}
HOW_TO_CONFIGURE = (
    "configure authentication: --users FILE (a JSON or TOML file: "
    '{"alice": {"password": "...", "role": "admin"}}) or --oauth-provider NAME with --oauth-key and '
    "--oauth-secret (and --admins for the admins), together with a cookie secret (--cookie-secret or "
    "FLOWLOGS_COOKIE_SECRET, e.g. from `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`)"
)


class AccessError(ValueError):
    """The access configuration cannot be served safely; the message says how to fix it."""


class Role(enum.StrEnum):
    VIEWER = "viewer"
    ADMIN = "admin"


def is_loopback(address: str | None) -> bool:
    """127.0.0.1, ::1 or localhost. An empty address, 0.0.0.0 and :: listen on every interface."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class User:
    password: str = field(repr=False)  # never in a repr, a log line or an error message
    role: Role = Role.VIEWER


def load_users(path: str | os.PathLike) -> dict[str, User]:
    """The users file: name -> password and role (viewer when not given)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AccessError(f"cannot read the users file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode()) if path.suffix.lower() == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        # the parser's message may quote the file (passwords): say where, not what
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise AccessError(f"the users file {path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}"
                          f"{where}") from None
    if not isinstance(data, dict) or not data:
        raise AccessError(f"the users file {path} must map each user name to its password and role")
    users = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str) or not entry["password"]:
            raise AccessError(f"user {name!r} in {path} needs a non-empty \"password\"")
        role = entry.get("role", Role.VIEWER.value)
        if role not in {r.value for r in Role}:
            raise AccessError(f"user {name!r} in {path} has role {role!r}; roles are viewer and admin")
        users[str(name)] = User(entry["password"], Role(role))
    if readable_by_others(path):  # refused beyond loopback (check_listen); on loopback, said
        log.warning("the users file %s can be read by other users of this machine: chmod 600 %s", path, path)
    return users


def secret_bits(secret: str) -> float:
    """Estimated entropy: length x Shannon entropy (bits per character) of the secret's own characters."""
    counts = Counter(secret)
    return -len(secret) * sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values()) if secret \
        else 0.0


def cookie_secret_problem(secret: str | None) -> str | None:
    """Why this cookie secret is not good enough to sign login cookies (None: it is)."""
    if not secret:
        return ("authentication needs a cookie secret to sign the login cookie: pass --cookie-secret or set "
                f"FLOWLOGS_COOKIE_SECRET (e.g. to the output of {MAKE_A_SECRET})")
    distinct, bits = len(set(secret)), secret_bits(secret)
    if len(secret) < MIN_COOKIE_SECRET or distinct < MIN_COOKIE_SECRET_DISTINCT or bits < MIN_COOKIE_SECRET_BITS:
        return (f"the cookie secret is too short or too simple ({len(secret)} characters, {distinct} different, "
                f"about {bits:.0f} bits): anyone who guesses it can sign in as anyone. Use at least "
                f"{MIN_COOKIE_SECRET} random characters, e.g. the output of {MAKE_A_SECRET}")
    return None


def readable_by_others(path: str | os.PathLike) -> bool:
    return os.name == "posix" and bool(Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


@dataclass(frozen=True)
class AccessConfig:
    """How the server authenticates users, who is an admin, and the privacy options."""

    users: dict[str, User] | None = None  # basic auth
    users_file: Path | None = None  # where `users` came from (its permissions are checked before listening)
    oauth_provider: str | None = None
    oauth_key: str | None = None
    oauth_secret: str | None = field(default=None, repr=False)
    oauth_redirect_uri: str | None = None
    admins: frozenset[str] = frozenset()  # OAuth user names (pn.state.user) that are admins
    cookie_secret: str | None = field(default=None, repr=False)
    mask_phones: bool = False
    hide_ai_text: bool = False

    @property
    def authenticated(self) -> bool:
        return bool(self.users) or bool(self.oauth_provider)

    def validate(self) -> AccessConfig:
        if self.users and self.oauth_provider:
            raise AccessError("choose one way to sign in: a users file (basic auth) or an OAuth provider, not both")
        if self.oauth_provider and not (self.oauth_key and self.oauth_secret):
            raise AccessError(f"OAuth provider {self.oauth_provider!r} needs --oauth-key and --oauth-secret "
                              "(or FLOWLOGS_OAUTH_KEY and FLOWLOGS_OAUTH_SECRET)")
        problem = cookie_secret_problem(self.cookie_secret) if self.authenticated else None
        if problem:
            raise AccessError(problem)
        return self

    def panel_options(self) -> dict[str, Any]:
        """The keyword arguments of `pn.serve` that turn Panel's authentication on."""
        if self.users:
            return {"basic_auth": {name: user.password for name, user in self.users.items()},
                    "cookie_secret": self.cookie_secret}
        if self.oauth_provider:
            options = {"oauth_provider": self.oauth_provider, "oauth_key": self.oauth_key,
                       "oauth_secret": self.oauth_secret, "cookie_secret": self.cookie_secret}
            if self.oauth_redirect_uri:
                options["oauth_redirect_uri"] = self.oauth_redirect_uri
            return options
        return {}

    def role_of(self, user: str | None) -> Role | None:
        """The role of a signed-in user, None for one who may not use the dashboard at all; without
        authentication the local user is the admin. With a users file, a user not in it is refused: a
        removed user's signed cookie stays valid (same cookie secret) and used to pass as a viewer."""
        if not self.authenticated:
            return Role.ADMIN
        if not user:
            return None
        if self.users is not None:
            known = self.users.get(user)
            return known.role if known else None
        return Role.ADMIN if user.lower() in self.admins else Role.VIEWER

    def privacy_for(self, role: Role | None) -> Privacy:
        return Privacy(mask_phones=self.mask_phones, hide_ai_text=self.hide_ai_text and role != Role.ADMIN)

    @classmethod
    def from_options(cls, *, users_file: str | os.PathLike | None = None, oauth_provider: str | None = None,
                     oauth_key: str | None = None, oauth_secret: str | None = None,
                     oauth_redirect_uri: str | None = None, admins: Iterable[str] | str | None = None,
                     cookie_secret: str | None = None, mask_phones: bool = False,
                     hide_ai_text: bool = False) -> AccessConfig:
        if isinstance(admins, str):
            admins = admins.split(",")
        return cls(
            users=load_users(users_file) if users_file else None, users_file=Path(users_file) if users_file else None,
            oauth_provider=oauth_provider or None, oauth_key=oauth_key or None, oauth_secret=oauth_secret or None,
            oauth_redirect_uri=oauth_redirect_uri or None,
            admins=frozenset(a.strip().lower() for a in admins or () if a.strip()),
            cookie_secret=cookie_secret or None, mask_phones=mask_phones, hide_ai_text=hide_ai_text,
        ).validate()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, panel_auth: bool = False) -> AccessConfig:
        """For `panel serve dashboard/app.py`, where Panel's own flags do the signing in (`panel_auth`: they
        turned it on): FLOWLOGS_USERS (a users file, for the roles), FLOWLOGS_ADMINS (the admins of any other
        login), FLOWLOGS_MASK_PHONES, FLOWLOGS_HIDE_AI_TEXT."""
        env = os.environ if env is None else env
        users_file = Path(env["FLOWLOGS_USERS"]) if env.get("FLOWLOGS_USERS") else None
        users = load_users(users_file) if users_file else None
        admins = frozenset(a.strip().lower() for a in env.get("FLOWLOGS_ADMINS", "").split(",") if a.strip())
        return cls(users=users, users_file=users_file, oauth_provider="panel" if panel_auth and not users else None,
                   admins=admins,
                   mask_phones=env.get("FLOWLOGS_MASK_PHONES", "").lower() in TRUE,
                   hide_ai_text=env.get("FLOWLOGS_HIDE_AI_TEXT", "").lower() in TRUE)


def check_listen(address: str | None, access: AccessConfig) -> None:
    """Refuse to listen beyond this machine without authentication, or with a users file others can read."""
    if is_loopback(address):
        return
    shown = address or "every interface"
    if not access.authenticated:
        raise AccessError(f"refusing to listen on {shown} without authentication: anyone who can reach it could "
                          f"read and delete the logs. Listen on 127.0.0.1 (the default), or {HOW_TO_CONFIGURE}.")
    if access.users_file is not None and readable_by_others(access.users_file):
        raise AccessError(f"refusing to listen on {shown}: the users file {access.users_file} (passwords) can be "
                          f"read by other users of this machine. Run `chmod 600 {access.users_file}`.")


@dataclass(frozen=True)
class Session:
    """The user of one browser session and what they may do."""

    user: str
    role: Role | None  # None: refused (see `refusal`)
    privacy: Privacy = Privacy()
    signed_in: bool = False
    refusal: str | None = None  # why this session may see nothing

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


LOCAL_USER = "local"


def current_session(access: AccessConfig) -> Session:
    """The session being built, from Panel's signed login cookie (pn.state.user)."""
    import panel as pn

    from . import web

    user = None
    cookies = pn.state.cookies or {}
    # Panel reads an unsigned `is_guest` cookie as the user "guest": never let it stand for anyone
    if not cookies.get("is_guest"):
        user = pn.state.user
    role = access.role_of(user)
    refusal = None if role is not None else f"{user!r} may not use this dashboard" if user else "not signed in"
    gate = web.gate()  # sign-outs: also checked here, for a page built before the gate was installed
    if role is not None and gate is not None:
        refusal = gate.refusal(user, cookies.get(web.LOGIN_COOKIE))
        role = None if refusal else role
    name = user or (LOCAL_USER if not access.authenticated else "anonymous")
    return Session(user=name, role=role, privacy=access.privacy_for(role), signed_in=bool(user), refusal=refusal)


class Guard:
    """Checks the role in the handler that changes data (not only in the page), and audits the outcome."""

    def __init__(self, session: Session, audit, tell: Callable[[str, str], None]):
        self.session = session
        self.audit = audit
        self.tell = tell

    def allows(self, action: str, **target) -> bool:
        if self.session.is_admin:
            return True
        log.warning("refused %s by %s (%s): only admins may delete", action, self.session.user, self.session.role)
        self.record(action, "refused: not an admin", **target)
        self.tell(f"You are signed in as {self.session.user} ({self.session.role}): only admins may delete "
                  "execution logs.", "error")
        return False

    def record(self, action: str, outcome: str, **target) -> None:
        try:
            self.audit.record(user=self.session.user, role=self.session.role.value, action=action, outcome=outcome,
                              via="dashboard", **target)
        except OSError:  # a full disk must not hide what happened from the user
            log.exception("could not write the audit log")
