# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled twin of ``Columns``: ``_columns_py``'s loop, with C locals.

The same contract as ``_columns_py`` (its docstring), the same ``_rows``
helpers for every value; only the loop over a step's fields is compiled.
"""

import msgspec
from msgspec import UNSET

from stepwire._encode import encode
from stepwire._rows import (
    NAMED,
    RAW_DETAILS,
    ColumnsBase,
    call_kind,
    calls_of,
    extra_of,
    add_metadata,
    text_of,
    tokens,
    unknown_named,
    usage_has_extra,
)

__all__ = ["IMPLEMENTATION", "Columns"]

IMPLEMENTATION = "cython"

cdef object _UNSET = UNSET
cdef object _STRUCT = msgspec.Struct
cdef dict _NAMED = NAMED


cdef inline object _null(object value):
    return None if value is _UNSET else value


class Columns(ColumnsBase):
    """``ColumnsBase`` with its loop compiled (see ``ColumnsBase``)."""

    __slots__ = ()

    def add_parts(self, step, details, raw_details):
        cdef tuple lists = self._step_lists
        cdef list c_id = lists[0], c_object = lists[1], c_thread = lists[2], c_run = lists[3]
        cdef list c_assistant = lists[4], c_type = lists[5], c_status = lists[6]
        cdef list c_created = lists[7], c_expires = lists[8], c_cancelled = lists[9]
        cdef list c_failed = lists[10], c_completed = lists[11], c_expired = lists[12]
        cdef list c_code = lists[13], c_message = lists[14], c_prompt = lists[15]
        cdef list c_completion = lists[16], c_total = lists[17], c_cached = lists[18]
        cdef list c_reasoning = lists[19], c_extra = lists[20]
        cdef bint plain
        cdef bint from_body
        c_id.append(step.id)
        c_object.append(step.object)
        c_thread.append(step.thread_id)
        c_run.append(step.run_id)
        c_assistant.append(step.assistant_id)
        c_type.append(step.type)
        c_status.append(step.status)
        c_created.append(step.created_at)
        # UNSET (absent) and None (null) are both a null in a column.
        c_expires.append(_null(step.expires_at))
        c_cancelled.append(_null(step.cancelled_at))
        c_failed.append(_null(step.failed_at))
        c_completed.append(_null(step.completed_at))
        c_expired.append(_null(step.expired_at))
        error = step.last_error
        if error is _UNSET or error is None:
            c_code.append(None)
            c_message.append(None)
            plain = True
        else:
            c_code.append(error.code)
            c_message.append(error.message)
            plain = error.extra is _UNSET
        usage = step.usage
        if usage is _UNSET or usage is None:
            for column in (c_prompt, c_completion, c_total, c_cached, c_reasoning):
                (<list>column).append(None)
        else:
            prompt, completion, total, cached, reasoning = tokens(usage)
            c_prompt.append(prompt)
            c_completion.append(completion)
            c_total.append(total)
            c_cached.append(cached)
            c_reasoning.append(reasoning)
            plain = plain and not usage_has_extra(usage)
        add_metadata(self._metadata, step.metadata)
        c_extra.append(None if plain and step.extra is _UNSET else extra_of(step))
        from_body = raw_details is not None
        if not from_body:
            raw_details = encode(details)
        self._texts["step_details"].append(raw_details)
        calls = calls_of(details)
        if calls and self.with_calls:
            raws = RAW_DETAILS.decode(raw_details).tool_calls if from_body else None
            if raws is not None and len(raws) != len(calls):
                raws = None
            _add_calls(self, step, calls, raws)


cdef _add_calls(object columns, object step, list calls, object raws):
    cdef tuple lists = columns._call_lists
    cdef list c_step = lists[0], c_run = lists[1], c_thread = lists[2], c_created = lists[3]
    cdef list c_position = lists[4], c_id = lists[5], c_type = lists[6], c_name = lists[7]
    cdef list c_arguments = lists[8], c_output = lists[9]
    payloads = columns._texts["payload"]
    step_id, run_id, thread_id, created = step.id, step.run_id, step.thread_id, step.created_at
    cdef Py_ssize_t position
    for position in range(len(calls)):
        call = calls[position]
        get = _NAMED.get(type(call))
        if get is not None:
            call_id, call_type = call.id, call.type
            name, arguments, output = get(call)
        elif isinstance(call, dict):  # an unknown type, or not an object of any
            call_id, call_type = text_of(call.get("id")), text_of(call.get("type"))
            name, arguments, output = unknown_named(call)
        elif isinstance(call, _STRUCT):  # a known type without those fields
            call_id, call_type = getattr(call, "id", None), call_kind(call)
            name = arguments = output = None
        else:  # a JSON value that is not an object, kept as it came
            call_id = call_type = name = arguments = output = None
        c_step.append(step_id)
        c_run.append(run_id)
        c_thread.append(thread_id)
        c_created.append(created)
        c_position.append(position)
        c_id.append(call_id)
        c_type.append(call_type)
        c_name.append(name)
        c_arguments.append(arguments)
        c_output.append(output)
        payloads.append(raws[position] if raws is not None else encode(call))
