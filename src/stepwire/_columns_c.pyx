# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled twin of ``Columns``: ``_columns_py``'s loop, and ``_rows``' rules, in C.

The same contract as ``_columns_py`` (its docstring) and the same values:
tests/test_columns.py holds the two twins to the same columns, value for value,
on every kind of step. Where the Python twin calls ``_rows``' helpers once a
value, this one has their rules inline (a call into Python per value cost more
than the rest of the row), and rare cases (unmodelled fields, non-string
values, unknown tool types) go to the shared helpers.

A tool call's ``payload`` is its own bytes in the step's details. The Python
twin finds them with a second msgspec decode (``_rows.RAW_DETAILS``); this one
with ``_calls_in``, a scan of the details' structure, which decoding has
already proved to be JSON. When the scan cannot be sure (an escape inside a
key, say), the decode is the answer, as in the Python twin.
"""

from cpython cimport array
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_New, PyTuple_SET_ITEM
from libc.string cimport memchr, memcmp

import array

import msgspec
from msgspec import UNSET
from msgspec.structs import astuple

from stepwire._encode import encode
from stepwire._model import (
    AzureFunctionToolCall,
    BrowserAutomationToolCall,
    ConnectedAgentToolCall,
    DeepResearchToolCall,
    FunctionToolCall,
    MCPToolCall,
    MessageCreationStepDetails,
    OpenAPIToolCall,
    ToolCallsStepDetails,
)
from stepwire._rows import (
    NAMED,
    RAW_DETAILS,
    ColumnsBase,
    calls_of,
    extra_of,
    add_metadata,
    text_of,
    unknown_named,
)

__all__ = ["IMPLEMENTATION", "Columns"]

IMPLEMENTATION = "cython"

cdef object _UNSET = UNSET
cdef object _STRUCT = msgspec.Struct
cdef object _DETAILS = ToolCallsStepDetails
cdef object _MESSAGE = MessageCreationStepDetails
cdef object _ASTUPLE = astuple
cdef object _FUNCTION = FunctionToolCall
cdef object _AZURE_FUNCTION = AzureFunctionToolCall
cdef object _OPENAPI = OpenAPIToolCall
cdef object _CONNECTED = ConnectedAgentToolCall
cdef object _MCP = MCPToolCall
cdef object _DEEP_RESEARCH = DeepResearchToolCall
cdef object _BROWSER = BrowserAutomationToolCall
cdef tuple _NONE3 = (None, None, None)
cdef dict _NAMED = NAMED

# A step header's fields, read from one ``astuple`` (a getattr a field costs more), at
# the places its type keeps them: found once a type.
cdef tuple _STEP_FIELDS = (
    "id", "object", "thread_id", "run_id", "assistant_id", "type", "status", "created_at",
    "expires_at", "cancelled_at", "failed_at", "completed_at", "expired_at", "last_error",
    "usage", "metadata", "extra",
)
cdef tuple _USAGE_FIELDS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "prompt_token_details",
    "prompt_tokens_details", "completion_tokens_details", "extra",
)
# By type, where its ``astuple`` holds each of _STEP_FIELDS (or _USAGE_FIELDS), one byte
# a place; b"" if it lacks one.
cdef dict _STEP_PLACES = {}
cdef dict _USAGE_PLACES = {}
cdef dict _TAGS = {}


cdef bytes _places(dict known, object kind, tuple names):
    places = known.get(kind)
    if places is None:
        fields = getattr(kind, "__struct_fields__", ())
        places = b""
        if len(fields) < 256 and set(names) <= set(fields):
            places = bytes([fields.index(name) for name in names])
        known[kind] = places
    return <bytes>places


cdef tuple _fields(object value, dict known, tuple names):
    """``value``'s fields ``names``, in that order."""
    cdef bytes places = _places(known, type(value), names)
    cdef const unsigned char* at = places
    cdef Py_ssize_t i, n = len(places)
    cdef tuple values, out
    if not n:  # not a Struct with them all: each by name, as the Python twin
        return tuple([getattr(value, name) for name in names])
    values = _ASTUPLE(value)
    out = PyTuple_New(n)
    for i in range(n):
        item = <object>PyTuple_GET_ITEM(values, at[i])
        Py_INCREF(item)
        PyTuple_SET_ITEM(out, i, item)
    return out


cdef object _tag(object kind):
    # _rows.call_kind, once a type.
    tag = _TAGS.get(kind, _UNSET)
    if tag is _UNSET:
        tag = _TAGS[kind] = kind.__struct_config__.tag
    return tag


cdef inline object _null(object value):
    return None if value is _UNSET else value


cdef inline object _text(object value):
    # _rows.text_of, with its common case (a string, or nothing) inline.
    if value is _UNSET or value is None:
        return None
    if type(value) is str:
        return value
    return text_of(value)


cdef inline tuple _nested(object inner):
    if inner is _UNSET or inner is None:
        return _NONE3
    return (
        _text(getattr(inner, "name", None)),
        _text(getattr(inner, "arguments", None)),
        _text(getattr(inner, "output", None)),
    )


cdef inline tuple _named(object call, object kind):
    """_rows.NAMED's rule for a known tool type (inline for the types it lists now);
    ``None`` for a type it does not list."""
    if kind is _FUNCTION or kind is _OPENAPI:
        return _nested(call.function)
    if kind is _AZURE_FUNCTION:
        return _nested(call.azure_function)
    if kind is _CONNECTED:
        return _nested(call.connected_agent)
    if kind is _MCP:
        return (call.name, call.arguments, _text(call.output))
    if kind is _DEEP_RESEARCH:
        return (None, None, _text(call.deep_research.output))
    if kind is _BROWSER:
        return (None, None, call.browser_automation.output)
    get = _NAMED.get(kind)  # a type _rows.NAMED gained since: its own rule
    return None if get is None else get(call)


cdef inline object _count(object details, str name):
    # A token count in one of usage's details objects, or None.
    if details is _UNSET or details is None:
        return None
    return _null(getattr(details, name))


cdef inline bint _has_extra(object details):
    return details is not _UNSET and details is not None and details.extra is not _UNSET


cdef inline void _end(array.array ends, Py_ssize_t size):
    # Arrow's layout of a string column: where each value ends (int32).
    cdef Py_ssize_t n = len(ends)
    array.resize_smart(ends, n + 1)
    ends.data.as_ints[n] = <int>size


cdef inline Py_ssize_t _append_text(list parts, array.array ends, object value):
    cdef Py_ssize_t size = ends.data.as_ints[len(ends) - 1] + len(value)
    parts.append(value)
    _end(ends, size)
    return size


# -- a tool call's bytes in its step's details -----------------------------------------

cdef inline Py_ssize_t _ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (p[i] == 32 or p[i] == 10 or p[i] == 13 or p[i] == 9):
        i += 1
    return i


cdef Py_ssize_t _string_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """After the string whose opening quote is at ``i``; -1 if it does not end."""
    cdef const unsigned char* quote
    cdef Py_ssize_t j, k
    i += 1
    while i < n:
        quote = <const unsigned char*>memchr(p + i, 34, n - i)
        if quote == NULL:
            return -1
        j = quote - p
        k = j - 1
        while k >= i and p[k] == 92:  # the backslashes just before it
            k -= 1
        if (j - 1 - k) % 2 == 0:  # none, or escaped backslashes: the string's end
            return j + 1
        i = j + 1
    return -1


cdef Py_ssize_t _value_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """After the JSON value that starts at ``i``; -1 if it does not end."""
    cdef unsigned char c = p[i]
    cdef Py_ssize_t depth = 0
    if c == 34:
        return _string_end(p, i, n)
    if c == 123 or c == 91:
        while i < n:
            c = p[i]
            if c == 34:
                i = _string_end(p, i, n)
                if i < 0:
                    return -1
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    while i < n:  # a number, true, false or null: up to what follows it
        c = p[i]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9:
            return i
        i += 1
    return i


cdef int _calls_in(const unsigned char* p, Py_ssize_t n, list out) except -2:
    """Append to ``out`` each item of the JSON object's ``tool_calls`` array (its last,
    as a decode keeps), as bytes. 1 if found, 0 if the object has no such key, -1 if
    the scan cannot say (``out`` is then to be ignored)."""
    cdef Py_ssize_t i, key, key_end, start
    cdef int found = 0
    i = _ws(p, 0, n)
    if i >= n or p[i] != 123:
        return -1
    i = _ws(p, i + 1, n)
    if i < n and p[i] == 125:
        return 0
    while i < n:
        if p[i] != 34:
            return -1
        key = i + 1
        i = _string_end(p, i, n)
        if i < 0:
            return -1
        key_end = i - 1
        if memchr(p + key, 92, key_end - key) != NULL:
            return -1  # an escape: the key may still spell tool_calls
        i = _ws(p, i, n)
        if i >= n or p[i] != 58:
            return -1
        i = _ws(p, i + 1, n)
        if i >= n:
            return -1
        if key_end - key == 10 and memcmp(p + key, b"tool_calls", 10) == 0:
            if p[i] != 91:
                return -1
            del out[:]
            found = 1
            i = _ws(p, i + 1, n)
            if i < n and p[i] == 93:
                i += 1
            else:
                while True:
                    if i >= n:
                        return -1
                    start = i
                    i = _value_end(p, i, n)
                    if i < 0:
                        return -1
                    out.append(PyBytes_FromStringAndSize(<const char*>p + start, i - start))
                    i = _ws(p, i, n)
                    if i >= n:
                        return -1
                    if p[i] == 44:
                        i = _ws(p, i + 1, n)
                    elif p[i] == 93:
                        i += 1
                        break
                    else:
                        return -1
        else:
            i = _value_end(p, i, n)
            if i < 0:
                return -1
        i = _ws(p, i, n)
        if i >= n:
            return -1
        if p[i] == 44:
            i = _ws(p, i + 1, n)
        elif p[i] == 125:
            return found
        else:
            return -1
    return -1


cdef list _raw_calls(object raw_details, Py_ssize_t calls):
    """Each call's bytes in ``raw_details``; None if they are not one per call."""
    cdef Py_buffer view
    cdef list out = []
    cdef int found
    PyObject_GetBuffer(raw_details, &view, PyBUF_SIMPLE)
    try:
        found = _calls_in(<const unsigned char*>view.buf, view.len, out)
    finally:
        PyBuffer_Release(&view)
    if found < 0:
        out = RAW_DETAILS.decode(raw_details).tool_calls
    return out if len(out) == calls else None


# -- the loop ---------------------------------------------------------------------------

class Columns(ColumnsBase):
    """``ColumnsBase`` with its loop compiled (see ``ColumnsBase``)."""

    __slots__ = ("_fast",)

    def clear(self):
        ColumnsBase.clear(self)
        texts, metadata = self._texts, self._metadata
        details, payload = texts["step_details"], texts["payload"]
        # Bound once a batch: every list add_parts appends to.
        self._fast = (
            self._step_lists,
            self._call_lists,
            details.parts,
            details.ends,
            payload.parts,
            payload.ends,
            metadata,
            metadata.keys,
            metadata.values,
            metadata.ends,
            metadata.nulls,
        )

    def add_parts(self, step, details, raw_details):
        cdef tuple fast = self._fast
        cdef tuple lists = fast[0]
        cdef list c_id = lists[0], c_object = lists[1], c_thread = lists[2], c_run = lists[3]
        cdef list c_assistant = lists[4], c_type = lists[5], c_status = lists[6]
        cdef list c_created = lists[7], c_expires = lists[8], c_cancelled = lists[9]
        cdef list c_failed = lists[10], c_completed = lists[11], c_expired = lists[12]
        cdef list c_code = lists[13], c_message = lists[14], c_prompt = lists[15]
        cdef list c_completion = lists[16], c_total = lists[17], c_cached = lists[18]
        cdef list c_reasoning = lists[19], c_extra = lists[20]
        cdef list keys = fast[7], values = fast[8], m_ends = fast[9], nulls = fast[10]
        cdef Py_ssize_t details_size, payload_size
        cdef bint plain
        (
            id_, object_, thread, run, assistant, kind, status, created, expires, cancelled,
            failed, completed, expired, error, usage, metadata, extra,
        ) = _fields(step, _STEP_PLACES, _STEP_FIELDS)
        c_id.append(id_)
        c_object.append(object_)
        c_thread.append(thread)
        c_run.append(run)
        c_assistant.append(assistant)
        c_type.append(kind)
        c_status.append(status)
        c_created.append(created)
        # UNSET (absent) and None (null) are both a null in a column.
        c_expires.append(_null(expires))
        c_cancelled.append(_null(cancelled))
        c_failed.append(_null(failed))
        c_completed.append(_null(completed))
        c_expired.append(_null(expired))
        if error is _UNSET or error is None:
            c_code.append(None)
            c_message.append(None)
            plain = True
        else:
            c_code.append(error.code)
            c_message.append(error.message)
            plain = error.extra is _UNSET
        if usage is _UNSET or usage is None:
            c_prompt.append(None)
            c_completion.append(None)
            c_total.append(None)
            c_cached.append(None)
            c_reasoning.append(None)
        else:
            (
                prompt, completion, total, prompt_details, prompts_details,
                completion_details, usage_extra,
            ) = _fields(usage, _USAGE_PLACES, _USAGE_FIELDS)
            c_prompt.append(prompt)
            c_completion.append(completion)
            c_total.append(total)
            # _rows.tokens: both spellings the live API uses; the first with a value wins.
            cached = _count(prompt_details, "cached_tokens")
            c_cached.append(_count(prompts_details, "cached_tokens") if cached is None else cached)
            c_reasoning.append(_count(completion_details, "reasoning_tokens"))
            plain = plain and not (
                usage_extra is not _UNSET
                or _has_extra(prompt_details)
                or _has_extra(prompts_details)
                or _has_extra(completion_details)
            )
        if metadata is _UNSET or metadata is None:
            nulls.append(True)
            m_ends.append(len(keys))
        elif type(metadata) is dict:
            # Even the default mode decodes metadata as strings only: a map<string, string>.
            keys.extend(<dict>metadata)
            values.extend((<dict>metadata).values())
            nulls.append(False)
            m_ends.append(len(keys))
        else:
            add_metadata(fast[6], metadata)
        c_extra.append(None if plain and extra is _UNSET else extra_of(step))
        from_body = raw_details is not None
        if not from_body:
            raw_details = encode(details)
        details_size = _append_text(fast[2], fast[3], raw_details)
        payload_size = (<array.array>fast[5]).data.as_ints[len(fast[5]) - 1]
        if type(details) is _DETAILS:
            calls = (<object>details).tool_calls
        elif type(details) is _MESSAGE:
            calls = None
        else:
            calls = calls_of(details)
        if calls and self.with_calls:
            raws = _raw_calls(raw_details, len(calls)) if from_body else None
            payload_size = _add_calls(fast[1], fast[4], fast[5], step, calls, raws)
        return details_size if details_size > payload_size else payload_size


cdef Py_ssize_t _add_calls(
    tuple lists_of_calls, list parts, array.array ends, object step, list calls, list raws
) except -1:
    cdef tuple lists = lists_of_calls
    cdef list c_step = lists[0], c_run = lists[1], c_thread = lists[2], c_created = lists[3]
    cdef list c_position = lists[4], c_id = lists[5], c_type = lists[6], c_name = lists[7]
    cdef list c_arguments = lists[8], c_output = lists[9]
    cdef Py_ssize_t position, size = 0
    cdef tuple named
    step_id, run_id, thread_id, created = step.id, step.run_id, step.thread_id, step.created_at
    for position in range(len(calls)):
        call = calls[position]
        kind = type(call)
        named = _named(call, kind)
        if named is not None:
            call_id, call_type = call.id, call.type
            name, arguments, output = named
        elif isinstance(call, dict):  # an unknown type, or not an object of any
            call_id, call_type = _text(call.get("id")), _text(call.get("type"))
            name, arguments, output = unknown_named(call)
        elif isinstance(call, _STRUCT):  # a known type without those fields
            call_id, call_type = getattr(call, "id", None), _tag(kind)
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
        size = _append_text(parts, ends, raws[position] if raws is not None else encode(call))
    return size
