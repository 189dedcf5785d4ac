"""Time budgets for SymPy work that hold in any thread: the main one, a thread pool's, a Dask worker's.

A `Budget` is a deadline.  Used as a context manager it also *interrupts* the block it guards: a watchdog thread
raises `BudgetExceeded` inside the guarded thread at the deadline (CPython's per-thread asynchronous exception,
delivered between bytecodes, exactly where a signal handler would run).  Unlike the ``SIGALRM`` timer this
replaces, it needs no signal, so it works outside the main thread, and it neither disarms nor is disarmed by an
outer alarm (pytest-timeout, a harness's ``signal.alarm``): the same call takes the same time and gives the same
answer wherever it runs.  Loops that prefer to stop between rounds poll `Budget.check` or `Budget.expired`.

Nesting: a budget entered inside another is bounded by both; when the outer one runs out inside the inner block,
entering or leaving any budget, or `check`, raises the outer one's exception again, so an inner handler that
turns "out of time" into "undecided" cannot keep the outer work running past its deadline.
"""
from __future__ import annotations

import ctypes
import sys
import threading
import time

__all__ = ["Budget", "BudgetExceeded", "time_budget"]

# How often the watchdog re-checks a deadline that was moved or a block that ended (seconds).
_POLL_S = 0.5


class BudgetExceeded(BaseException):
    """A budgeted block ran past its deadline.

    A `BaseException` (like `KeyboardInterrupt`): SymPy's internal ``except Exception`` handlers must not swallow
    the interruption and carry on past the deadline.  Catch it by name.
    """


_local = threading.local()


def _stack() -> list["Budget"]:
    """The calling thread's open budgets, outermost first.

    An entry whose ``with`` statement's frame has left the stack is dropped: if an interruption landed in
    ``__exit__`` itself, before it could unregister, the entry must not outlive its block.
    """
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    if stack:
        live, frame = set(), sys._getframe(1)
        while frame is not None:
            live.add(id(frame))
            frame = frame.f_back
        stack[:] = [b for b in stack if id(b._frame) in live]
    return stack


class Budget:
    """A wall-clock deadline ``seconds`` from its creation (None: unbounded).

    ``with Budget(s):`` interrupts the block with `BudgetExceeded` at the deadline, in any thread; loops may poll
    `check` / `expired` / `remaining` instead.

    Args:
        seconds: the allowance; None means no limit (entering it still checks the enclosing budgets).

    Raises:
        ValueError: if ``seconds`` is not None and not a number > 0.
    """

    def __init__(self, seconds: float | None):
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not seconds > 0):
            raise ValueError(f"budget_s must be a number of seconds > 0 or None, got {seconds!r}")
        self.seconds = None if seconds is None else float(seconds)
        self.deadline = None if seconds is None else time.monotonic() + float(seconds)
        # One exception class per budget: an enclosing budget's interruption is told apart from this one's.
        message = f"time budget of {seconds:g} s exceeded" if seconds is not None else "time budget exceeded"
        self._exception = type("BudgetExceeded", (BudgetExceeded,),
                               {"__init__": lambda exc, *args: BudgetExceeded.__init__(exc, *(args or (message,))),
                                "__module__": __name__})
        self._lock = threading.Lock()
        self._active = False
        self._done = threading.Event()
        self._thread_id: int | None = None
        self._frame = None
        self._fired = False

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def remaining(self) -> float:
        """Seconds left (``inf`` for an unbounded budget, 0 once expired)."""
        return float("inf") if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def check(self) -> None:
        """Raise `BudgetExceeded` if this budget, or one enclosing the calling thread's block, has run out.

        Returns:
            None (for loops that stop between rounds).

        Raises:
            BudgetExceeded: past the deadline of this budget or of an enclosing one.
        """
        if self.expired:
            raise self._exception()
        _check_enclosing()

    # -- the interrupting context manager ---------------------------------------------------------------------
    def __enter__(self) -> "Budget":
        _check_enclosing()
        if self._thread_id is not None:
            raise RuntimeError("a Budget guards one block at a time; create a new Budget for another block")
        self.check()
        self._thread_id = threading.get_ident()
        self._frame = sys._getframe(1)
        _stack().append(self)
        if self.deadline is not None:
            self._active = True
            threading.Thread(target=self._watch, name="symnb-budget", daemon=True).start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._stop()
        stack = _stack()
        if self in stack:
            stack.remove(self)
        self._frame = None
        if exc_type is not None and issubclass(exc_type, BudgetExceeded) and exc_type is not self._exception:
            return False  # an enclosing budget's interruption: let it reach that budget's handler
        if exc_type is None:
            _check_enclosing()  # an enclosing budget ran out while this block finished normally
        return False

    def _stop(self) -> None:
        with self._lock:
            if self._active or self._fired:
                self._active = False
                self._done.set()
                # An interruption fired but not yet delivered must not leak past the block.
                _async_raise(self._thread_id, None)

    def _watch(self) -> None:
        while not self._done.wait(min(self.remaining(), _POLL_S)):
            if self.remaining() > 0:
                continue
            with self._lock:
                if self._active:
                    self._active, self._fired = False, True  # once; nested handlers re-raise via _check_enclosing
                    _async_raise(self._thread_id, self._exception)
            return


def _check_enclosing() -> None:
    for budget in _stack():
        if budget.expired:
            raise budget._exception()


def _async_raise(thread_id: int, exception: type[BaseException] | None) -> None:
    """Schedule ``exception`` in thread ``thread_id`` (None: cancel a scheduled one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exception) if exception is not None else None)


def time_budget(seconds: float | None) -> Budget:
    """``with time_budget(s):`` -- the block raises `BudgetExceeded` after ``s`` seconds, in any thread.

    Kept for the existing call sites; it is `Budget` used as a context manager.
    """
    return Budget(seconds)
