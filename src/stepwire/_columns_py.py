"""The pure-Python twin of ``Columns``: the reference the compiled one is held to.

The contract both twins keep (``_columns`` picks one): a ``Columns()`` with
``add(step, body=None)``, ``add_parts(header, details, raw_details)`` (which
returns ``text_bytes``),
``clear()``, ``rows``, ``text_bytes``, ``text(name)`` (a ``_rows.Text``),
``column(name)`` (a list), and ``steps`` / ``calls`` (every column, as lists).
The values are ``_rows``' (its helpers are shared); only the loop differs.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from ._encode import encode
from ._model import RunStep
from ._rows import (
    NAMED,
    RAW_DETAILS,
    ColumnsBase,
    add_metadata,
    call_kind,
    calls_of,
    extra_of,
    text_of,
    tokens,
    unknown_named,
    usage_has_extra,
)

__all__ = ["IMPLEMENTATION", "Columns"]

IMPLEMENTATION = "python"


class Columns(ColumnsBase):
    """``ColumnsBase`` with its loop in Python (see ``ColumnsBase``)."""

    __slots__ = ("_call_appends", "_step_appends")

    def clear(self) -> None:
        super().clear()
        # Bound once a batch, not once a step.
        self._step_appends = tuple(column.append for column in self._step_lists)
        self._call_appends = tuple(column.append for column in self._call_lists)

    def add_parts(self, step: Any, details: Any, raw_details: Any) -> int:
        (
            a_id,
            a_object,
            a_thread,
            a_run,
            a_assistant,
            a_type,
            a_status,
            a_created,
            a_expires,
            a_cancelled,
            a_failed,
            a_completed,
            a_expired,
            a_code,
            a_message,
            a_prompt,
            a_completion,
            a_total,
            a_cached,
            a_reasoning,
            a_extra,
        ) = self._step_appends
        a_id(step.id)
        a_object(step.object)
        a_thread(step.thread_id)
        a_run(step.run_id)
        a_assistant(step.assistant_id)
        a_type(step.type)
        a_status(step.status)
        a_created(step.created_at)
        # UNSET (absent) and None (null) are both a null in a column.
        value = step.expires_at
        a_expires(None if value is UNSET else value)
        value = step.cancelled_at
        a_cancelled(None if value is UNSET else value)
        value = step.failed_at
        a_failed(None if value is UNSET else value)
        value = step.completed_at
        a_completed(None if value is UNSET else value)
        value = step.expired_at
        a_expired(None if value is UNSET else value)
        error = step.last_error
        if error is UNSET or error is None:
            a_code(None)
            a_message(None)
            plain = True
        else:
            a_code(error.code)
            a_message(error.message)
            plain = error.extra is UNSET
        usage = step.usage
        if usage is UNSET or usage is None:
            prompt = completion = total = cached = reasoning = None
        else:
            prompt, completion, total, cached, reasoning = tokens(usage)
            plain = plain and not usage_has_extra(usage)
        a_prompt(prompt)
        a_completion(completion)
        a_total(total)
        a_cached(cached)
        a_reasoning(reasoning)
        add_metadata(self._metadata, step.metadata)
        a_extra(None if plain and step.extra is UNSET else extra_of(step))
        from_body = raw_details is not None
        if not from_body:
            raw_details = encode(details)
        self._texts["step_details"].append(raw_details)
        calls = calls_of(details)
        if calls and self.with_calls:
            raws = RAW_DETAILS.decode(raw_details).tool_calls if from_body else None
            self._add_calls(step, calls, raws if raws and len(raws) == len(calls) else None)
        return self.text_bytes

    def _add_calls(self, step: RunStep, calls: list[Any], raws: list[Any] | None) -> None:
        (
            a_step,
            a_run,
            a_thread,
            a_created,
            a_position,
            a_id,
            a_type,
            a_name,
            a_arguments,
            a_output,
        ) = self._call_appends
        payloads = self._texts["payload"]
        step_id, run_id, thread_id, created = step.id, step.run_id, step.thread_id, step.created_at
        for position, call in enumerate(calls):
            get = NAMED.get(type(call))
            if get is not None:
                call_id, call_type = call.id, call.type
                name, arguments, output = get(call)
            elif isinstance(call, dict):  # an unknown type, or not an object of any
                call_id, call_type = text_of(call.get("id")), text_of(call.get("type"))
                name, arguments, output = unknown_named(call)
            elif isinstance(call, msgspec.Struct):  # a known type without those fields
                call_id, call_type = getattr(call, "id", None), call_kind(call)
                name = arguments = output = None
            else:  # a JSON value that is not an object, kept as it came
                call_id = call_type = name = arguments = output = None
            a_step(step_id)
            a_run(run_id)
            a_thread(thread_id)
            a_created(created)
            a_position(position)
            a_id(call_id)
            a_type(call_type)
            a_name(name)
            a_arguments(arguments)
            a_output(output)
            payloads.append(raws[position] if raws is not None else encode(call))
