# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, binding=True
"""Framing an event stream, and the fast path of the dominant delta: the compiled twin.

The same framing as ``_stream_py.py`` (the test suite runs on both), on C
buffers, plus a fast path for the dominant event: a ``thread.run.step.delta``
carrying one string fragment of a tool call the step already has. That event
is recognised by a strict scan of its JSON; the fragment is appended to the
list ``StepState.fragments`` gives, and the event's ``data`` is decoded only
if someone reads it. Anything the scan does not accept exactly (another
shape, a ``\\u`` escape, a control character, invalid UTF-8, a string the
state does not track) goes to the shared dispatch (``_dispatch``, whose
docstring is the contract), so both paths give the same result.

Framing is linear in the bytes fed, however they are chunked: the search for
a line end resumes where the last one stopped, and bytes are moved only when
lines before them are consumed.
"""

from cpython.bytearray cimport (
    PyByteArray_AS_STRING,
    PyByteArray_FromStringAndSize,
    PyByteArray_GET_SIZE,
    PyByteArray_Resize,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp, memcpy, memmove


from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF


cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX
    int _PyBytes_Resize(PyObject** bytes, Py_ssize_t size) except -1

from ._dispatch import (
    BOM,
    DELTA,
    DELTA_DECODER,
    DELTA_NAME,
    LAZY,
    MAX_RETRY_DIGITS,
    Dispatcher,
    concurrent_call,
)
from ._errors import StreamError

IMPLEMENTATION = "cython"

cdef object _LAZY = LAZY
cdef object _DECODER = DELTA_DECODER
cdef bytes _BOM = BOM
cdef bytes _DELTA_NAME_BYTES = DELTA_NAME
cdef Py_ssize_t _DELTA_NAME_LEN = len(DELTA_NAME)
cdef Py_ssize_t _MAX_RETRY_DIGITS = MAX_RETRY_DIGITS
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


cdef class Event:
    """Storage of ``StreamEvent``: read-only fields, ``data`` decoded when first read."""

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
            self._data = _DECODER.decode(self.raw)
        return self._data


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


cdef inline bint _scan_index(Scan* s, long* value) noexcept nogil:
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


cdef inline const char* _line_end(const char* p, Py_ssize_t n) noexcept nogil:
    """The first CR or LF of p[:n], or NULL."""
    cdef const char* nl = <const char*>memchr(p, b'\n', n)
    cdef const char* cr = <const char*>memchr(p, b'\r', (nl - p) if nl != NULL else n)
    return cr if cr != NULL else nl


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


cdef class Framer:
    """Framing state of ``Accumulator``, on C buffers; the fast path of the dominant delta."""

    cdef char* _buf  # bytes not yet framed: at most an unfinished line, between feeds
    cdef Py_ssize_t _len, _cap
    cdef Py_ssize_t _scanned  # _buf[:_scanned] holds no line end: where the search resumes
    # A line longer than a chunk: its start stays in _buf, and _plen counts the
    # bytes after it. A data line's value is copied, chunk by chunk while the chunk
    # is still in cache, into the bytes the event will carry (_long, one reference
    # owned, _llen of it written); any other line's chunks are kept as fed (no
    # copy) and joined once when it ends.
    cdef PyObject* _long
    cdef Py_ssize_t _llen
    cdef list _pieces
    cdef Py_ssize_t _plen
    # The data of the current event: its one data line as bytes (most events
    # have one), or, from the second line on, all of them in a buffer, each + "\n".
    cdef bytes _line1
    cdef char* _data
    cdef Py_ssize_t _dlen, _dcap  # _dlen counts a "\n" per line in either case
    cdef char* _name  # event name of the current event
    cdef Py_ssize_t _nlen, _ncap
    cdef char* _scratch  # unescaped fragments
    cdef Py_ssize_t _scap
    cdef bint _has_data, _skip_lf, _bom
    cdef bint _skipping  # discarding an oversized event, up to its blank line
    cdef bint _busy
    cdef bint _done  # the dispatch's, read after each dispatch (only it sets it)
    cdef Py_ssize_t _limit
    cdef object _dispatch
    cdef object _make_event  # the public StreamEvent class
    cdef dict _states  # the dispatch's step states, looked up by the fast path
    # The last string the fast path extended, valid until the next dispatch().
    cdef bytes _fast_sid
    cdef long _fast_index
    cdef str _fast_kind, _fast_field
    cdef list _fast_parts
    cdef object _last_event_id
    cdef object _retry
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        self._buf = NULL
        self._data = NULL
        self._name = NULL
        self._scratch = NULL
        self._long = NULL

    def _start(self, event_type, max_steps, max_event_bytes):
        self._dispatch = Dispatcher(event_type, max_steps, max_event_bytes)
        self._make_event = event_type
        # Py_ssize_t: larger limits are no limit at all on this machine.
        self._limit = min(self._dispatch.limit, PY_SSIZE_T_MAX)
        self._len = self._dlen = self._nlen = self._scanned = 0
        self._has_data = False
        self._skipping = False
        self._busy = False
        self._done = False
        self._skip_lf = False
        self._bom = True
        self._states = self._dispatch.states
        self._fast_parts = None
        self._pieces = []
        self._plen = 0
        self._last_event_id = None
        self._retry = None

    def __dealloc__(self):
        PyMem_Free(self._buf)
        PyMem_Free(self._data)
        PyMem_Free(self._name)
        PyMem_Free(self._scratch)
        Py_XDECREF(self._long)

    @property
    def steps(self):
        return self._dispatch.steps

    @property
    def pending(self):
        return self._dispatch.pending

    @property
    def done(self):
        return self._dispatch.done

    @property
    def last_event_id(self):
        return self._last_event_id

    @property
    def retry(self):
        return self._retry

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
        cdef const char* eol
        cdef Py_ssize_t n
        src = PyBytes_AS_STRING(b)
        n = PyBytes_GET_SIZE(b)
        if self._skip_lf and n:
            self._skip_lf = False
            if src[0] == b'\n':  # the LF of a CRLF split across chunks
                src += 1
                n -= 1
        if not self._bom and self._len >= 6 and self._scanned == self._len and n:
            # _buf holds the start of a line, long enough to tell its field.
            eol = _line_end(src, n)
            if eol == NULL:
                self._plen += n
                if self._too_long():
                    self._len = self._scanned = 1  # as _frame does: one byte kept
                    self._drop_long()
                    self._pieces = []
                    self._plen = 0
                    self._shrink(&self._buf, &self._cap, 1)
                    raise self._oversize([])
                if memcmp(self._buf, b"data:", 5) == 0:
                    self._extend_long(src, n)
                else:
                    self._pieces.append(b if n == PyBytes_GET_SIZE(b) else src[:n])
                return []
            if self._long != NULL:
                return self._end_data_line(src, n, eol)
            if self._pieces:
                self._join_pieces()
        self._grow(&self._buf, &self._cap, self._len + n)
        memcpy(self._buf + self._len, src, n)
        self._len += n
        if self._bom:
            if self._len < 3 and memcmp(self._buf, <const char*>_BOM, self._len) == 0:
                return []
            self._bom = False
            if memcmp(self._buf, <const char*>_BOM, 3) == 0:
                self._consume(3)
        return self._frame(False)

    cdef int _join_pieces(self) except -1:
        """Append the pieces of the unfinished line to its start in _buf: one copy each."""
        cdef bytes piece
        self._grow(&self._buf, &self._cap, self._len + self._plen)
        for piece in self._pieces:
            memcpy(self._buf + self._len, PyBytes_AS_STRING(piece), PyBytes_GET_SIZE(piece))
            self._len += PyBytes_GET_SIZE(piece)
        self._scanned = self._len
        self._pieces = []
        self._plen = 0
        return 0

    cdef int _extend_long(self, const char* src, Py_ssize_t n) except -1:
        """Append ``src[:n]`` to the value of the long data line (made from _buf first)."""
        cdef Py_ssize_t off, size
        cdef bytes made
        if self._long == NULL:
            off = 6 if self._buf[5] == b' ' else 5
            made = PyBytes_FromStringAndSize(NULL, max(2 * (self._len - off + n), 1 << 16))
            memcpy(PyBytes_AS_STRING(made), self._buf + off, self._len - off)
            self._llen = self._len - off
            self._long = <PyObject*>made
            Py_INCREF(made)  # the reference _long owns
        size = PyBytes_GET_SIZE(<object>self._long)
        if self._llen + n > size:
            # Resized in place where it can be (no other reference exists); on
            # failure _long is NULL and MemoryError raised.
            _PyBytes_Resize(&self._long, max(2 * size, self._llen + n))
        memcpy(PyBytes_AS_STRING(<object>self._long) + self._llen, src, n)
        self._llen += n
        return 0

    cdef void _drop_long(self) noexcept:
        Py_XDECREF(self._long)
        self._long = NULL
        self._llen = 0

    cdef int _unlong(self) except -1:
        """Put the long data line back into _buf whole (the stream ends inside it)."""
        cdef Py_ssize_t off
        if self._long == NULL:
            return 0
        off = 6 if self._buf[5] == b' ' else 5
        self._grow(&self._buf, &self._cap, off + self._llen)
        memcpy(self._buf + off, PyBytes_AS_STRING(<object>self._long), self._llen)
        self._len = self._scanned = off + self._llen
        self._drop_long()
        self._plen = 0
        return 0

    cdef list _end_data_line(self, const char* src, Py_ssize_t n, const char* eol):
        """A long data line ends in this chunk: its value becomes the bytes the event
        carries, without another copy; the rest of the chunk is framed as usual."""
        cdef Py_ssize_t vlen = self._llen + (eol - src)
        cdef const char* rest = eol + 1
        cdef bytes value = None
        if eol[0] == b'\r':
            if rest < src + n and rest[0] == b'\n':
                rest += 1
            elif rest == src + n:
                self._skip_lf = True  # a CRLF may be split across chunks
        if self._dlen + vlen <= self._limit:  # else _data_line refuses it, as _field would
            self._extend_long(src, eol - src)
            _PyBytes_Resize(&self._long, self._llen)
            value = <bytes>self._long
        self._drop_long()
        self._plen = 0
        # What follows the line is buffered first: if the line is refused, it waits
        # for the next feed(), as after any refused line.
        self._len = self._scanned = 0
        self._grow(&self._buf, &self._cap, src + n - rest)
        memcpy(self._buf, rest, src + n - rest)
        self._len = src + n - rest
        self._shrink(&self._buf, &self._cap, self._len)
        events = []
        self._data_line(NULL if value is None else PyBytes_AS_STRING(value), vlen, value, events)
        return self._frame(False)

    def close(self):
        if self._busy:
            raise concurrent_call("close")
        self._busy = True
        try:
            self._bom = False
            self._skip_lf = False
            self._unlong()
            self._join_pieces()
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
        if n:
            memmove(self._buf, self._buf + n, self._len - n)
            self._len -= n
        self._scanned = 0

    cdef list _frame(self, bint closing):
        cdef list events = []
        cdef const char* base = self._buf
        cdef const char* p = base
        cdef const char* end = base + self._len
        cdef const char* nl = NULL  # the next LF at or after p, once searched
        cdef const char* cr
        cdef const char* line_end
        cdef const char* next_line
        cdef const char* search = base + self._scanned
        while p < end:
            if nl == NULL or nl < p:
                nl = <const char*>memchr(search, b'\n', end - search)
                if nl == NULL:
                    nl = end  # none up to the end: never searched again this call
            line_end = nl
            cr = <const char*>memchr(search, b'\r', line_end - search)
            search = p  # only the first line resumes an earlier search
            if cr != NULL:
                line_end = cr
                if cr + 1 == nl and nl != end:
                    next_line = nl + 1
                else:
                    next_line = cr + 1
                    if next_line == end and not closing:
                        self._skip_lf = True  # a CRLF may be split across chunks
            elif nl != end:
                next_line = nl + 1
            else:
                break  # an unterminated line: wait for more
            try:
                if line_end == p:
                    if self._skipping:
                        self._skipping = False
                    else:
                        self._dispatch_event(events)
                        self._shrink(&self._data, &self._dcap, 0)
                elif self._skipping:
                    pass
                elif line_end - p > self._limit and not (
                    line_end - p >= 5 and memcmp(p, b"data:", 5) == 0
                ):
                    raise self._oversize(events)  # data lines are measured by _field
                elif p[0] != b':':  # ":" starts a comment
                    self._field(p, line_end - p, events)
            except StreamError:
                self._consume(next_line - base)
                raise
            p = next_line
            search = p
        self._consume(p - base)
        self._scanned = self._len  # what is left is one unfinished line
        if (self._skipping and self._len) or self._too_long():
            # Only one byte of a line being discarded is kept: enough to know
            # that the bytes that end it end a line, not the event.
            self._len = self._scanned = 1
            self._shrink(&self._buf, &self._cap, self._len)
            if not self._skipping:
                raise self._oversize(events)
        self._shrink(&self._buf, &self._cap, self._len)
        return events

    cdef bint _too_long(self) noexcept:
        """Whether the line not ended yet already passes the limit, as it will when ended."""
        cdef Py_ssize_t value
        cdef Py_ssize_t size = self._len + self._plen
        if self._len >= 5 and memcmp(self._buf, b"data:", 5) == 0:
            value = size - (6 if self._len > 5 and self._buf[5] == b' ' else 5)
            return self._dlen + value > self._limit
        return size > self._limit and not (
            self._len < 5 and memcmp(self._buf, b"data:", self._len) == 0
        )

    cdef object _oversize(self, list events):
        """Refuse the current event (its data or a line passed the limit): the error."""
        exc = self._dispatch.oversize(PyBytes_FromStringAndSize(self._name, self._nlen), events)
        self._has_data = False
        self._line1 = None
        self._dlen = 0
        self._nlen = 0
        self._skipping = True
        self._shrink(&self._data, &self._dcap, 0)
        return exc

    cdef int _field(self, const char* line, Py_ssize_t n, list events) except -1:
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
            self._data_line(value, vlen, None, events)
        elif flen == 5 and memcmp(line, b"event", 5) == 0:
            self._grow(&self._name, &self._ncap, vlen)
            memcpy(self._name, value, vlen)
            self._nlen = vlen
        elif flen == 2 and memcmp(line, b"id", 2) == 0:
            if memchr(value, 0, vlen) == NULL:
                self._last_event_id = PyUnicode_DecodeUTF8(value, vlen, "replace")
        elif flen == 5 and memcmp(line, b"retry", 5) == 0:
            if vlen == 0:
                return 0
            for i in range(vlen):
                if not (b'0' <= value[i] <= b'9'):
                    return 0
            while vlen > 1 and value[0] == b'0':
                value += 1
                vlen -= 1
            if vlen <= _MAX_RETRY_DIGITS:
                self._retry = int(PyBytes_FromStringAndSize(value, vlen))
        return 0

    cdef int _data_line(self, const char* value, Py_ssize_t vlen, bytes made, list events) except -1:
        """Add a data line's value (``made``, if already built as bytes) to the event's data."""
        if self._dlen + vlen > self._limit:  # the data joined, as _stream_py counts it
            raise self._oversize(events)
        if not self._has_data:
            # One copy, straight into the bytes the event will carry.
            self._line1 = made if made is not None else PyBytes_FromStringAndSize(value, vlen)
            self._dlen = vlen + 1
            self._has_data = True
            return 0
        if self._line1 is not None:  # a second line: the lines go to the buffer
            self._grow(&self._data, &self._dcap, self._dlen)
            memcpy(self._data, PyBytes_AS_STRING(self._line1), self._dlen - 1)
            self._data[self._dlen - 1] = b'\n'
            self._line1 = None
        self._grow(&self._data, &self._dcap, self._dlen + vlen + 1)
        memcpy(self._data + self._dlen, value, vlen)
        self._dlen += vlen
        self._data[self._dlen] = b'\n'
        self._dlen += 1
        return 0

    cdef int _dispatch_event(self, list events) except -1:
        cdef Py_ssize_t rlen
        cdef bytes name, raw
        cdef object made
        cdef const char* data
        if not self._has_data:
            self._nlen = 0
            return 0
        rlen = self._dlen - 1  # the last data line's "\n" is not data
        raw = self._line1
        data = PyBytes_AS_STRING(raw) if raw is not None else self._data
        self._line1 = None
        self._has_data = False
        self._dlen = 0
        if (not self._done and self._nlen == _DELTA_NAME_LEN
                and memcmp(self._name, <const char*>_DELTA_NAME_BYTES, _DELTA_NAME_LEN) == 0
                and self._fast_delta(data, rlen)):
            self._nlen = 0
            if raw is None:
                raw = PyBytes_FromStringAndSize(data, rlen)
            events.append(self._make(_DELTA_NAME, _LAZY, raw))
            return 0
        name = PyBytes_FromStringAndSize(self._name, self._nlen)
        self._nlen = 0
        self._fast_parts = None  # the dispatch may replace or drop any state
        if raw is None:
            raw = PyBytes_FromStringAndSize(data, rlen)
        try:
            made = self._dispatch.dispatch(name, raw, self._last_event_id, events)
        finally:
            self._done = self._dispatch.done
        if made is not None:
            events.append(self._make((<tuple>made)[0], (<tuple>made)[1], raw))
        return 0

    cdef inline Event _make(self, str name, object data, bytes raw):
        """A StreamEvent, made in C: no Python-level call."""
        cdef Event ev = <Event>Event.__new__(self._make_event)
        ev.event = name
        ev._data = data
        ev.id = self._last_event_id
        ev.raw = raw
        return ev

    cdef bint _fast_delta(self, const char* data, Py_ssize_t n) except -1:
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
        s.p = data
        s.end = data + n
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
        if not (_scan_index(&s, &index) and _lit(&s, b",", 1)
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
        # The string: the one of the last fast event, most of the time.
        if (self._fast_parts is not None and self._fast_index == index
                and self._fast_kind is tname and self._fast_field is fname
                and PyBytes_GET_SIZE(self._fast_sid) == sid_len
                and memcmp(PyBytes_AS_STRING(self._fast_sid), sid, sid_len) == 0):
            parts = self._fast_parts
        else:
            try:
                state = self._states.get(PyUnicode_DecodeUTF8(sid, sid_len, NULL))
            except UnicodeDecodeError:
                return False
            if state is None:
                return False
            # Only a string the merge already tracks, of a step not ended: the
            # shared path sets up new calls, new fields and replaced objects.
            parts = state.fragments(index, tname, fname)
            if parts is None:
                return False
            self._fast_sid = PyBytes_FromStringAndSize(sid, sid_len)
            self._fast_index = index
            self._fast_kind = tname
            self._fast_field = fname
            self._fast_parts = <list>parts
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
