"""Access control and privacy on the real server (`flowlogs serve --users ... --mask-phones --hide-ai-text`).

alice is an admin, bob a viewer. An anonymous request is refused; bob sees masked phone
numbers and no prompt or reply anywhere (not in the DOM, not in what the websocket
brought), has no delete controls, and cannot delete even by sending the message the
page's own components would send. Every attempt is in the audit log.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from conftest import copy_logs, start_server
from logs_page import LogsPage
from planted import AI_REPLY, SYSTEM_PROMPT, XSS_FLOW, parquet_ids
from playwright.sync_api import expect

from dashboard.audit import AuditLog
from dashboard.store import Store

pytestmark = pytest.mark.browser

PASSWORDS = {"alice": "alice-Pw-4821", "bob": "bob-Pw-1937"}
USER_PROMPT = "Where is my order #1042?"
PHONE = "+4915112345678"  # the trigger phone and the contact phone of the planted logs
MASKED = "+49 151 ••• 678"

# Every text of the page, inside the open shadow roots Panel renders into, attributes included.
PAGE_TEXT_JS = """() => {
  const parts = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      for (const a of el.attributes) parts.push(a.value);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
    parts.push(root.textContent || "");
  };
  walk(document);
  return parts.join("\\n");
}"""

# The view of the component whose host has this CSS class (css_classes land on the shadow host).
FIND_VIEW_JS = """
function findView(cls) {
  for (const view of Bokeh.index) {
    const seen = new Set();
    const stack = [view];
    while (stack.length) {
      const v = stack.pop();
      if (!v || seen.has(v)) continue;
      seen.add(v);
      if (v.el && v.el.classList && v.el.classList.contains(cls)) return v;
      for (const child of (v.child_views || [])) stack.push(child);
    }
  }
  return null;
}
"""


@pytest.fixture
def auth_server(logs_template, tmp_path):
    logs = copy_logs(logs_template, tmp_path / "logs")
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": {"password": PASSWORDS["alice"], "role": "admin"},
                                 "bob": {"password": PASSWORDS["bob"], "role": "viewer"}}))
    users.chmod(0o600)
    server = start_server(logs.root, tmp_path / "server.log", via="cli",
                          cli_args=["--users", str(users), "--mask-phones", "--hide-ai-text"],
                          env={"FLOWLOGS_COOKIE_SECRET": "test-cookie-secret-0123456789abcdef"})
    server.logs = logs
    yield server
    server.stop()
    assert not any(p in server.log.read_text() for p in PASSWORDS.values())  # passwords never logged


def sign_in(page, server, user: str) -> LogsPage:
    page.goto(server.url)
    expect(page.locator("input[name=username]")).to_be_visible()
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.locator("input[name=password]").press("Enter")
    p = LogsPage(page, server.url)
    p.wait_loaded()
    return p


def test_anonymous_requests_are_refused(auth_server, page):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(NoRedirect).open(auth_server.url, timeout=10)
    assert refused.value.code == 302 and "login?next=" in refused.value.headers["Location"]

    page.goto(auth_server.url)
    expect(page.locator("input[name=password]")).to_be_visible()  # the login form, not the logs
    assert auth_server.logs.deletable not in page.content()
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "wrong")
    page.locator("input[name=password]").press("Enter")
    expect(page.get_by_text("Invalid username or password")).to_be_visible()


def test_a_viewer_sees_masked_phones_and_no_prompt_or_reply_anywhere(auth_server, page):
    logs = auth_server.logs
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    p = sign_in(page, auth_server, "bob")
    expect(page.locator(".signed-in")).to_contain_text("bob")
    expect(page.locator(".signed-in .role")).to_have_text("viewer")
    expect(page.locator(".clear-all")).to_be_hidden()

    rows = p.expand("Support auto-reply")
    expect(rows.first.locator(".phone")).to_have_text(MASKED)
    expect(page.locator(".execution-row .trash")).to_have_count(0)  # no delete control for a viewer
    p.row(logs.ai_execution).click()
    p.wait_detail(logs.ai_execution)
    expect(page.locator(".summary .phone")).to_have_text(MASKED)
    details = p.expand_step(1)  # the AI step: its prompts and reply are replaced
    expect(details).to_contain_text("System prompt")
    expect(details).to_contain_text("hidden: only admins see AI prompts and replies")
    # from the AI step on, step data is hidden whole (it may quote the reply, cut or re-encoded)
    expect(page.locator(".step-card.expanded .step-body").first).to_contain_text(
        "hidden: only admins see the data of steps from the first AI step on")
    p.expand_step(2)
    p.expand_step(0)
    expect(page.locator(".json-tree").first).to_be_visible()  # the step before it keeps its data, masked
    # the failed send's error quotes a phone number too
    p.open_execution("Order reminder", logs.failed_execution)
    details = p.expand_step(1)
    expect(details).to_contain_text("'+1 ••• 100' is not a valid WhatsApp number")

    rows = p.expand(XSS_FLOW)
    expect(rows.first.locator(".phone")).to_have_text("+49 151 ••• 999")

    text = page.evaluate(PAGE_TEXT_JS)
    received = "\n".join(frames)
    assert MASKED in text
    for secret in (SYSTEM_PROMPT, USER_PROMPT, AI_REPLY, PHONE, "+1 555 0100", "+4915199999999"):
        assert secret not in text, secret
        assert secret not in received and json.dumps(secret)[1:-1] not in received, secret
    assert page.errors == []


def test_a_viewer_cannot_delete_even_by_crafting_the_request(auth_server, page):
    logs = auth_server.logs
    p = sign_in(page, auth_server, "bob")
    p.expand("Lead follow-up")
    expect(p.row(logs.deletable)).to_have_count(1)

    # what the trash icon would send, sent straight through the flow list's own Bokeh model
    sent = page.evaluate("""(id) => {""" + FIND_VIEW_JS + """
      const view = findView("flow-group-list");
      if (!view) return false;
      view.model_proxy.send_msg({action: "delete", flow: "Lead follow-up", id: id});
      return true;
    }""", logs.deletable)
    assert sent
    expect(p.notice()).to_contain_text("only admins may delete")
    expect(page.locator(".dialog")).to_have_count(0)

    # Clear all is not shown; clicking its (hidden) button from script is refused too
    clicked = page.evaluate("""() => {""" + FIND_VIEW_JS + """
      const view = findView("clear-all");
      if (!view) return false;
      view.click();
      return true;
    }""")
    assert clicked
    expect(page.locator(".dialog")).to_have_count(0)

    expect(p.row(logs.deletable)).to_have_count(1)
    assert p.count("all") == logs.counts["all"]
    assert logs.deletable in parquet_ids(logs.root)
    assert len(parquet_ids(logs.root)) == logs.counts["all"]  # nothing deleted on disk
    refused = [e for e in AuditLog(Store(logs.root)).entries() if e["outcome"] == "refused: not an admin"]
    assert [(e["user"], e["role"], e["action"], e.get("execution_ids")) for e in refused] == [
        ("bob", "viewer", "delete", [logs.deletable]), ("bob", "viewer", "clear", None)]
    assert "refused delete by bob" in auth_server.log.read_text()


def test_an_admin_deletes_and_the_audit_log_says_who(auth_server, page):
    logs = auth_server.logs
    p = sign_in(page, auth_server, "alice")
    expect(page.locator(".signed-in .role")).to_have_text("admin")
    expect(page.locator(".clear-all button")).to_be_visible()
    p.open_execution("Support auto-reply", logs.ai_execution)
    details = p.expand_step(1)
    expect(details).to_contain_text(AI_REPLY)  # admins still read prompts and replies
    expect(page.locator(".summary .phone")).to_have_text(MASKED)  # masking is for everyone

    p.expand("Lead follow-up")
    doomed = p.row(logs.deletable)
    doomed.hover()
    doomed.locator(".trash").click()
    page.locator(".dialog .confirm").click()
    expect(p.notice()).to_contain_text("Execution deleted.")
    assert logs.deletable not in parquet_ids(logs.root)
    entries = AuditLog(Store(logs.root)).entries()
    assert [(e["user"], e["role"], e["via"], e["action"], e["execution_ids"], e["outcome"]) for e in entries] == [
        ("alice", "admin", "dashboard", "delete", [logs.deletable], "deleted")]
    assert page.errors == []
