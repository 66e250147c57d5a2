"""`flowlogs serve`: the dashboard's server, with its sign-in and privacy options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..store import DEFAULT_RETENTION_DAYS
from .options import DEFAULT_DATA, DataDir, PricesFile, open_data
from .output import err, escape, fail

Port = Annotated[int, typer.Option(help="Port (0 picks a free one).")]
Address = Annotated[str, typer.Option(
    help="Address to listen on. Anything but 127.0.0.1, ::1 or localhost needs --users or --oauth-provider.")]
RetentionDays = Annotated[int, typer.Option(min=1, help="Days of logs to keep.")]
RetentionInterval = Annotated[float, typer.Option(help="Seconds between retention runs.")]
LiveDemo = Annotated[bool, typer.Option(help="Also produce live demo executions.")]
Show = Annotated[bool, typer.Option(help="Open a browser.")]
Users = Annotated[Path | None, typer.Option(
    envvar="FLOWLOGS_USERS", dir_okay=False,
    help='Sign in with a users file (JSON or TOML): {"alice": {"password": "...", "role": "admin"}}; '
         "roles are viewer (reads) and admin (may also delete).")]
OAuthProvider = Annotated[str | None, typer.Option(
    envvar="FLOWLOGS_OAUTH_PROVIDER", help="Sign in with Panel's OAuth: github, google, azure, okta, ...")]
OAuthKey = Annotated[str | None, typer.Option(envvar="FLOWLOGS_OAUTH_KEY", help="OAuth client id.")]
OAuthSecret = Annotated[str | None, typer.Option(
    envvar="FLOWLOGS_OAUTH_SECRET", help="OAuth client secret (better from the environment).")]
OAuthRedirectUri = Annotated[str | None, typer.Option(
    envvar="FLOWLOGS_OAUTH_REDIRECT_URI", help="OAuth redirect URI, if not this server's /login.")]
Admins = Annotated[str | None, typer.Option(
    envvar="FLOWLOGS_ADMINS", help="With OAuth: comma-separated user names that are admins; "
                                   "everyone else is a viewer.")]
CookieSecret = Annotated[str | None, typer.Option(
    envvar="FLOWLOGS_COOKIE_SECRET", help="Signs the login cookie; required with sign-in "
                                          "(better from the environment).")]
AllowOrigin = Annotated[list[str] | None, typer.Option(
    help="Another host[:port] the browser reaches the server by (reverse proxy, LAN name).")]
MaskPhones = Annotated[bool, typer.Option(
    envvar="FLOWLOGS_MASK_PHONES", help="Show phone numbers as +49 151 ••• 678 to everyone.")]
HideAiText = Annotated[bool, typer.Option(
    envvar="FLOWLOGS_HIDE_AI_TEXT", help="Hide AI prompts and replies from viewers.")]
Collect = Annotated[bool, typer.Option(
    help="Also take events at /v1/events and /v1/traces, as flowlogs collect does (ingest keys).")]


def serve(data: DataDir = DEFAULT_DATA, port: Port = 5006, address: Address = "127.0.0.1",
          retention_days: RetentionDays = DEFAULT_RETENTION_DAYS, retention_interval: RetentionInterval = 86400,
          live_demo: LiveDemo = False, show: Show = False, prices: PricesFile = None, users: Users = None,
          oauth_provider: OAuthProvider = None, oauth_key: OAuthKey = None, oauth_secret: OAuthSecret = None,
          oauth_redirect_uri: OAuthRedirectUri = None, admins: Admins = None, cookie_secret: CookieSecret = None,
          allow_origin: AllowOrigin = None, mask_phones: MaskPhones = False, hide_ai_text: HideAiText = False,
          collect: Collect = False):
    """Serve the Execution Logs dashboard."""
    from ..auth import AccessConfig, AccessError, check_listen
    from ..server import serve as serve_dashboard

    try:
        access = AccessConfig.from_options(
            users_file=users, oauth_provider=oauth_provider, oauth_key=oauth_key, oauth_secret=oauth_secret,
            oauth_redirect_uri=oauth_redirect_uri, admins=admins, cookie_secret=cookie_secret,
            mask_phones=mask_phones, hide_ai_text=hide_ai_text)
        check_listen(address, access)
    except AccessError as exc:
        fail(str(exc), 2)
    how = ("basic auth, " + f"{len(access.users)} users" if access.users else
           f"OAuth ({access.oauth_provider})" if access.oauth_provider else "no sign-in, loopback only")
    err.print(f"serving {escape(str(data))} at http://{address}:{port}/ ({escape(how)}; Ctrl+C to stop)")
    serve_dashboard(open_data(data, prices), port=port, address=address, show=show, retention_days=retention_days,
                    retention_interval=retention_interval, live_demo=live_demo, access=access,
                    allow_origins=tuple(allow_origin or ()), collect=collect)
