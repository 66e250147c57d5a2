"""The price file: where it lives, its template, its errors, re-reading it when it changes, and
`flowlogs tokens --prices`, whose cost columns come from it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_inproc import run_cli

from dashboard.prices import (
    DEFAULT_PRICES,
    PRICES_ENV,
    ModelPrice,
    PriceFile,
    PriceFileError,
    Prices,
    format_money,
    parse_prices,
    template_text,
)
from dashboard.recorder import Recorder
from dashboard.reports import UNKNOWN_PRICE, TokenReport
from dashboard.store import Location, Store
from dashboard.writer import Writer


@pytest.fixture(autouse=True)
def no_env_prices(monkeypatch):
    monkeypatch.delenv(PRICES_ENV, raising=False)


@pytest.fixture
def logs(tmp_path) -> Path:
    """One execution with a priced model (gpt-4o-mini) and one without (local-llama-3)."""
    root = tmp_path / "logs"
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    with Recorder(Writer(Store(root), flush_interval=None), clock=lambda: now) as recorder:
        with recorder.execution("Support", trigger="manual") as run:
            with run.step("Answer", "ai_response") as step:
                step.ai(model="gpt-4o-mini", prompt_tokens=1_000_000, completion_tokens=500_000)
            with run.step("Summarise", "ai_response") as step:
                step.ai(model="local-llama-3", prompt_tokens=300, completion_tokens=200)
    return root


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def tokens_json(*args: str, data: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # in this process (tests/cli_inproc.py): the real app, no interpreter start
    return run_cli(["tokens", "--data", str(data), "--json", *args], env={**os.environ, **(env or {})})


# ---------------------------------------------------------------------------
# The file's content


def test_the_template_holds_the_default_prices_and_says_how_to_edit_it():
    text = template_text()
    prices = parse_prices(text)
    assert dict(prices.models) == DEFAULT_PRICES and prices.currency == "USD"
    assert "per million tokens" in text and "unknown price" in text and "no restart" in text


def test_both_toml_spellings_and_a_currency():
    prices = parse_prices('currency = "EUR"\n'
                          '[models]\n"gpt-4o-mini" = { prompt = 0.15, completion = 0.6 }\n'
                          '[models."my.model"]\nprompt = 1\ncompletion = 2.5\n')
    assert prices.models == {"gpt-4o-mini": ModelPrice(0.15, 0.6), "my.model": ModelPrice(1, 2.5)}
    assert prices.currency == "EUR" and prices.format(1234.5) == "€1,234.50"
    assert parse_prices("").models == {}  # an empty table prices nothing: every model is unknown
    assert format_money(0.004, "CHF") == "0.0040 CHF" and format_money(2, "USD") == "$2.00"


@pytest.mark.parametrize(("text", "expected"), [
    ('[models]\ngpt = { prompt = 1, completion = "2" }', "line 2: models.gpt: completion"),
    ('[models]\n\n"a b" = { prompt = -1, completion = 2 }', 'line 3: models."a b": prompt'),
    ('[models."x"]\nprompt = 1\n', "line 1: models.x: missing 'completion'"),
    ("[models]\nx = { prompt = 1, completion = 2, cached = 1 }", "line 2: models.x: unknown keys ['cached']"),
    ("[models]\nx = 3", "line 2: models.x: expected"),
    ("modles = {}", "line 1: unknown key 'modles'"),
    ('currency = "dollars"', "line 1: currency: expected an ISO 4217 code"),
    ("models = 1", "line 1: models: expected a table"),
    ("[models]\nx = { prompt = 1, completion = }", "not valid TOML: Invalid value (at line 2, column 32)"),
])
def test_a_malformed_file_names_the_file_the_line_and_the_key(tmp_path, text, expected):
    path = write(tmp_path / "prices.toml", text)
    with pytest.raises(PriceFileError) as caught:
        PriceFile.at(path).load()
    message = str(caught.value)
    assert message.startswith(f"price file {path}: ") and expected in message, message


# ---------------------------------------------------------------------------
# Where it lives


def test_the_data_directory_gets_the_template_on_first_use(logs):
    path = logs / "prices.toml"
    assert not path.exists()
    prices = PriceFile.of(Location(logs)).load()
    assert path.read_text() == template_text() and prices.path == str(path) and dict(prices.models) == DEFAULT_PRICES
    write(path, '[models]\n"local-llama-3" = { prompt = 1, completion = 1 }\n')
    assert list(PriceFile.of(Location(logs)).load().models) == ["local-llama-3"]  # the user's file is never overwritten


def test_no_data_directory_means_the_built_in_prices_and_no_file(tmp_path):
    prices = PriceFile.of(Location(tmp_path / "missing")).load()
    assert prices.path is None and dict(prices.models) == DEFAULT_PRICES
    assert not (tmp_path / "missing").exists()


def test_a_file_named_by_the_user_must_exist(tmp_path):
    with pytest.raises(PriceFileError, match="does not exist"):
        PriceFile.at(tmp_path / "nope.toml").load()


def test_explicit_path_beats_the_environment_which_beats_the_data_directory(tmp_path, monkeypatch):
    location = Location(tmp_path)
    default = PriceFile.of(location)
    assert (default.path, default.default_location) == (str(tmp_path / "prices.toml"), True)
    monkeypatch.setenv(PRICES_ENV, str(tmp_path / "env.toml"))
    assert (PriceFile.of(location).path, PriceFile.of(location).default_location) == (str(tmp_path / "env.toml"), False)
    assert PriceFile.of(location, tmp_path / "cli.toml").path == str(tmp_path / "cli.toml")


def test_an_edit_is_read_again_and_a_fix_recovers(tmp_path):
    path = write(tmp_path / "prices.toml", "[models]\nm = { prompt = 1, completion = 2 }\n")
    prices = PriceFile.at(path)
    first = prices.load()
    assert prices.load() is first  # unchanged: parsed once
    write(path, "[models]\nm = { prompt = 1, completion = 2 }\nn = { prompt = 3, completion = 4 }\n")
    assert set(prices.load().models) == {"m", "n"}
    write(path, "[models]\nm = { prompt = oops }\n")
    with pytest.raises(PriceFileError, match="line 2"):
        prices.load()
    write(path, '[models]\nm = { prompt = 5, completion = 6 }\n')
    assert prices.load().models == {"m": ModelPrice(5, 6)}


# ---------------------------------------------------------------------------
# Reports and the command use it


def test_reports_price_from_the_data_directory_file_and_unknown_models_stay_unknown(logs):
    write(logs / "prices.toml", 'currency = "EUR"\n[models]\n"gpt-4o-mini" = { prompt = 2, completion = 4 }\n')
    report = TokenReport.load(logs)
    totals = report.totals()
    assert totals["cost_usd"] == pytest.approx(2.0 + 2.0) and totals["currency"] == "EUR"
    assert totals["unpriced_models"] == ["local-llama-3"] and totals["unpriced_tokens"] == 500
    assert totals["cost"] == f"€4.00 + {UNKNOWN_PRICE} for 500 tokens"
    models = {r["model"]: r for r in report.records("model")}
    assert models["local-llama-3"]["cost_usd"] is None and models["local-llama-3"]["cost"] == UNKNOWN_PRICE


def test_tokens_command_uses_the_same_file_as_the_report(logs, tmp_path):
    write(logs / "prices.toml", '[models]\n"gpt-4o-mini" = { prompt = 1, completion = 1 }\n')
    other = write(tmp_path / "other.toml", '[models]\n"local-llama-3" = { prompt = 1000, completion = 1000 }\n')

    default = json.loads(tokens_json("--by", "model", data=logs).stdout)
    assert default == TokenReport.load(logs).records("model")
    assert {r["model"]: r["cost_usd"] for r in default} == {"gpt-4o-mini": 1.5, "local-llama-3": None}

    for result in (tokens_json("--by", "model", "--prices", str(other), data=logs),
                   tokens_json("--by", "model", data=logs, env={PRICES_ENV: str(other)})):
        rows = {r["model"]: r for r in json.loads(result.stdout)}
        assert rows["gpt-4o-mini"]["cost"] == UNKNOWN_PRICE and rows["local-llama-3"]["cost_usd"] == 0.5
        assert rows == {r["model"]: r for r in TokenReport.load(logs, prices=other).records("model")}


def test_tokens_command_refuses_a_malformed_or_missing_file_clearly(logs, tmp_path):
    bad = write(tmp_path / "bad.toml", "[models]\n\ngpt = { prompt = 1 }\n")
    result = tokens_json("--prices", str(bad), data=logs)
    assert result.returncode == 1 and result.stdout == ""
    assert "bad.toml" in result.stderr and "line 3" in result.stderr and "models.gpt" in result.stderr
    result = tokens_json("--prices", str(tmp_path / "missing.toml"), data=logs)
    assert result.returncode != 0 and "missing.toml" in result.stderr


def test_a_prices_object_keeps_its_currency_in_a_report(logs):
    report = TokenReport.load(logs, prices=Prices({"gpt-4o-mini": ModelPrice(1, 1)}, "GBP"))
    assert report.totals()["cost"].startswith("£1.50 + ")
