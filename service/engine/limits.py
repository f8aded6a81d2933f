"""Bounds on what one evaluation of diagram code may cost, C-level calls included.

A line budget alone does not stop ``sum(range(10**13))`` or ``'x' * 10**10``: each is one line
whose work happens inside a single C call that no trace function can interrupt. So the code is
compiled with :class:`BoundedTransformer`, which turns the operators that can amplify (``*``,
``**``, ``<<``, ``+``, ``%``, comparisons) into calls of guards that look at the operands'
sizes first; the builtins that consume or produce sequences are replaced by guarded ones; the
string and list methods that can amplify are guarded when looked up; and the trace function
checks the thread's processor time and the process's peak memory between lines. Every refusal is a
:class:`ScriptError` saying what was refused and what the limit is.

Known gaps of a guard-based sandbox (no subprocess per evaluation, so nothing can interrupt a
C call already running):

- Sizes count shared elements each time they occur, so ``[[0] * 1000] * 1000`` is a million; but a
  structure built over many lines that refers to one big value many times (100,000 appends of the
  same 1,000,000-item tuple) passes each guard, and one C call on it that is not guarded — putting
  it in a set (hashing), ``list.count``/``index``/``remove`` — can take minutes.
- The memory ceiling watches the process's *peak*: a process that once used more lets a script
  use up to that old peak plus the allowance before it is stopped.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from RestrictedPython import RestrictingNodeTransformer

from service.domain.errors import ScriptError

#: Items (list/tuple/dict/set elements, counted through nested containers as often as they are
#: shared) or characters one value may have. Diagram data is a case's request and decisions:
#: kilobytes. A million keeps any one C call under a few tens of milliseconds and ~100 MB.
MAX_ITEMS = 1_000_000

#: Bits an integer may grow to through ``*``, ``**`` or ``<<`` (about 4,900 decimal digits,
#: a little above what Python parses from text at all). Deadlines and counts need far less.
MAX_INT_BITS = 16_384

#: Seconds of processor time one evaluation (one condition, timer expression or script) may use.
#: Conditions run at every step of every case in the sweep; 2 s is far above any real script
#: (they take well under a millisecond) and short enough that one case cannot hold up the rest.
#: It is the thread's own processor time, not the wall clock: on a loaded machine, or while
#: another thread of a web server holds the interpreter, a 1 ms script can wait seconds, and
#: must not fail for that; a runaway script spends this thread's processor time whatever the load.
CPU_SECONDS = 2.0

#: Growth of the process's peak resident memory allowed during one evaluation, in KiB (256 MiB).
#: It catches many lines that each keep a bounded value (a loop appending 1 MB strings).
MEMORY_GROWTH_KIB = 256 * 1024

#: How many traced lines pass between two looks at the process's peak memory (a system call).
MEMORY_CHECK_EVERY = 32

_SEQUENCES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_SCALARS = frozenset({int, float, bool, str, type(None)})


class LimitExceeded(ScriptError):
    """Diagram code tried to go over one of this module's limits."""


def _refuse(message: str) -> LimitExceeded:
    return LimitExceeded(message)


def _peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


_recent_peak: list[float] = [0, float("-inf")]  # peak RSS in KiB, and when it was read (monotonic)


def _baseline_peak_kib() -> int:
    """The process's peak memory as of at most a second ago (one system call per second, not per evaluation).

    A stale value only lowers the ceiling: it could refuse a script early if other threads had
    just raised the peak by more than :data:`MEMORY_GROWTH_KIB` within that second.
    """
    now = time.monotonic()
    if now - _recent_peak[1] > 1.0:
        _recent_peak[:] = [_peak_rss_kib(), now]
    return int(_recent_peak[0])


class Budget:
    """What is left of one evaluation's allowance: lines, processor time and memory growth."""

    __slots__ = ("lines", "limit", "_cpu_deadline", "_next_cpu_look", "_memory_ceiling", "_until_memory_check")

    def __init__(self, lines: int) -> None:
        self.lines = self.limit = lines
        self._cpu_deadline = time.thread_time() + CPU_SECONDS
        # A thread's processor time cannot pass faster than the wall clock, so the costly look at it
        # (a system call) waits until that much wall time has passed; a cheap clock is read per line.
        self._next_cpu_look = time.monotonic() + CPU_SECONDS
        self._memory_ceiling = _baseline_peak_kib() + MEMORY_GROWTH_KIB
        self._until_memory_check = MEMORY_CHECK_EVERY

    def line(self) -> None:
        """Charge one traced line; raise when a budget is used up."""
        self.lines -= 1
        if self.lines < 0:
            raise ScriptBudgetExceeded(f"script ran more than {self.limit} lines")
        self.tick()

    def tick(self) -> None:
        """Check the processor time (and, every few calls, the memory) without charging a line."""
        if time.monotonic() >= self._next_cpu_look:
            left = self._cpu_deadline - time.thread_time()
            if left <= 0:
                raise _refuse(f"evaluation used more than the limit of {CPU_SECONDS:g} s of processor time")
            self._next_cpu_look = time.monotonic() + left
        self._until_memory_check -= 1
        if self._until_memory_check <= 0:
            self._until_memory_check = MEMORY_CHECK_EVERY
            if _peak_rss_kib() > self._memory_ceiling:
                raise _refuse(f"evaluation used more than the limit of {MEMORY_GROWTH_KIB // 1024} MiB of memory")


class ScriptBudgetExceeded(LimitExceeded):
    """Raised inside a script that ran more lines than its line budget."""


current_budget: ContextVar[Budget | None] = ContextVar("current_budget", default=None)


def tick() -> None:
    """Check the running evaluation's clock from inside a guard (C-level loops call back here)."""
    budget = current_budget.get()
    if budget is not None:
        budget.tick()


# --- sizes ---------------------------------------------------------------------------------

def weight(value: Any, limit: int = MAX_ITEMS) -> int:
    """Elements and characters of ``value``, through nested containers (shared ones each time); stops past ``limit``."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += len(item)
            stack.extend(item)
        if total > limit:
            return total
    return total


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else weight(value)


def _check_size(size: int, what: str) -> None:
    if size > MAX_ITEMS:
        raise _refuse(f"{what} would hold {size:,} items or characters, over the limit of {MAX_ITEMS:,}")


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise _refuse(f"{what} would have about {bits:,} bits, over the limit of {MAX_INT_BITS:,}")


def _short(number: int) -> str:
    return str(number) if number.bit_length() < 64 else f"a {number.bit_length():,}-bit number"


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


# --- operators -----------------------------------------------------------------------------

def guarded_mul(a: Any, b: Any) -> Any:
    """``a * b`` once the result's size is known to be within the limits."""
    if _is_int(a) and _is_int(b):
        _check_bits(a.bit_length() + b.bit_length(), f"{a.bit_length()}-bit × {b.bit_length()}-bit product")
    elif _is_int(b) and isinstance(a, _SEQUENCES):
        _check_size(_size(a) * b, "repeating a sequence")
    elif _is_int(a) and isinstance(b, _SEQUENCES):
        _check_size(_size(b) * a, "repeating a sequence")
    return a * b


def guarded_pow(a: Any, b: Any, modulo: Any = None) -> Any:
    """``a ** b`` (or ``pow(a, b, modulo)``) once an integer result is known to fit the limit."""
    if modulo is not None:
        if _is_int(modulo):
            _check_bits(modulo.bit_length(), "the modulus")
        return pow(a, b, modulo)
    if _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        _check_bits(a.bit_length() * b, f"{_short(a)} ** {_short(b)}")
    return a**b


def guarded_lshift(a: Any, b: Any) -> Any:
    """``a << b`` once the result is known to fit the integer limit."""
    if _is_int(a) and _is_int(b) and a and b > 0:
        _check_bits(a.bit_length() + b, f"{_short(a)} << {_short(b)}")
    return a << b


def guarded_add(a: Any, b: Any) -> Any:
    """``a + b``; joining sequences must stay within the size limit."""
    if type(a) in _SCALARS and type(a) is not str:
        return a + b
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_size(_size(a) + _size(b), "joining two sequences")
    return a + b


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_widths(numbers: Iterable[str], what: str) -> None:
    for number in numbers:
        if number == "*":
            raise _refuse(f"{what}: a width or precision taken from the arguments ('*') is not allowed")
        if number and int(number) > MAX_ITEMS:
            raise _refuse(f"{what}: a width or precision of {int(number):,} exceeds the limit of {MAX_ITEMS:,}")


def guarded_mod(a: Any, b: Any) -> Any:
    """``a % b``; for %-formatting of text, widths and precisions must stay within the limit."""
    if isinstance(a, str | bytes):
        text = a.decode("latin-1") if isinstance(a, bytes) else a
        for match in _PERCENT_SPEC.finditer(text):
            _check_widths(match.groups(""), "%-formatting")
    return a % b


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}


def guarded_compare(left: Any, ops: tuple[str, ...], rights: tuple[Any, ...]) -> bool:
    """A comparison (chain); comparing nested containers is refused past the size limit."""
    if len(ops) == 1 and type(left) in _SCALARS and type(rights[0]) in _SCALARS:
        return bool(_COMPARE[ops[0]](left, rights[0]))
    for op, right in zip(ops, rights, strict=True):
        if op not in ("is", "is not") and (type(left) not in _SCALARS or type(right) not in _SCALARS):
            _check_size(weight(left) + weight(right), f"comparing ('{op}') values")
        if not _COMPARE[op](left, right):
            return False
        left = right
    return True


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": guarded_add, "*=": guarded_mul, "**=": guarded_pow, "<<=": guarded_lshift, "%=": guarded_mod,
    "-=": operator.sub, "/=": operator.truediv, "//=": operator.floordiv, ">>=": operator.rshift,
    "&=": operator.and_, "|=": operator.or_, "^=": operator.xor, "@=": operator.matmul,
}


def guarded_inplace(op: str, target: Any, value: Any) -> Any:
    """RestrictedPython's ``_inplacevar_``: ``x op= y`` through the same guards as ``x op y``."""
    return _INPLACE[op](target, value)


# --- builtins --------------------------------------------------------------------------------

def guarded_range(*args: int) -> range:
    """``range`` that refuses more than :data:`MAX_ITEMS` items."""
    made = range(*args)
    step = made.step
    count = max(0, (made.stop - made.start + step - (1 if step > 0 else -1)) // step)
    if count > MAX_ITEMS:
        raise _refuse(f"range of {count} items exceeds the limit of {MAX_ITEMS:,}")
    return made


def guarded_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    """``sum`` of numbers (joining lists or strings with sum is refused: use a loop or ``join``)."""
    if not isinstance(start, int | float | complex):
        raise _refuse("sum() only adds numbers; join lists or text another way")
    return sum(_ticking_iter(iterable), start)


def _ticking_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    if isinstance(iterable, range | list | tuple | str | dict | set | frozenset):
        return iter(iterable)  # bounded, and nothing of the script runs per item
    return _ticks(iterable)


def _ticks(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        tick()
        yield item


def _ticking(function: Callable[..., Any] | None) -> Callable[..., Any] | None:
    if function is None:
        return None

    def call(*args: Any) -> Any:
        tick()
        return function(*args)

    return call


def guarded_map(function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
    """``map`` that checks the clock for each item (nested C calls cannot multiply unseen)."""
    for args in zip(*iterables):  # noqa: B905 - map's own semantics: stop at the shortest
        tick()
        yield function(*args)


def guarded_filter(function: Callable[[Any], Any] | None, iterable: Iterable[Any]) -> Iterator[Any]:
    """``filter`` that checks the clock for each item."""
    for item in iterable:
        tick()
        if (function(item) if function is not None else item):
            yield item


def _checked_items(iterable: Iterable[Any], what: str) -> list[Any]:
    items = list(_ticking_iter(iterable))
    if any(type(item) not in _SCALARS for item in items):
        _check_size(weight(items), what)
    return items


def guarded_sorted(
    iterable: Iterable[Any], *, key: Callable[[Any], Any] | None = None, reverse: bool = False,
) -> list[Any]:
    """``sorted`` with a size check on what it compares and a clock check per key call."""
    items = _checked_items(iterable, "sorting values")
    return sorted(items, key=_ticking(key), reverse=reverse)


def _extreme(choose: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, key: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        items = _checked_items(args[0] if len(args) == 1 else args, f"{choose.__name__}() over values")
        if key is not None:
            kwargs["key"] = _ticking(key)
        return choose(items, **kwargs)

    guarded.__name__ = choose.__name__
    return guarded


def _materializing(kind: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if args and not isinstance(args[0], str | bytes):
            return kind(_ticking_iter(args[0]), *args[1:], **kwargs)
        return kind(*args, **kwargs)

    guarded.__name__ = kind.__name__
    return guarded


def _printing(kind: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any) -> Any:
        if args and type(args[0]) not in _SCALARS:
            _check_size(weight(args[0]), f"{kind.__name__}() of a value")
        return kind(*args)

    guarded.__name__ = kind.__name__
    return guarded


def guarded_round(number: Any, ndigits: Any = None) -> Any:
    """``round``; rounding an integer to minus millions of digits would compute 10 to that power."""
    if _is_int(number) and _is_int(ndigits) and ndigits < 0:
        _check_bits(-ndigits * 4, f"rounding to {_short(ndigits)} digits needs a power of ten that")
    return round(number) if ndigits is None else round(number, ndigits)


def _formatted(value: Any) -> Any:
    if type(value) not in _SCALARS:
        _check_size(weight(value), "formatting a value")
    return value


def guarded_builtins() -> dict[str, Any]:
    """Replacements for the builtins that can do unbounded C-level work (``isinstance`` still knows the types)."""
    guarded: dict[str, Any] = {
        "range": guarded_range, "pow": guarded_pow, "sum": guarded_sum, "map": guarded_map,
        "filter": guarded_filter, "sorted": guarded_sorted, "min": _extreme(min), "max": _extreme(max),
        "list": _materializing(list), "tuple": _materializing(tuple), "set": _materializing(set),
        "frozenset": _materializing(frozenset), "any": _materializing(any), "all": _materializing(all),
        "str": _printing(str), "repr": _printing(repr), "hash": _printing(hash), "round": guarded_round,
    }
    real = {guarded[name]: getattr(builtins, name) for name in ("range", "list", "tuple", "set", "frozenset", "str")}

    def as_types(classes: Any) -> Any:
        if isinstance(classes, tuple):
            return tuple(as_types(c) for c in classes)
        return real.get(classes, classes)

    guarded["isinstance"] = lambda value, classes: isinstance(value, as_types(classes))
    guarded["issubclass"] = lambda cls, classes: issubclass(as_types(cls), as_types(classes))
    return guarded


# --- methods -------------------------------------------------------------------------------

def _widen(method: str) -> Callable[..., Any]:
    def guarded(obj: Any, width: Any, *rest: Any) -> Any:
        if _is_int(width):
            _check_size(width, f"{method}() to that width")
        return getattr(obj, method)(width, *rest)

    return guarded


def _replace(obj: Any, old: Any, new: Any, count: int = -1) -> Any:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        found = obj.count(old) if old else len(obj) + 1
        if count >= 0:
            found = min(found, count)
        _check_size(len(obj) + found * (len(new) - len(old)), "replace()")
    return obj.replace(old, new, count)


def _expandtabs(obj: Any, tabsize: int = 8) -> Any:
    tab = "\t" if isinstance(obj, str) else b"\t"
    _check_size(len(obj) + obj.count(tab) * max(tabsize, 0), "expandtabs()")
    return obj.expandtabs(tabsize)


def _join(obj: Any, iterable: Iterable[Any]) -> Any:
    parts = list(_ticking_iter(iterable))
    total = sum(len(part) for part in parts if isinstance(part, str | bytes))
    _check_size(total + len(obj) * max(len(parts) - 1, 0), "join()")
    return obj.join(parts)


def _translate(obj: Any, table: Any) -> Any:
    if isinstance(obj, str) and isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        _check_size(len(obj) * max(longest, 1), "translate()")
    return obj.translate(table)


def _sort(obj: list[Any], *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
    if key is None and any(type(item) not in _SCALARS for item in obj):
        _check_size(weight(obj), "sorting values")
    obj.sort(key=_ticking(key), reverse=reverse)


def _extend(obj: list[Any], iterable: Iterable[Any]) -> None:
    items = list(_ticking_iter(iterable))
    _check_size(len(obj) + len(items), "extend()")
    obj.extend(items)


_TEXT_METHODS: dict[str, Callable[..., Any]] = {
    "ljust": _widen("ljust"), "rjust": _widen("rjust"), "center": _widen("center"), "zfill": _widen("zfill"),
    "replace": _replace, "expandtabs": _expandtabs, "join": _join, "translate": _translate,
}
_LIST_METHODS: dict[str, Callable[..., Any]] = {"sort": _sort, "extend": _extend}


def _to_bytes(obj: int, length: int = 1, *args: Any, **kwargs: Any) -> bytes:
    if _is_int(length):
        _check_size(length, "to_bytes()")
    return obj.to_bytes(length, *args, **kwargs)


def method_guard(obj: Any, name: str) -> Callable[..., Any] | None:
    """The guarded form of ``obj.name`` when that method can amplify, else None."""
    guard = None
    if isinstance(obj, str | bytes | bytearray):
        guard = _TEXT_METHODS.get(name)  # str.format and format_map: RestrictedPython refuses them already
    elif isinstance(obj, list):
        guard = _LIST_METHODS.get(name)
    elif isinstance(obj, int) and name == "to_bytes":
        guard = _to_bytes
    if guard is None:
        return None

    def bound(*args: Any, **kwargs: Any) -> Any:
        return guard(obj, *args, **kwargs)

    return bound


# --- compile-time transform ------------------------------------------------------------------

_BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_",
}
_COMPARE_NAMES: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}


def guard_globals() -> dict[str, Any]:
    """The helper names the transformed code calls."""
    return {
        "_mul_": guarded_mul, "_pow_": guarded_pow, "_lshift_": guarded_lshift, "_add_": guarded_add,
        "_mod_": guarded_mod, "_compare_": guarded_compare, "_inplacevar_": guarded_inplace, "_fmt_": _formatted,
    }


def _call(name: str, node: ast.AST, args: list[ast.expr]) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, node)


class BoundedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: amplifying operators go through guards; no try, no classes."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """``a * b`` becomes ``_mul_(a, b)`` (likewise ``**``, ``<<``, ``+``, ``%``)."""
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return ast.fix_missing_locations(_call(guard, node, [node.left, node.right]))

    def visit_Compare(self, node: ast.Compare) -> Any:
        """``a < b < c`` becomes ``_compare_(a, ('<', '<'), (b, c))`` (operands evaluated first)."""
        node = self.node_contents_visit(node)
        ops = ast.Tuple([ast.Constant(_COMPARE_NAMES[type(op)]) for op in node.ops], ast.Load())
        rights = ast.Tuple(list(node.comparators), ast.Load())
        return ast.fix_missing_locations(_call("_compare_", node, [node.left, ops, rights]))

    def visit_Try(self, node: ast.Try) -> Any:
        """No try statements: a script could otherwise catch the limits' own errors."""
        self.error(node, "try statements are not allowed in diagram code (use fail_if to stop a step)")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        """No class definitions: subclasses of str or list would slip past the guards."""
        self.error(node, "class definitions are not allowed in diagram code")
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        """An f-string's format spec must be literal, with widths within the limit."""
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            if any(not isinstance(part, ast.Constant) for part in spec.values):
                self.error(node, "a format width taken from a variable is not allowed in diagram code")
            text = "".join(str(part.value) for part in spec.values if isinstance(part, ast.Constant))
            if any(int(number) > MAX_ITEMS for number in re.findall(r"\d+", text)):
                self.error(node, f"a format width over the limit of {MAX_ITEMS:,} characters is not allowed")
        node = self.node_contents_visit(node)
        node.value = ast.fix_missing_locations(_call("_fmt_", node.value, [node.value]))
        return node
