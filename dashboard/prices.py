"""The price table a user edits: model -> price per million prompt and completion tokens.

It is a TOML file, `prices.toml` in the data location unless `--prices FILE` (on
`flowlogs serve` and `flowlogs tokens`) or `FLOWLOGS_PRICES` names another:

    currency = "USD"          # optional, an ISO 4217 code; USD if left out

    [models]
    "gpt-4o-mini" = { prompt = 0.15, completion = 0.60 }
    # or, the same: [models."gpt-4o-mini"] / prompt = 0.15 / completion = 0.60

The first time prices are read for a data directory that has no `prices.toml`, the
file is written there with `DEFAULT_PRICES` and comments that explain it. `PriceFile`
re-reads the file when it changes, so an edit applies without restarting the server.
A malformed file raises `PriceFileError`, whose message names the file and the line
or the key that is wrong. A model missing from the table has no price: reports show
its cost as unknown, never as zero.

No Panel or hvplot here: the reports, the command line and the dashboard share it.
"""

from __future__ import annotations

import math
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from .store.location import Location

PRICES_FILE = "prices.toml"  # in the data directory
PRICES_ENV = "FLOWLOGS_PRICES"
DEFAULT_CURRENCY = "USD"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


@dataclass(frozen=True)
class ModelPrice:
    """Price per million tokens (in the table's currency)."""

    prompt: float
    completion: float

    def __post_init__(self):
        for name in ("prompt", "completion"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}: a price is a non-negative number per million tokens, not {value!r}")


# List prices (USD per million tokens) of the models flows commonly call: the content of
# the prices.toml written on first use, and the table of a report made without a data directory.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "gpt-3.5-turbo": ModelPrice(0.50, 1.50),
    "o3-mini": ModelPrice(1.10, 4.40),
    "claude-3-5-sonnet": ModelPrice(3.00, 15.00),
    "claude-3-7-sonnet": ModelPrice(3.00, 15.00),
    "claude-sonnet-4": ModelPrice(3.00, 15.00),
    "claude-3-5-haiku": ModelPrice(0.80, 4.00),
    "claude-3-haiku": ModelPrice(0.25, 1.25),
    "claude-opus-4": ModelPrice(15.00, 75.00),
    "gemini-1.5-flash": ModelPrice(0.075, 0.30),
    "gemini-1.5-pro": ModelPrice(1.25, 5.00),
    "gemini-2.0-flash": ModelPrice(0.10, 0.40),
    "mistral-small": ModelPrice(0.20, 0.60),
    "mistral-large": ModelPrice(2.00, 6.00),
}

PriceSpec = ModelPrice | Mapping[str, float] | tuple[float, float] | list[float]


def price_table(prices: Mapping[str, PriceSpec] | None = None) -> dict[str, ModelPrice]:
    """A normalised price table; None gives DEFAULT_PRICES.

    Each value may be a ModelPrice, a `{"prompt": x, "completion": y}` mapping (the
    shape a TOML or JSON config file gives) or a `(prompt, completion)` pair.
    A ValueError names the model whose entry is wrong.
    """
    if prices is None:
        return dict(DEFAULT_PRICES)
    table = {}
    for model, spec in prices.items():
        try:
            if isinstance(spec, ModelPrice):
                price = spec
            elif isinstance(spec, Mapping):
                unknown = set(spec) - {"prompt", "completion"}
                if unknown:
                    raise ValueError(f"unknown keys {sorted(unknown)}; expected prompt and completion")
                price = ModelPrice(spec["prompt"], spec["completion"])
            elif isinstance(spec, (tuple, list)) and len(spec) == 2:
                price = ModelPrice(*spec)
            else:
                raise ValueError(f"expected {{'prompt': USD, 'completion': USD}}, not {spec!r}")
        except KeyError as exc:
            raise ValueError(f"price of {model!r}: missing {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"price of {model!r}: {exc}") from None
        table[str(model)] = price
    return table


@dataclass(frozen=True)
class Prices:
    """A price table, its currency and the file it came from (None: the built-in defaults)."""

    models: Mapping[str, ModelPrice] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    currency: str = DEFAULT_CURRENCY
    path: str | None = None

    def format(self, amount: float) -> str:
        return format_money(amount, self.currency)


def format_money(amount: float, currency: str = DEFAULT_CURRENCY) -> str:
    """`$1.23`, `€0.0042`, `12.50 CHF`: sub-cent amounts keep four decimals, so they do not read as zero."""
    digits = 4 if amount != 0 and abs(amount) < 0.01 else 2
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{symbol}{amount:,.{digits}f}"
    return f"{amount:,.{digits}f} {currency}"


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency, currency + " ")


class PriceFileError(ValueError):
    """A price file that cannot be used; the message names the file and what is wrong where."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"price file {path}: {problem}")


# ---------------------------------------------------------------------------
# The file


def template_text(prices: Mapping[str, ModelPrice] | None = None, currency: str = DEFAULT_CURRENCY) -> str:
    """The prices.toml written on first use: the table with comments saying how to edit it."""
    prices = DEFAULT_PRICES if prices is None else prices
    width = max((len(_toml_key(m)) for m in prices), default=0)
    lines = [
        "# flowlogs price table: the estimated cost of AI steps on the dashboard's Token usage page,",
        "# in `flowlogs tokens` and in notebooks/token_usage.ipynb.",
        "#",
        "# Prices are per million tokens: `prompt` for the tokens sent to the model, `completion`",
        "# for the tokens it wrote. A model is matched by its exact name as the flows record it.",
        "# A model that is not listed is shown as \"unknown price\", never as free.",
        "# The dashboard re-reads this file when it changes: no restart needed.",
        "# These are list prices at the time of writing; put your own (negotiated) prices here.",
        "",
        "# The currency of every price below (an ISO 4217 code such as USD, EUR, GBP).",
        f'currency = "{currency}"',
        "",
        "[models]",
        *(f"{_toml_key(m):<{width}} = {{ prompt = {_num(p.prompt)}, completion = {_num(p.completion)} }}"
          for m, p in prices.items()),
        "",
        "# Another way to write one entry:",
        '# [models."my-fine-tuned-model"]',
        "# prompt = 3.00",
        "# completion = 12.00",
        "",
    ]
    return "\n".join(lines)


def parse_prices(text: str, path: str | os.PathLike = PRICES_FILE) -> Prices:
    """The Prices of a price file's text; PriceFileError names the line or key that is wrong."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceFileError(path, f"not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"currency", "models"})
    if unknown:
        raise PriceFileError(path, f"{_where(text, unknown[0])}unknown key {unknown[0]!r}; "
                                   "expected `currency` and a [models] table")
    currency = doc.get("currency", DEFAULT_CURRENCY)
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise PriceFileError(path, f"{_where(text, 'currency')}currency: expected an ISO 4217 code such as "
                                   f'"USD" or "EUR", not {currency!r}')
    models = doc.get("models", {})
    if not isinstance(models, dict):
        raise PriceFileError(path, f"{_where(text, 'models')}models: expected a table of "
                                   "model = { prompt = ..., completion = ... }")
    table = {}
    for model, spec in models.items():
        try:
            table.update(price_table({model: spec}))
        except ValueError as exc:
            problem = str(exc).replace(f"price of {model!r}: ", "", 1)
            raise PriceFileError(path, f"{_where(text, model)}models.{_toml_key(model)}: {problem}") from None
    return Prices(table, currency, str(path))


class PriceFile:
    """One price file, parsed once and again whenever it changes (size and modification time on
    disk, the object's ETag on object storage).

    A file is a name under a location: the data location's own `prices.toml`, or a file the user
    names. `default_location=True` (the data location's own) writes the template when the file is
    missing, if the location exists; a file named by the user must exist.
    Safe to share between threads and sessions: build one per data location and pass it on.
    """

    def __init__(self, location: Location, name: str = PRICES_FILE, *, default_location: bool = False):
        self.location, self.name = location, name
        self.path = location.join(name)
        self.default_location = default_location
        self._lock = threading.Lock()
        self._seen: object | None = None
        self._result: Prices | PriceFileError | None = None

    @classmethod
    def at(cls, path: str | os.PathLike) -> PriceFile:
        """A price file the user names (a local path, or a URL of object storage)."""
        text = os.fspath(path)
        folder, _, name = text.rstrip("/").rpartition("/")
        return cls(Location(folder or "."), name)

    @classmethod
    def of(cls, location: Location, path: str | os.PathLike | None = None) -> PriceFile:
        """The price file of a data location: `path`, else FLOWLOGS_PRICES, else its prices.toml."""
        if path is not None:
            return cls.at(path)
        if os.environ.get(PRICES_ENV):
            return cls.at(os.environ[PRICES_ENV])
        return cls(location, PRICES_FILE, default_location=True)

    def signature(self) -> object | None:
        """What changes when the file does (None while it is missing)."""
        try:
            return self.location.modified(self.name)
        except OSError:
            return None

    def load(self) -> Prices:
        """The current prices; raises PriceFileError while the file is malformed or missing."""
        with self._lock:
            seen = self.signature()
            if seen is None and self.default_location:
                seen = self._write_template()
            elif seen is None:
                raise PriceFileError(self.path, "does not exist")
            if seen is None or seen != self._seen or self._result is None:
                self._result = self._read() if seen is not None else Prices(dict(DEFAULT_PRICES))
                self._seen = seen
            if isinstance(self._result, PriceFileError):
                raise self._result
            return self._result

    def _read(self) -> Prices | PriceFileError:
        try:
            data = self.location.read_bytes(self.name)
            if data is None:
                return PriceFileError(self.path, "does not exist")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return PriceFileError(self.path, f"cannot be read: {exc}")
        try:
            return parse_prices(text, self.path)
        except PriceFileError as exc:
            return exc

    def _write_template(self) -> object | None:
        """Write the template if the data location exists; None: use the built-in table."""
        folder = self.location.path
        if folder is None:  # object storage: one PUT; a concurrent writer writes the same text
            try:
                self.location.write_bytes(template_text().encode(), self.name)
            except OSError:
                return None
            return self.signature()
        if not folder.is_dir():
            return None  # no data directory yet: nothing to put a file in
        target = folder / self.name
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(template_text(), encoding="utf-8")
            os.link(tmp, target)  # never overwrites a file another process wrote meanwhile
        except FileExistsError:
            pass
        except OSError:
            return None  # a read-only data directory: the built-in table, as the template would say
        finally:
            tmp.unlink(missing_ok=True)
        return self.signature()


# ---------------------------------------------------------------------------
# helpers


def _toml_key(name: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(value: float) -> str:
    return f"{value:.2f}" if round(value, 2) == value else repr(float(value))


def _where(text: str, key: str) -> str:
    """`line N: ` for the line that defines `key` (the first one), or '' if it cannot be told."""
    quoted = "|".join(re.escape(k) for k in {key, f'"{key}"', f"'{key}'", _toml_key(key)})
    pattern = re.compile(rf"^\s*(?:\[\s*models\s*\.\s*)?(?:{quoted})\s*(?:=|\])")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return f"line {number}: "
    return ""
