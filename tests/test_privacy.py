"""Privacy options: phone numbers masked, AI prompts and replies hidden from viewers, on the server."""

import asyncio
import concurrent.futures
import json

import pytest

from dashboard.privacy import (
    HIDDEN,
    HIDDEN_DATA,
    HIDDEN_ERROR,
    HIDDEN_MARK,
    Privacy,
    RedactedSource,
    mask_phone,
    mask_phones_in_text,
)
from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.ui.format import execution_item
from dashboard.ui.source import LogSource
from dashboard.writer import Writer


@pytest.mark.parametrize("phone, masked", [
    ("+4915112345678", "+49 151 ••• 678"),          # E.164 as stored by the engine
    ("+49 151 12345678", "+49 151 ••• 678"),        # written in groups
    ("+49-151-1234-5678", "+49 151 ••• 678"),
    ("0049 151 12345678", "+49 151 ••• 678"),       # 00 instead of +
    ("+1 (415) 555-0132", "+1 415 ••• 132"),        # North America, parentheses
    ("+14155550132", "+1 415 ••• 132"),             # one-digit country code, no separators
    ("+44 20 7946 0958", "+44 20 ••• 958"),         # the first group as written
    ("+353861234567", "+353 86 ••• 567"),           # three-digit country code; 4 digits stay hidden
    ("+1 555 0100", "+1 ••• 100"),                  # short: the first group gives way
    ("0151 12345678", "0151 ••• 678"),              # national format
    ("015112345678", "015 ••• 678"),
])
def test_mask_phone_keeps_country_code_first_group_and_last_three_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone, country", [("+4915112345678", "49"), ("+1 555 0100", "1"), ("+49 30 1234", "49"),
                                            ("12345", ""), ("+49", "49")])
def test_at_least_four_digits_of_the_national_number_are_always_hidden(phone, country):
    national = sum(c.isdigit() for c in phone) - len(country)
    shown = sum(c.isdigit() for c in mask_phone(phone)) - len(country)
    assert national - shown >= min(4, national)


@pytest.mark.parametrize("value", [None, "", "unknown", 42])
def test_values_without_digits_or_not_text_are_left_alone(value):
    assert mask_phone(value) == value


def test_phone_numbers_inside_free_text_are_masked_and_other_numbers_are_not():
    text = ("Invalid phone number: '+1 555 0100' is not a valid WhatsApp number (row 12). "
            "Order 12345678 of 2026-11-20 for +4915112345678, copy to 0044 20 7946 0958.")
    assert mask_phones_in_text(text) == (
        "Invalid phone number: '+1 ••• 100' is not a valid WhatsApp number (row 12). "
        "Order 12345678 of 2026-11-20 for +49 151 ••• 678, copy to +44 20 ••• 958.")
    assert mask_phones_in_text("+1234567") == "+1234567"  # 7 digits: too short for a phone number
    assert mask_phones_in_text("+" + "1" * 40) == "+" + "1" * 40  # longer than E.164 allows
    # a long run of digits and separators never makes the pattern backtrack
    assert mask_phones_in_text("+1" + " 2" * 50_000 + "x").endswith("x")


def test_json_payloads_are_masked_value_by_value_and_keep_their_other_data():
    privacy = Privacy(mask_phones=True)
    payload = json.dumps({"contact": {"name": "Ana", "phone": "+4915112345678", "row": 12},
                          "to": "4915112345678", "from": "2026-11-01", "wa_id": 4915112345678,
                          "note": "call +4915112345678 back", "+4915199999999": "a key", "amount": 12.5})
    masked = json.loads(privacy.json_text(payload))
    assert masked == {"contact": {"name": "Ana", "phone": "+49 151 ••• 678", "row": 12},
                      "to": "491 ••• 678", "from": "2026-11-01", "wa_id": "491 ••• 678",
                      "note": "call +49 151 ••• 678 back", "+49 151 ••• 999": "a key", "amount": 12.5}
    assert privacy.json_text('{"ok": true}') == '{"ok": true}'  # nothing to mask: the text as stored
    assert privacy.json_text("not json +4915112345678") == "not json +49 151 ••• 678"


@pytest.fixture
def execution_record(tmp_path):
    """An execution written and read back the real way: recorder -> Parquet -> DuckDB."""
    root = tmp_path / "logs"
    with Recorder(Writer(Store(root), flush_interval=None)) as recorder:
        with recorder.execution("Support auto-reply", trigger="incoming_message", phone="+4915112345678") as run:
            with run.step("Receive Message", "incoming_message", input={"from": "+4915112345678"}) as step:
                step.output = {"text": "Where is my order #1042?"}
            with run.step("AI Response", "ai_response", input={"text": "Where is my order #1042?"}) as step:
                step.ai(model="gpt-4o-mini", system_prompt="You are the support agent of Verde Coffee.",
                        user_prompt="Where is my order #1042?", reply="It left the roastery this morning.",
                        prompt_tokens=40, completion_tokens=9)
                step.output = {"reply": "It left the roastery this morning."}
            with run.step("Send Message", "send_message", input={"to": "+4915112345678",
                                                                  "text": "It left the roastery this morning."}):
                run.message_sent()
    return root, LogQueries(Store(root)).execution(run.execution_id)


def test_a_viewer_gets_an_execution_without_prompts_replies_or_full_phone_numbers(execution_record):
    _, record = execution_record
    viewer = Privacy(mask_phones=True, hide_ai_text=True).redact(record)
    text = json.dumps(viewer, default=str, ensure_ascii=False)
    for secret in ("You are the support agent", "Where is my order #1042?", "It left the roastery",
                   "+4915112345678", "12345678"):
        assert secret not in text
    assert viewer["trigger_phone"] == "+49 151 ••• 678"
    ai = viewer["steps"][1]
    assert (ai["system_prompt"], ai["user_prompt"], ai["ai_reply"]) == (HIDDEN, HIDDEN, HIDDEN)
    assert (ai["model"], ai["prompt_tokens"], ai["completion_tokens"]) == ("gpt-4o-mini", 40, 9)
    # the step after the AI step: its data may quote the reply, however cut or re-encoded (item 6 of issue 15)
    assert json.loads(viewer["steps"][2]["input"]) == HIDDEN_DATA
    assert viewer["steps"][0]["system_prompt"] is None  # a step without prompts shows no prompt section
    # the cached original is untouched: an admin's session still sees everything
    assert record["steps"][1]["ai_reply"] == "It left the roastery this morning."
    assert record["trigger_phone"] == "+4915112345678"


def test_admins_see_prompts_and_only_phones_are_masked(execution_record):
    _, record = execution_record
    admin = Privacy(mask_phones=True).redact(record)
    assert admin["steps"][1]["ai_reply"] == "It left the roastery this morning."
    assert admin["trigger_phone"] == "+49 151 ••• 678"
    assert Privacy().redact(record) is record  # no option set: nothing copied


def run_apart(coroutine):
    """Run a coroutine on its own loop in a thread: a browser test earlier in the process may have
    left an event loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_the_page_source_of_a_viewer_redacts_every_result_of_the_shared_cached_source(execution_record):
    root, record = execution_record
    shared = LogSource(LogQueries(Store(root)))
    viewer = RedactedSource(shared, Privacy(mask_phones=True, hide_ai_text=True))
    rows, has_next = run_apart(viewer.executions_page("Support auto-reply", "all", 0, 25))
    assert not has_next and rows[0]["phone"] == "+49 151 ••• 678"
    detail = run_apart(viewer.execution(record["execution_id"]))
    assert detail["steps"][1]["user_prompt"] == HIDDEN
    assert viewer.change_token() == shared.change_token()
    # the cache shared with admin sessions still holds the real values
    assert shared.execution_now(record["execution_id"])["steps"][1]["user_prompt"] == "Where is my order #1042?"
    assert execution_item(shared.execution_now(record["execution_id"]))["phone"] == "+4915112345678"


# -- hidden AI text: by field and position, not by matching text (issue 15, item 6) ------------------

REPLY = ("Dear Ana, thank you for your patience. Your order #1042 of Verde Coffee beans left our roastery "
         "this morning and will arrive tomorrow between 9 and 12. " * 12).strip()  # ~1 700 characters
SYSTEM = "You are the support agent of Verde Coffee; never promise refunds."


def windows(text: str, size: int = 24) -> set[str]:
    """Every run of `size` characters of a text: none may reach a viewer, however the text was cut."""
    return {text[i:i + size] for i in range(0, len(text) - size + 1, 7)}


@pytest.fixture
def quoted_inexactly(tmp_path):
    """An AI reply that later steps and errors quote cut, trimmed and re-encoded, as real engines do."""
    root = tmp_path / "logs"
    with Recorder(Writer(Store(root), flush_interval=None)) as recorder:
        with pytest.raises(RuntimeError), recorder.execution(
                "Support auto-reply", trigger="incoming_message", phone="+4915112345678") as run:
            with run.step("Receive Message", "incoming_message", input={"from": "+4915112345678"}) as step:
                step.output = {"text": "Where is my order?", "contact": {"name": "Ana"}}
            with run.step("AI Response", "ai_response", input={"text": "Where is my order?"}) as step:
                step.ai(model="gpt-4o-mini", system_prompt=SYSTEM, user_prompt="Where is my order?", reply=REPLY,
                        prompt_tokens=40, completion_tokens=300)
                step.output = {"reply": REPLY}
            with run.step("Shorten", "set_variable", input={"text": REPLY[:1000]}) as step:  # cut to 1 000
                step.output = {"text": "  " + REPLY[:1000].strip() + "\n"}
            with run.step("Send Message", "send_message",
                          input={"to": "+4915112345678", "body": REPLY.replace(" ", "\u00a0")[:900],  # re-encoded
                                 "html": REPLY[:500].replace("#", "&#35;"), "parts": REPLY[:400].split(". ")}
                          ) as step:
                step.warn(f"message cut: {REPLY[200:400]}")
                step.fail(f"WhatsApp rejected the message 'Dear Ana,\u00a0{REPLY[10:300].upper()}'")
            raise RuntimeError(f"Gave up after the reply {json.dumps(REPLY[:300])}")
    logs = LogQueries(Store(root))
    return root, logs.execution(logs.executions()["execution_id"].iat[0])


def test_a_viewer_sees_nothing_of_a_reply_quoted_cut_trimmed_or_re_encoded(quoted_inexactly):
    _, record = quoted_inexactly
    viewer = Privacy(hide_ai_text=True).redact(record)
    shown = json.dumps(viewer, default=str, ensure_ascii=False)
    escaped = json.dumps(viewer, default=str, ensure_ascii=True)
    for secret in windows(REPLY) | windows(REPLY.upper()) | windows(SYSTEM):
        assert secret not in shown and secret not in escaped, secret
        assert secret.replace(" ", "\u00a0") not in shown

    receive, ai, shorten, send = viewer["steps"]
    # what is hidden: prompts and reply, and everything from the first AI step on that may quote it
    assert (ai["system_prompt"], ai["user_prompt"], ai["ai_reply"]) == (HIDDEN, HIDDEN, HIDDEN)
    for step in (ai, shorten, send):
        assert json.loads(step["input"]) == HIDDEN_DATA and (step["output"] is None or
                                                             json.loads(step["output"]) == HIDDEN_DATA)
    assert send["warnings"] == [HIDDEN_MARK]
    assert send["error"] == f"{HIDDEN_ERROR} (cause: WhatsApp connection issue)"
    assert viewer["error"] == f"{HIDDEN_ERROR} (cause: Other)"
    # what a viewer still has: names, statuses, timings, model and tokens, the cause, and the steps before
    assert [s["node_name"] for s in viewer["steps"]] == ["Receive Message", "AI Response", "Shorten", "Send Message"]
    assert [s["status"] for s in viewer["steps"]] == ["completed", "completed", "completed", "failed"]
    assert (ai["model"], ai["prompt_tokens"], ai["completion_tokens"]) == ("gpt-4o-mini", 40, 300)
    assert json.loads(receive["input"]) == {"from": "+4915112345678"}
    assert viewer["status"] == "failed" and viewer["duration_ms"] == record["duration_ms"]
    # an admin's view, and the cached record, are untouched
    assert Privacy().redact(record) is record and record["steps"][1]["ai_reply"] == REPLY


def test_an_execution_without_ai_steps_keeps_its_data_and_errors(quoted_inexactly, tmp_path):
    root = tmp_path / "plain"
    with Recorder(Writer(Store(root), flush_interval=None)) as recorder:
        with recorder.execution("Daily broadcast", trigger="schedule") as run:
            with run.step("Send Message", "send_message", input={"to": "+4915112345678", "text": "Hi"}) as step:
                step.fail("Invalid phone number '+4915112345678'")
    logs = LogQueries(Store(root))
    record = logs.execution(logs.executions()["execution_id"].iat[0])
    viewer = Privacy(hide_ai_text=True).redact(record)
    assert viewer["steps"][0]["error"] == "Invalid phone number '+4915112345678'"
    assert json.loads(viewer["steps"][0]["input"]) == {"to": "+4915112345678", "text": "Hi"}


def test_rows_without_their_steps_hide_errors_that_may_quote_a_reply(quoted_inexactly):
    root, record = quoted_inexactly
    shared = LogSource(LogQueries(Store(root)))
    viewer = RedactedSource(shared, Privacy(hide_ai_text=True))
    rows, _ = run_apart(viewer.executions_page("Support auto-reply", "all", 0, 25))
    assert rows[0]["error"] == f"{HIDDEN_ERROR} (cause: Other)"
    assert not any(w in json.dumps(rows, default=str) for w in windows(REPLY))
