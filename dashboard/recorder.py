"""The recorder: the API a Python flow engine calls to log what it does.

    recorder = Recorder("data/logs")
    with recorder.execution("Support auto-reply", trigger="incoming_message", phone="+4915112345678") as run:
        with run.step("AI Response", "ai_response", input={"text": text}) as step:
            reply = model.reply(text)
            step.ai(model="gpt-4o-mini", system_prompt=SYSTEM, user_prompt=text, reply=reply,
                    prompt_tokens=412, completion_tokens=96)
            step.output = {"reply": reply}
        with run.step("Send Message", "send_message") as step:
            send(reply)
            run.message_sent()

An exception inside a step records the step as failed with its error, and, if it
leaves the execution, the execution as failed; the exception is re-raised. The
recorder emits the same events as the contract (docs/events.md), so both ways in store the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import msgspec

from .events import (
    Event,
    EventError,
    ExecutionFinished,
    ExecutionStarted,
    StepFinished,
    Tokens,
    Trigger,
    check_json_value,
    encode_event,
    parse_event,
)
from .json_values import MAX_JSON_DEPTH
from .schema import ExecutionStatus, StepStatus, TriggerType
from .store import Store, new_id, utcnow
from .writer import Writer

Clock = Callable[[], dt.datetime]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _not_before(now: dt.datetime, start: dt.datetime) -> dt.datetime:
    """A finish time never before its start: a wall clock set back mid-run would make a negative
    duration, which ingest rejects and readers cannot show."""
    return max(now, start)


def _json(value: Any, field: str) -> msgspec.Raw:
    """A step's input or output as JSON, held to the same limits as `flowlogs ingest` (MAX_JSON_DEPTH,
    numbers that read back): EventError names the field, where the engine hands the value over."""
    try:
        text = msgspec.json.encode(value)
    except RecursionError:  # msgspec gives up near Python's recursion limit, far past ours
        raise EventError(f"nested deeper than {MAX_JSON_DEPTH}", field) from None
    except ValueError as exc:  # e.g. an int past Python's 4 300 digits of text
        raise EventError(f"cannot be written as JSON ({exc})", field) from None
    check_json_value(text, field)
    return msgspec.Raw(text)


class Recorder:
    """Creates execution records; owns a Writer unless one is given.

    Payload fields (prompts, reply, error, input/output) over `max_field_bytes` are stored cut,
    with a warning on the step; the limit of a Writer passed in is that Writer's own.
    """

    def __init__(self, writer: Writer, *, clock: Clock = utcnow):
        self.writer = writer
        self.clock = clock

    @classmethod
    def open(cls, location: str | os.PathLike, *, clock: Clock = utcnow, **writer_options) -> Recorder:
        """A recorder writing to a data location (a local folder or an object-store URL): what a
        flow engine calls once at start-up. `writer_options` go to the Writer (max_field_bytes, ...)."""
        return cls(Writer(Store(location), **writer_options), clock=clock)

    def execution(self, flow_name: str, *, flow_id: str | None = None, trigger: str | TriggerType = "manual",
                  phone: str | None = None, execution_id: str | None = None) -> ExecutionRecord:
        try:  # convert() applies the contract's checks (phone format, phone only for incoming messages)
            checked = msgspec.convert({"type": str(trigger), "phone": phone}, Trigger)
        except msgspec.ValidationError as exc:
            raise EventError(str(exc).split(" - at ")[0], "trigger") from None
        return ExecutionRecord(self, flow_name, flow_id or flow_name, checked, execution_id)

    def emit(self, event: Event) -> None:
        """Check an event against the contract, exactly as `flowlogs ingest` would, then write it.

        msgspec validates on decoding, not on construction, so the round trip (2 µs) is what
        keeps the recorder from storing an empty name, a negative count or a naive timestamp.
        """
        self.writer.write(parse_event(encode_event(event)))

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ExecutionRecord:
    """One execution being recorded. Use as a context manager."""

    def __init__(self, recorder: Recorder, flow_name: str, flow_id: str, trigger: Trigger, execution_id: str):
        self.recorder = recorder
        self._given_id = execution_id
        self.flow_name = flow_name
        self.flow_id = flow_id
        self.trigger = trigger
        self.messages_sent = 0
        self.messages_failed = 0
        self.failed_steps = 0
        self.status: ExecutionStatus | None = None
        self.error: str | None = None
        self._next_index = 0

    def __enter__(self) -> ExecutionRecord:
        self.started_at = self.recorder.clock()
        # a UUIDv7 of the start time: time-ordered, and it tells which day partition holds it
        self.execution_id = self._given_id or new_id(self.started_at)
        self.recorder.emit(ExecutionStarted(
            execution_id=self.execution_id, flow_id=self.flow_id, flow_name=self.flow_name,
            at=self.started_at, trigger=self.trigger))
        return self

    def step(self, node_name: str, node_type: str, *, node_id: str | None = None, input: Any = None) -> StepRecord:
        checked = _json(input, "input")  # a bad input fails here, before the step runs
        index = self._next_index
        self._next_index += 1
        return StepRecord(self, index, node_name, node_type, node_id or f"n-{index}", checked)

    def message_sent(self, count: int = 1) -> None:
        self.messages_sent += count

    def message_failed(self, count: int = 1) -> None:
        self.messages_failed += count

    def finish(self, status: str | ExecutionStatus, error: str | None = None) -> None:
        """Set the final status explicitly (e.g. cancelled); written when the block ends."""
        self.status = ExecutionStatus(status)
        if self.status is ExecutionStatus.RUNNING:
            raise ValueError("an execution cannot finish as running")
        self.error = error

    def cancel(self, reason: str | None = None) -> None:
        self.finish(ExecutionStatus.CANCELLED, reason)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.status = ExecutionStatus.FAILED
            self.error = self.error or _describe(exc)
        elif self.status is None:
            troubled = self.messages_failed or self.failed_steps
            self.status = ExecutionStatus.COMPLETED_WITH_ERRORS if troubled else ExecutionStatus.COMPLETED
        self.recorder.emit(ExecutionFinished(
            execution_id=self.execution_id, at=_not_before(self.recorder.clock(), self.started_at),
            status=self.status.value,
            messages_sent=self.messages_sent, messages_failed=self.messages_failed, error=self.error))


class StepRecord:
    """One step (node) of an execution. Use as a context manager."""

    def __init__(self, execution: ExecutionRecord, index: int, node_name: str, node_type: str, node_id: str,
                 input: msgspec.Raw):
        self.execution = execution
        self.index = index
        self.node_name = node_name
        self.node_type = node_type
        self.node_id = node_id
        self._input = input
        self._output = _json(None, "output")
        self.warnings: list[str] = []
        self.error: str | None = None
        self.status = StepStatus.COMPLETED
        self._ai: dict[str, Any] = {}

    def ai(self, *, model: str, system_prompt: str | None = None, user_prompt: str | None = None,
           reply: str | None = None, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Attach an AI call: model, prompts, reply and token usage."""
        self._ai = {"model": model, "system_prompt": system_prompt, "user_prompt": user_prompt,
                    "ai_reply": reply, "tokens": Tokens(prompt=prompt_tokens, completion=completion_tokens)}

    @property
    def input(self) -> Any:
        return msgspec.json.decode(self._input)

    @input.setter
    def input(self, value: Any) -> None:
        self._input = _json(value, "input")

    @property
    def output(self) -> Any:
        return msgspec.json.decode(self._output)

    @output.setter
    def output(self, value: Any) -> None:
        # checked as it is set: an output too deep (or a number out of range) raises in the engine's own
        # line, and the step is recorded failed with that error instead of being lost at its end
        self._output = _json(value, "output")

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, error: str) -> None:
        """Mark the step failed without raising (the engine goes on)."""
        self.status = StepStatus.FAILED
        self.error = error

    def skip(self) -> None:
        self.status = StepStatus.SKIPPED

    def __enter__(self) -> StepRecord:
        self.started_at = self.execution.recorder.clock()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.fail(_describe(exc))
        if self.status is StepStatus.FAILED:
            self.execution.failed_steps += 1
        self.execution.recorder.emit(StepFinished(
            execution_id=self.execution.execution_id, index=self.index, node_id=self.node_id,
            node_name=self.node_name, node_type=self.node_type, status=self.status,
            started_at=self.started_at, finished_at=_not_before(self.execution.recorder.clock(), self.started_at),
            warnings=self.warnings, error=self.error, input=self._input, output=self._output,
            **self._ai))
