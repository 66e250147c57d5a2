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

from .schema import (
    Event,
    EventError,
    ExecutionFinished,
    ExecutionStarted,
    ExecutionStatus,
    StepFinished,
    StepStatus,
    Tokens,
    Trigger,
    TriggerType,
    encode_event,
    parse_event,
)
from .store import Store, new_id, utcnow
from .writer import Writer

Clock = Callable[[], dt.datetime]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _json(value: Any) -> msgspec.Raw:
    return msgspec.Raw(msgspec.json.encode(value))


class Recorder:
    """Creates execution records; owns a Writer unless one is given.

    Payload fields (prompts, reply, error, input/output) over `max_field_bytes` are stored cut,
    with a warning on the step; the limit of a Writer passed in is that Writer's own.
    """

    def __init__(self, target: Writer | Store | str | os.PathLike, *, clock: Clock = utcnow,
                 max_field_bytes: int | None = None):
        if isinstance(target, Writer):
            if max_field_bytes is not None and max_field_bytes != target.max_field_bytes:
                raise ValueError("set max_field_bytes on the Writer given to the Recorder")
            self.writer = target
        else:
            limit = {} if max_field_bytes is None else {"max_field_bytes": max_field_bytes}
            self.writer = Writer(target, **limit)
        self.clock = clock

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
        index = self._next_index
        self._next_index += 1
        return StepRecord(self, index, node_name, node_type, node_id or f"n-{index}", input)

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
            execution_id=self.execution_id, at=self.recorder.clock(), status=self.status.value,
            messages_sent=self.messages_sent, messages_failed=self.messages_failed, error=self.error))


class StepRecord:
    """One step (node) of an execution. Use as a context manager."""

    def __init__(self, execution: ExecutionRecord, index: int, node_name: str, node_type: str, node_id: str,
                 input: Any):
        self.execution = execution
        self.index = index
        self.node_name = node_name
        self.node_type = node_type
        self.node_id = node_id
        self.input = input
        self.output: Any = None
        self.warnings: list[str] = []
        self.error: str | None = None
        self.status = StepStatus.COMPLETED
        self._ai: dict[str, Any] = {}

    def ai(self, *, model: str, system_prompt: str | None = None, user_prompt: str | None = None,
           reply: str | None = None, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Attach an AI call: model, prompts, reply and token usage."""
        self._ai = {"model": model, "system_prompt": system_prompt, "user_prompt": user_prompt,
                    "ai_reply": reply, "tokens": Tokens(prompt=prompt_tokens, completion=completion_tokens)}

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
            started_at=self.started_at, finished_at=self.execution.recorder.clock(),
            warnings=self.warnings, error=self.error, input=_json(self.input), output=_json(self.output),
            **self._ai))
