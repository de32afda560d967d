# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Server-sent events to merged run-step snapshots: the compiled hot loop.

The same logic as ``_stream_py.py`` (the readable reference; the test suite
runs on both), with the framing done on a C buffer and a fast path for the
dominant event, a ``thread.run.step.delta`` carrying one string fragment of a
tool call the step already has. That event is recognised by a strict scan of
its JSON; the fragment is appended to the snapshot's fragment list and the
event's ``data`` is decoded only if someone reads it. Anything the scan does
not accept exactly (another shape, a ``\\u`` escape, a control character,
invalid UTF-8, a tool call not seen before) goes to msgspec and the shared
merge in ``_merge.py``, so both paths give the same result.
"""

from cpython.bytearray cimport (
    PyByteArray_AS_STRING,
    PyByteArray_FromStringAndSize,
    PyByteArray_GET_SIZE,
    PyByteArray_Resize,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp, memcpy, memmove


cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX

from ._decode import _DELTA, _STEP, decode_api_error, decode_event
from ._errors import StreamError
from ._merge import (
    DELTA,
    FULL,
    MAX_EVENT_BYTES,
    MAX_RETRY_DIGITS,
    MAX_STEPS,
    PendingDeltas,
    StepSnapshots,
    StepTable,
    check_limit,
    concurrent_call,
    merge_delta,
    set_step,
)

IMPLEMENTATION = "cython"

cdef object _LAZY = object()  # StreamEvent.data not decoded yet
cdef Py_ssize_t _MAX_NAMES = 64
# A buffer this much larger than what it holds is given back: one huge chunk
# or event must not pin its memory for the rest of a long-lived stream.
cdef Py_ssize_t _SHRINK_ABOVE = 1 << 20

cdef str _DELTA_NAME = DELTA
# What follows the step id in a compact tool-call delta, up to the call's index.
cdef bytes _PREFIX_BYTES = (
    b',"object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls",'
    b'"tool_calls":[{"index":'
)
cdef const char* _PREFIX = _PREFIX_BYTES
cdef Py_ssize_t _PREFIX_LEN = len(_PREFIX_BYTES)
cdef str _FUNCTION = "function"
cdef str _CODE = "code_interpreter"
cdef str _NAME = "name"
cdef str _ARGUMENTS = "arguments"
cdef str _OUTPUT = "output"
cdef str _INPUT = "input"


cdef class StreamEvent:
    """One event of the stream.

    Attributes
    ----------
    event : str
        The event name (``"message"`` when the stream gave none).
    data : RunStep, RunStepDeltaEvent, ApiError or bytes
        A ``RunStep`` for the full step events, a ``RunStepDeltaEvent`` for
        ``thread.run.step.delta``, an ``ApiError`` for ``error``; for every
        other event, the data as sent (bytes).
    id : str or None
        The stream's last event id when the event was dispatched.
    raw : bytes
        The data as sent, for every event.
    """

    cdef readonly str event
    cdef readonly object id
    cdef readonly bytes raw
    cdef object _data

    def __init__(self, str event, object data, object id, bytes raw):
        self.event = event
        self._data = data
        self.id = id
        self.raw = raw

    @property
    def data(self):
        if self._data is _LAZY:
            # The fast path accepted this JSON only where msgspec decodes it too.
            self._data = _DELTA.decode(self.raw)
        return self._data

    def __repr__(self):
        return f"StreamEvent(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other):
        try:
            return (self.event, self.id, self.raw, self.data) == (
                other.event, other.id, other.raw, other.data
            )
        except AttributeError:
            return NotImplemented

    __hash__ = None


cdef inline StreamEvent _event(str name, object data, object id, bytes raw):
    cdef StreamEvent ev = StreamEvent.__new__(StreamEvent)
    ev.event = name
    ev._data = data
    ev.id = id
    ev.raw = raw
    return ev


# -- the fast-path scanner -----------------------------------------------------
# A JSON scanner for exactly one shape. It never decides that input is
# invalid: it only says "this is the shape, and here are its values" or "not
# sure", and "not sure" hands the event to msgspec.

cdef struct Scan:
    const char* p
    const char* end


cdef inline void _ws(Scan* s) noexcept nogil:
    cdef char c
    while s.p < s.end:
        c = s.p[0]
        if c == b' ' or c == b'\n' or c == b'\r' or c == b'\t':
            s.p += 1
        else:
            return


cdef inline bint _lit(Scan* s, const char* text, Py_ssize_t n) noexcept nogil:
    _ws(s)
    if s.end - s.p < n or memcmp(s.p, text, n) != 0:
        return False
    s.p += n
    return True


cdef inline bint _str(Scan* s, const char** start, Py_ssize_t* length, bint* escaped) noexcept nogil:
    """A JSON string without \\u escapes or control characters; its body's span."""
    cdef unsigned char c
    _ws(s)
    if s.p >= s.end or s.p[0] != b'"':
        return False
    s.p += 1
    start[0] = s.p
    escaped[0] = False
    while s.p < s.end:
        c = <unsigned char>s.p[0]
        if c == b'"':
            length[0] = s.p - start[0]
            s.p += 1
            return True
        if c < 0x20:
            return False
        if c == b'\\':
            if s.end - s.p < 2:
                return False
            c = <unsigned char>s.p[1]
            if not (c == b'"' or c == b'\\' or c == b'/' or c == b'b' or c == b'f'
                    or c == b'n' or c == b'r' or c == b't'):
                return False  # \u (surrogates and all) and invalid escapes: msgspec's call
            escaped[0] = True
            s.p += 2
        else:
            s.p += 1
    return False


cdef inline bint _index(Scan* s, long* value) noexcept nogil:
    """A non-negative JSON integer of at most 9 digits."""
    cdef long v = 0
    cdef int digits = 0
    _ws(s)
    if s.p < s.end and s.p[0] == b'0':
        s.p += 1
        value[0] = 0
        return s.p >= s.end or not (b'0' <= s.p[0] <= b'9')
    while s.p < s.end and b'0' <= s.p[0] <= b'9' and digits < 10:
        v = v * 10 + (s.p[0] - 48)  # ASCII '0'
        s.p += 1
        digits += 1
    if digits == 0 or digits > 9:
        return False
    value[0] = v
    return True


cdef inline bint _ascii(const char* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if <unsigned char>p[i] >= 0x80:
            return False
    return True


cdef Py_ssize_t _unescape(const char* src, Py_ssize_t n, char* dst) noexcept nogil:
    cdef Py_ssize_t i = 0, j = 0
    cdef char c
    while i < n:
        c = src[i]
        if c == b'\\':
            i += 1
            c = src[i]
            if c == b'b':
                c = b'\b'
            elif c == b'f':
                c = b'\f'
            elif c == b'n':
                c = b'\n'
            elif c == b'r':
                c = b'\r'
            elif c == b't':
                c = b'\t'
        dst[j] = c
        i += 1
        j += 1
    return j


cdef class Accumulator:
    """Frames an event stream and keeps the merged snapshot of every run step.

    Feed it the bytes of a ``text/event-stream`` body in chunks split
    anywhere; each call returns the events the chunk completed. Step events
    update ``steps`` (see docs/merge.md for the merge rules).

    Parameters
    ----------
    max_steps : int, default 10_000
        The most step snapshots kept. A new step past it drops the step
        that finished first (or the oldest, if none has), so a long-lived
        stream does not grow without bound.
    max_event_bytes : int, default 16 MiB
        The largest event data accepted (its ``data`` lines joined), and the
        longest line. Past it, the event is a ``StreamError`` and the rest of
        it is discarded unbuffered, up to the blank line that ends it.

    Notes
    -----
    An accumulator is not thread-safe: a call made while another call on the
    same accumulator is running (from another thread) raises ``RuntimeError``
    and changes nothing. Use one accumulator per stream and per thread.

    Attributes
    ----------
    steps : Mapping[str, RunStep]
        The merged snapshot of each step, by step id.
    pending : Mapping[str, list[RunStepDeltaEvent]]
        Deltas of steps no full object has arrived for yet, by step id.
    done : bool
        Whether the stream ended (``event: done`` or ``data: [DONE]``).
    last_event_id : str or None
        The last ``id:`` the stream set.
    retry : int or None
        The last ``retry:`` (reconnection time, milliseconds) the stream set.
    """

    cdef char* _buf  # bytes not yet framed
    cdef Py_ssize_t _len, _cap
    cdef char* _data  # data lines of the current event, each + "\n"
    cdef Py_ssize_t _dlen, _dcap
    cdef char* _name  # event name of the current event
    cdef Py_ssize_t _nlen, _ncap
    cdef char* _scratch  # unescaped fragments
    cdef Py_ssize_t _scap
    cdef bint _has_data, _skip_lf, _bom
    cdef bint _skipping  # discarding an oversized event, up to its blank line
    cdef bint _busy
    cdef Py_ssize_t _limit
    cdef dict _names
    cdef dict _states  # the table's states, looked up by the fast path
    cdef object _table
    cdef bytes _last_sid  # step id bytes of the last fast-path event
    cdef object _last_state
    cdef readonly object steps
    cdef readonly object pending
    cdef public bint done
    cdef public object last_event_id
    cdef public object retry
    cdef object __weakref__

    def __cinit__(self):
        self._buf = NULL
        self._data = NULL
        self._name = NULL
        self._scratch = NULL

    def __init__(self, *, max_steps=MAX_STEPS, max_event_bytes=MAX_EVENT_BYTES):
        self._table = StepTable(check_limit("max_steps", max_steps))
        # Py_ssize_t: larger limits are no limit at all on this machine.
        self._limit = min(check_limit("max_event_bytes", max_event_bytes), PY_SSIZE_T_MAX)
        self._len = self._dlen = self._nlen = 0
        self._has_data = False
        self._skipping = False
        self._busy = False
        self._skip_lf = False
        self._bom = True
        self._names = {}
        self._states = self._table.states
        self._last_sid = None
        self._last_state = None
        self.steps = StepSnapshots(self._states)
        self.pending = PendingDeltas(self._states)
        self.done = False
        self.last_event_id = None
        self.retry = None

    def __dealloc__(self):
        PyMem_Free(self._buf)
        PyMem_Free(self._data)
        PyMem_Free(self._name)
        PyMem_Free(self._scratch)

    def __repr__(self):
        return f"<Accumulator ({IMPLEMENTATION}) steps={len(self.steps)} done={self.done}>"

    cdef int _grow(self, char** buf, Py_ssize_t* cap, Py_ssize_t need) except -1:
        cdef Py_ssize_t size
        cdef char* new
        if need <= cap[0]:
            return 0
        size = max(need, 2 * cap[0], 256)
        new = <char*>PyMem_Realloc(buf[0], size)
        if new == NULL:
            raise MemoryError()
        buf[0] = new
        cap[0] = size
        return 0

    cdef void _shrink(self, char** buf, Py_ssize_t* cap, Py_ssize_t used) noexcept:
        cdef Py_ssize_t size
        cdef char* new
        if cap[0] <= _SHRINK_ABOVE or used > cap[0] // 4:
            return
        size = max(2 * used, 256)
        new = <char*>PyMem_Realloc(buf[0], size)
        if new != NULL:  # a failed shrink keeps the larger buffer, which is fine
            buf[0] = new
            cap[0] = size

    def feed(self, chunk):
        """Take the next bytes of the stream.

        Parameters
        ----------
        chunk : bytes, bytearray or memoryview
            Any part of the body: it may end mid-line, mid-character, or
            between the CR and LF of a line end.

        Returns
        -------
        list of StreamEvent
            The events this chunk completed, in stream order.

        Raises
        ------
        StreamError
            If an event cannot be decoded or applied. The error names the
            event, carries the events completed before it (``.events``), and
            leaves the accumulator ready for the next ``feed()``.
        TypeError
            If ``chunk`` is not bytes-like.
        RuntimeError
            If another call on this accumulator is running (another thread).
        """
        cdef bytes b
        if type(chunk) is bytes:
            b = <bytes>chunk
        elif isinstance(chunk, (bytes, bytearray, memoryview)):
            b = bytes(chunk)
        else:
            raise TypeError(f"feed() takes a bytes-like object, not {type(chunk).__name__}")
        # Test and set with no Python code between them: atomic under the GIL.
        if self._busy:
            raise concurrent_call("feed")
        self._busy = True
        try:
            return self._feed(b)
        finally:
            self._busy = False

    cdef list _feed(self, bytes b):
        cdef const char* src
        cdef Py_ssize_t n
        src = PyBytes_AS_STRING(b)
        n = PyBytes_GET_SIZE(b)
        if self._skip_lf and n:
            self._skip_lf = False
            if src[0] == b'\n':  # the LF of a CRLF split across chunks
                src += 1
                n -= 1
        self._grow(&self._buf, &self._cap, self._len + n)
        memcpy(self._buf + self._len, src, n)
        self._len += n
        if self._bom:
            if self._len < 3 and memcmp(self._buf, b"\xef\xbb\xbf", self._len) == 0:
                return []
            self._bom = False
            if memcmp(self._buf, b"\xef\xbb\xbf", 3) == 0:
                self._consume(3)
        return self._frame(False)

    def close(self):
        """Mark the end of the input, and return what it completes.

        The HTML standard drops an event the stream did not end with a blank
        line. Recorded API streams do end that way, so stepwire dispatches the
        last event, its unterminated last line included; a body cut inside
        JSON then fails to decode with a ``StreamError``.

        Returns
        -------
        list of StreamEvent

        Raises
        ------
        StreamError
            If the last event cannot be decoded or applied.
        RuntimeError
            If another call on this accumulator is running (another thread).
        """
        if self._busy:
            raise concurrent_call("close")
        self._busy = True
        try:
            self._bom = False
            self._skip_lf = False
            self._grow(&self._buf, &self._cap, self._len + 2)
            if self._len:
                self._buf[self._len] = b'\n'
                self._len += 1
            self._buf[self._len] = b'\n'
            self._len += 1
            return self._frame(True)
        finally:
            self._busy = False

    cdef void _consume(self, Py_ssize_t n) noexcept:
        memmove(self._buf, self._buf + n, self._len - n)
        self._len -= n

    cdef list _frame(self, bint closing):
        cdef list events = []
        cdef const char* base = self._buf
        cdef const char* p = base
        cdef const char* end = base + self._len
        cdef const char* nl
        cdef const char* cr
        cdef const char* line_end
        cdef const char* next_line
        cdef object event
        while p < end:
            nl = <const char*>memchr(p, b'\n', end - p)
            line_end = nl if nl != NULL else end
            cr = <const char*>memchr(p, b'\r', line_end - p)
            if cr != NULL:
                line_end = cr
                if cr + 1 == nl:
                    next_line = nl + 1
                else:
                    next_line = cr + 1
                    if next_line == end and not closing:
                        self._skip_lf = True  # a CRLF may be split across chunks
            elif nl != NULL:
                next_line = nl + 1
            else:
                break  # an unterminated line: wait for more
            try:
                if line_end == p:
                    if self._skipping:
                        self._skipping = False
                    else:
                        event = self._dispatch()
                        if event is not None:
                            events.append(event)
                        self._shrink(&self._data, &self._dcap, 0)
                elif self._skipping:
                    pass
                elif line_end - p > self._limit and not (
                    line_end - p >= 5 and memcmp(p, b"data:", 5) == 0
                ):
                    raise self._oversize()  # data lines are measured by _field
                elif p[0] != b':':  # ":" starts a comment
                    self._field(p, line_end - p)
            except StreamError as exc:
                self._consume(next_line - base)
                exc.events = events + exc.events  # with an event delivered alongside the error
                raise
            p = next_line
        self._consume(p - base)
        if (self._skipping and self._len) or self._too_long():
            # Only one byte of a line being discarded is kept: enough to know
            # that the bytes that end it end a line, not the event.
            self._len = 1
            self._shrink(&self._buf, &self._cap, self._len)
            if not self._skipping:
                exc = self._oversize()
                exc.events = events
                raise exc
        self._shrink(&self._buf, &self._cap, self._len)
        return events

    cdef bint _too_long(self) noexcept:
        """Whether the line not ended yet already passes the limit, as it will when ended."""
        cdef Py_ssize_t value
        if self._len >= 5 and memcmp(self._buf, b"data:", 5) == 0:
            value = self._len - (6 if self._len > 5 and self._buf[5] == b' ' else 5)
            return self._dlen + value > self._limit
        return self._len > self._limit and not (
            self._len < 5 and memcmp(self._buf, b"data:", self._len) == 0
        )

    cdef object _oversize(self):
        """Refuse the current event (its data or a line passed ``max_event_bytes``): the error."""
        cdef object name = self._event_name() if self._nlen else None
        self._has_data = False
        self._dlen = 0
        self._nlen = 0
        self._skipping = True
        self._shrink(&self._data, &self._dcap, 0)
        return StreamError(
            f"event larger than max_event_bytes ({self._limit} bytes); "
            "discarded up to its end",
            event=name,
        )

    cdef int _field(self, const char* line, Py_ssize_t n) except -1:
        cdef const char* colon = <const char*>memchr(line, b':', n)
        cdef Py_ssize_t flen = n
        cdef const char* value = line + n
        cdef Py_ssize_t vlen = 0
        cdef Py_ssize_t i
        if colon != NULL:
            flen = colon - line
            value = colon + 1
            vlen = n - flen - 1
            if vlen and value[0] == b' ':
                value += 1
                vlen -= 1
        if flen == 4 and memcmp(line, b"data", 4) == 0:
            if self._dlen + vlen > self._limit:  # the data joined, as _stream_py counts it
                raise self._oversize()
            self._grow(&self._data, &self._dcap, self._dlen + vlen + 1)
            memcpy(self._data + self._dlen, value, vlen)
            self._dlen += vlen
            self._data[self._dlen] = b'\n'
            self._dlen += 1
            self._has_data = True
        elif flen == 5 and memcmp(line, b"event", 5) == 0:
            self._grow(&self._name, &self._ncap, vlen)
            memcpy(self._name, value, vlen)
            self._nlen = vlen
        elif flen == 2 and memcmp(line, b"id", 2) == 0:
            if memchr(value, 0, vlen) == NULL:
                self.last_event_id = PyUnicode_DecodeUTF8(value, vlen, "replace")
        elif flen == 5 and memcmp(line, b"retry", 5) == 0:
            if vlen == 0:
                return 0
            for i in range(vlen):
                if not (b'0' <= value[i] <= b'9'):
                    return 0
            while vlen > 1 and value[0] == b'0':
                value += 1
                vlen -= 1
            if vlen <= MAX_RETRY_DIGITS:
                self.retry = int(PyBytes_FromStringAndSize(value, vlen))
        return 0

    cdef str _event_name(self):
        cdef bytes key
        cdef object name
        if self._nlen == 21 and memcmp(self._name, b"thread.run.step.delta", 21) == 0:
            return _DELTA_NAME
        key = PyBytes_FromStringAndSize(self._name, self._nlen)
        name = self._names.get(key)
        if name is None:
            name = key.decode("utf-8", "replace") or "message"
            if len(self._names) < _MAX_NAMES:
                self._names[key] = name
        return <str>name

    cdef object _dispatch(self):
        cdef Py_ssize_t rlen
        cdef str name
        cdef bytes raw
        cdef object data, delta, refused
        if not self._has_data:
            self._nlen = 0
            return None
        rlen = self._dlen - 1  # the last data line's "\n" is not data
        name = self._event_name()
        self._has_data = False
        self._dlen = 0
        self._nlen = 0
        if self.done:
            raise StreamError("event after the end of the stream ('done')", event=name)
        if name == "done" or (rlen == 6 and memcmp(self._data, b"[DONE]", 6) == 0):
            self.done = True
            return None
        if name is _DELTA_NAME:
            if self._fast_delta(rlen):
                return _event(name, _LAZY, self.last_event_id,
                              PyBytes_FromStringAndSize(self._data, rlen))
            raw = PyBytes_FromStringAndSize(self._data, rlen)
            delta = decode_event(_DELTA, raw, name)
            self._last_sid = None  # the table may drop a step: no cached state survives
            merge_delta(self._table.open(delta.id), delta, event=name)
            return _event(name, delta, self.last_event_id, raw)
        raw = PyBytes_FromStringAndSize(self._data, rlen)
        if name in FULL:
            data = decode_event(_STEP, raw, name)
            # The snapshot is a second decode: deltas change it in place, and
            # the event must go on saying what the server sent.
            self._last_sid = None
            refused = set_step(self._table, name, _STEP.decode(raw))
            if refused is not None:
                # The event is applied: it goes out with the error, as completed.
                refused.events = [_event(name, data, self.last_event_id, raw)]
                raise refused
        elif name == "error":
            data = decode_api_error(raw)
        else:
            data = raw
        return _event(name, data, self.last_event_id, raw)

    cdef bint _fast_delta(self, Py_ssize_t n) except -1:
        """Merge the dominant delta shape directly; False hands it to msgspec."""
        cdef Scan s
        cdef const char* sid
        cdef const char* kind
        cdef const char* key
        cdef const char* frag
        cdef Py_ssize_t sid_len, kind_len, key_len, frag_len
        cdef bint esc_sid, esc_kind, esc_key, esc_frag
        cdef long index
        cdef str tname, fname
        cdef object state, parts, last
        cdef Py_ssize_t count, size
        s.p = self._data
        s.end = self._data + n
        if not (_lit(&s, b"{", 1) and _lit(&s, b'"id"', 4) and _lit(&s, b":", 1)
                and _str(&s, &sid, &sid_len, &esc_sid) and not esc_sid):
            return False
        # Compact JSON, as the API sends it, is one comparison; anything else
        # (spaces, say) goes through the token-by-token scan below.
        if s.end - s.p > _PREFIX_LEN and memcmp(s.p, _PREFIX, _PREFIX_LEN) == 0:
            s.p += _PREFIX_LEN
        elif not (_lit(&s, b",", 1) and _lit(&s, b'"object"', 8) and _lit(&s, b":", 1)
                and _lit(&s, b'"thread.run.step.delta"', 23) and _lit(&s, b",", 1)
                and _lit(&s, b'"delta"', 7) and _lit(&s, b":", 1) and _lit(&s, b"{", 1)
                and _lit(&s, b'"step_details"', 14) and _lit(&s, b":", 1) and _lit(&s, b"{", 1)
                and _lit(&s, b'"type"', 6) and _lit(&s, b":", 1)
                and _lit(&s, b'"tool_calls"', 12) and _lit(&s, b",", 1)
                and _lit(&s, b'"tool_calls"', 12) and _lit(&s, b":", 1) and _lit(&s, b"[", 1)
                and _lit(&s, b"{", 1) and _lit(&s, b'"index"', 7) and _lit(&s, b":", 1)):
            return False
        if not (_index(&s, &index) and _lit(&s, b",", 1)
                and _lit(&s, b'"type"', 6) and _lit(&s, b":", 1)
                and _str(&s, &kind, &kind_len, &esc_kind) and not esc_kind
                and _lit(&s, b",", 1)):
            return False
        # The payload key must repeat the type: {"type":"function","function":{...}}.
        if kind_len == 8 and memcmp(kind, b"function", 8) == 0:
            tname = _FUNCTION
        elif kind_len == 16 and memcmp(kind, b"code_interpreter", 16) == 0:
            tname = _CODE
        else:
            return False
        _ws(&s)
        if not (s.end - s.p > kind_len + 2 and s.p[0] == b'"'
                and memcmp(s.p + 1, kind, kind_len) == 0 and s.p[kind_len + 1] == b'"'):
            return False
        s.p += kind_len + 2
        if not (_lit(&s, b":", 1) and _lit(&s, b"{", 1)
                and _str(&s, &key, &key_len, &esc_key) and not esc_key
                and _lit(&s, b":", 1) and _str(&s, &frag, &frag_len, &esc_frag)
                and _lit(&s, b"}", 1) and _lit(&s, b"}", 1) and _lit(&s, b"]", 1)
                and _lit(&s, b"}", 1) and _lit(&s, b"}", 1) and _lit(&s, b"}", 1)):
            return False
        _ws(&s)
        if s.p != s.end:
            return False
        if tname is _FUNCTION:
            if key_len == 9 and memcmp(key, b"arguments", 9) == 0:
                fname = _ARGUMENTS
            elif key_len == 4 and memcmp(key, b"name", 4) == 0:
                fname = _NAME
            elif key_len == 6 and memcmp(key, b"output", 6) == 0:
                fname = _OUTPUT
            else:
                return False
        elif key_len == 5 and memcmp(key, b"input", 5) == 0:
            fname = _INPUT
        else:
            return False
        # The step: the one of the last fast event, most of the time.
        if (self._last_sid is not None and PyBytes_GET_SIZE(self._last_sid) == sid_len
                and memcmp(PyBytes_AS_STRING(self._last_sid), sid, sid_len) == 0):
            state = self._last_state
        else:
            try:
                state = self._states.get(PyUnicode_DecodeUTF8(sid, sid_len, NULL))
            except UnicodeDecodeError:
                return False
            if state is None:
                return False
            self._last_sid = PyBytes_FromStringAndSize(sid, sid_len)
            self._last_state = state
        # Only a string the merge already tracks: a new call, a new field or a
        # replaced snapshot takes the shared path, which sets these up.
        parts = (<dict>(<object>state).bufs).get((index, tname, fname))
        if parts is None:
            return False
        if esc_frag:
            self._grow(&self._scratch, &self._scap, frag_len)
            frag_len = _unescape(frag, frag_len, self._scratch)
            frag = self._scratch
        if not _ascii(frag, frag_len):
            # Joined only when the snapshot is read: check the UTF-8 now, so
            # that invalid bytes fail this event, not a later read.
            try:
                PyUnicode_DecodeUTF8(frag, frag_len, NULL)
            except UnicodeDecodeError:
                return False
        # Fragments go into one bytearray rather than a str each: a long stream
        # keeps a few bytes per fragment instead of a 50-byte object.
        count = len(<list>parts)
        if count and type((<list>parts)[count - 1]) is bytearray:
            last = (<list>parts)[count - 1]
            size = PyByteArray_GET_SIZE(last)
            PyByteArray_Resize(last, size + frag_len)
            memcpy(PyByteArray_AS_STRING(last) + size, frag, frag_len)
        else:
            (<list>parts).append(PyByteArray_FromStringAndSize(frag, frag_len))
        return True
