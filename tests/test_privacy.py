"""Privacy options: phone numbers masked, AI prompts and replies hidden from viewers, on the server."""

import asyncio
import concurrent.futures
import json

import pytest

from dashboard.privacy import HIDDEN, HIDDEN_MARK, Privacy, RedactedSource, mask_phone, mask_phones_in_text
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
    assert json.loads(viewer["steps"][2]["input"]) == {"to": "+49 151 ••• 678", "text": HIDDEN_MARK}
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
