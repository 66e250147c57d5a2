"""Sign-in sessions and HTTP hardening of the served dashboard, over real HTTP (issue 15, items 7 and 9).

Sign-out ends the session: the old cookie opens neither the page nor the websocket. A user removed
from the users file is refused after a restart with the same cookie secret. Every response forbids
framing and every cookie is SameSite. `panel serve dashboard/app.py` refuses an open address without
sign-in, as `flowlogs serve` does. No browser needed: plain HTTP requests and a websocket handshake.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

import pytest
from conftest import copy_logs, free_port, start_server
from planted import ROOT
from playwright.sync_api import expect
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

pytestmark = pytest.mark.browser  # real servers as subprocesses, like the browser tests

PASSWORDS = {"alice": "alice-Pw-4821", "bob": "bob-Pw-1937"}
SECRET = "Vq3xK9pLm2RtY7wZ4cN8bH6jD1fG5sA0"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def request(url: str, cookies: dict[str, str] | None = None, data: dict | None = None):
    """(status, headers, body) of one request; redirects are answers, not followed."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())} if cookies else {}
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, body, headers), timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


def set_cookies(headers) -> dict[str, str]:
    """Name -> the whole Set-Cookie header of each cookie a response sets."""
    found = {}
    for header in headers.get_all("Set-Cookie") or []:
        found[SimpleCookie(header).popitem()[0] if SimpleCookie(header) else header.split("=")[0]] = header
    return found


def sign_in(base: str, user: str) -> dict[str, str]:
    status, headers, _ = request(base + "login", data={"username": user, "password": PASSWORDS[user]})
    assert status == 302, status
    cookies = {name: SimpleCookie(header)[name].value for name, header in set_cookies(headers).items()
               if SimpleCookie(header)[name].value}
    assert "user" in cookies
    return cookies


def opens_page(base: str, cookies: dict[str, str]) -> tuple[bool, str]:
    status, headers, body = request(base, cookies)
    if status == 302:
        assert "login" in headers["Location"]
        return False, ""
    assert status == 200, status
    return True, body


def websocket_opens(base: str, cookies: dict[str, str], page: str) -> bool:
    """Whether the page's websocket, with its session token, is accepted with these cookies."""
    token = re.search(r'"token":\s*"([^"]+)"', page)[1]
    url = base.replace("http://", "ws://") + "ws"
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
               "Sec-WebSocket-Protocol": f"bokeh, {token}", "Origin": base.rstrip("/")}

    async def connect():
        try:
            connection = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=20))
        except HTTPClientError:
            return False
        connection.close()
        return True

    # on a thread of its own: Playwright's sync API keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, connect()).result()


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"alice": {"password": PASSWORDS["alice"], "role": "admin"},
                                "bob": {"password": PASSWORDS["bob"], "role": "viewer"}}))
    path.chmod(0o600)
    return path


@pytest.fixture
def logs(logs_template, tmp_path):
    return copy_logs(logs_template, tmp_path / "logs")


def serve_with_users(logs, users_file, log):
    return start_server(logs.root, log, via="cli", cli_args=["--users", str(users_file)],
                        env={"FLOWLOGS_COOKIE_SECRET": SECRET})


def test_sign_out_ends_the_session_for_the_page_and_the_websocket(logs, users_file, tmp_path):
    server = serve_with_users(logs, users_file, tmp_path / "server.log")
    try:
        cookies = sign_in(server.url, "alice")
        opened, page = opens_page(server.url, cookies)
        assert opened and websocket_opens(server.url, cookies, page)

        status, _, _ = request(server.url + "logout", cookies)
        assert status == 200
        assert opens_page(server.url, cookies) == (False, "")  # the old cookie, replayed
        assert not websocket_opens(server.url, cookies, page)

        time.sleep(1.1)  # login cookies carry their second of issue; a new sign-in is a later one
        again = sign_in(server.url, "alice")
        assert opens_page(server.url, again)[0]
    finally:
        server.stop()
    # the sign-out outlives a restart: the old cookie stays refused
    server = serve_with_users(logs, users_file, tmp_path / "server2.log")
    try:
        assert opens_page(server.url, cookies) == (False, "")
        assert opens_page(server.url, again)[0]
    finally:
        server.stop()


def test_a_user_removed_from_the_users_file_is_refused_after_a_restart(logs, users_file, tmp_path):
    server = serve_with_users(logs, users_file, tmp_path / "server.log")
    try:
        bob = sign_in(server.url, "bob")
        assert opens_page(server.url, bob)[0]
    finally:
        server.stop()
    users_file.write_text(json.dumps({"alice": {"password": PASSWORDS["alice"], "role": "admin"}}))
    server = serve_with_users(logs, users_file, tmp_path / "server2.log")  # the same cookie secret
    try:
        assert opens_page(server.url, bob) == (False, "")
        assert "bob" in server.log.read_text()  # the refusal is logged with the name
    finally:
        server.stop()


def assert_not_frameable(headers, what: str) -> None:
    assert headers["X-Frame-Options"] == "DENY", what
    assert "frame-ancestors 'none'" in (headers["Content-Security-Policy"] or ""), what


def test_every_response_of_flowlogs_serve_forbids_framing_and_every_cookie_is_samesite(logs, users_file, tmp_path):
    server = serve_with_users(logs, users_file, tmp_path / "server.log")
    try:
        for path in ("", "login", "logout"):
            status, headers, _ = request(server.url + path)
            assert_not_frameable(headers, path or "/")
        status, headers, _ = request(server.url + "login", data={"username": "alice",
                                                                "password": PASSWORDS["alice"]})
        assert_not_frameable(headers, "the sign-in answer")
        cookies = set_cookies(headers)
        assert {"user", "id_token"} <= set(cookies)
        for name, header in cookies.items():
            assert re.search(r"(?i);\s*samesite=lax", header), f"{name}: {header}"
        signed_in = {n: SimpleCookie(h)[n].value for n, h in cookies.items()}
        status, headers, page = request(server.url, signed_in)
        assert status == 200
        assert_not_frameable(headers, "the page")
        script = re.search(r'src="(static/[^"]+\.js[^"]*)"', page)
        status, headers, _ = request(server.url + script[1], signed_in)
        assert status == 200
        assert_not_frameable(headers, "a static file")
    finally:
        server.stop()


def start_panel_serve(data, log, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(log, "wb")
    process = subprocess.Popen([sys.executable, "-m", "panel", "serve", "dashboard/app.py", "--port", str(port),
                                *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                               env={**os.environ, "FLOWLOGS_DATA": str(data), **(env or {})})
    out.close()
    url = f"http://127.0.0.1:{port}/app"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=5)
        except urllib.error.HTTPError:
            return process, url  # it answers
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
            continue
        return process, url
    process.kill()
    raise RuntimeError(log.read_text())


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def test_panel_serve_refuses_an_open_address_without_sign_in(logs, tmp_path, page):
    process, url = start_panel_serve(logs.root, tmp_path / "panel.log", "--address", "0.0.0.0", "--warm")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    try:
        status, headers, _ = request(url)
        assert_not_frameable(headers, "the refusal")
        page.goto(url)
        expect(page.get_by_text("refusing to listen on 0.0.0.0 without authentication")).to_be_visible()
        received = "\n".join(frames)
        for flow in ("Support auto-reply", "Order reminder"):  # no log data reached the browser
            assert flow not in received
        assert "refusing to listen on 0.0.0.0" in (tmp_path / "panel.log").read_text()
    finally:
        stop(process)


def test_panel_serve_on_loopback_forbids_framing_from_the_first_response(logs, tmp_path):
    process, url = start_panel_serve(logs.root, tmp_path / "panel.log", "--address", "127.0.0.1", "--warm")
    try:
        status, headers, page = request(url)
        assert status == 200 and "<title>flowlogs</title>" in page
        assert_not_frameable(headers, "the first page")
    finally:
        stop(process)
