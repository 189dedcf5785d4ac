"""Time budgets hold wherever the call runs: main thread, a thread pool, under an outer alarm, in a Dask worker."""
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy as sp

from symnb.core.budget import Budget, BudgetExceeded, time_budget
from symnb.core.integrals import conservation_check, is_zero
from symnb.core.ode import ODESystem
from symnb.core.symmetries import find_symmetries

T, Z, TH1, TH2 = sp.symbols("t z theta1 theta2", real=True)
TOY = ODESystem(T, (Z,), (sp.cos(TH1 * Z + TH2),))
ANSATZ = {T: (T,), Z: (Z,)}
# A hang guard only (the unbudgeted call runs for minutes): not a timing assertion.
HANG_S = 30.0


def _budgeted_call():
    start = time.monotonic()
    found = find_symmetries(TOY, ANSATZ, budget_s=0.5, throw=False)
    return (found.complete, found.generators, found.reason), time.monotonic() - start


EXPECTED = (False, (), "time budget of 0.5 s exceeded while solving; nothing certified")


def test_main_thread():
    result, elapsed = _budgeted_call()
    assert result == EXPECTED and elapsed < HANG_S


def test_thread_pool_worker():
    with ThreadPoolExecutor(max_workers=1) as pool:
        result, elapsed = pool.submit(_budgeted_call).result(timeout=HANG_S)
    assert result == EXPECTED and elapsed < HANG_S


def test_under_an_outer_alarm_which_keeps_working():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    signal.setitimer(signal.ITIMER_REAL, 20.0)  # an outer timer (pytest-timeout, a harness) is running
    try:
        result, elapsed = _budgeted_call()
        left = signal.getitimer(signal.ITIMER_REAL)[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert result == EXPECTED and elapsed < HANG_S
    assert 0 < left < 20.0 and not fired  # the outer timer was neither disarmed nor fired


def test_dask_worker_process():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        found = client.submit(find_symmetries, TOY, ANSATZ, budget_s=0.5, throw=False).result(timeout=HANG_S * 2)
    assert (found.complete, found.generators, found.reason) == EXPECTED


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_interrupts_and_leaves_nothing_behind():
    with pytest.raises(BudgetExceeded, match=r"time budget of 0.2 s exceeded"):
        with time_budget(0.2):
            _spin(HANG_S)
    _spin(0.3)  # no interruption leaks past the block
    with Budget(5.0) as b:  # a block that finishes in time is not interrupted later
        _spin(0.05)
    _spin(0.2)
    assert not b.expired and b.remaining() > 0


def test_outer_budget_is_not_swallowed_by_an_inner_handler():
    # The inner handler turns "out of time" into "undecided"; the outer block must still stop.
    reached = []
    with pytest.raises(BudgetExceeded, match="0.3 s"):
        with Budget(0.3):
            try:
                with Budget(20.0):
                    _spin(HANG_S)
            except BudgetExceeded:
                reached.append("inner handler")
            with Budget(None):  # any later budget entry (e.g. is_zero's) re-raises the outer expiry
                reached.append("not reached")
    assert reached == ["inner handler"]


def test_polled_check_and_bad_values():
    b = Budget(0.05)
    b.check()
    _spin(0.1)
    assert b.expired and b.remaining() == 0
    with pytest.raises(BudgetExceeded, match="0.05 s"):
        b.check()
    for bad in (0, -1.0, "1", True):
        with pytest.raises(ValueError, match=r"budget_s must be a number of seconds > 0 or None, got"):
            Budget(bad)
    assert Budget(None).remaining() == float("inf")


def test_budgets_in_two_threads_are_independent():
    # A short budget in one thread must not interrupt a long one in another.
    out = {}

    def long_block():
        with Budget(10.0):
            _spin(0.6)
        out["long"] = "finished"

    worker = threading.Thread(target=long_block)
    worker.start()
    with pytest.raises(BudgetExceeded):
        with Budget(0.1):
            _spin(HANG_S)
    worker.join(HANG_S)
    assert out == {"long": "finished"}


def test_conservation_check_honours_its_budget():
    x, y = sp.symbols("x y", real=True)
    osc = ODESystem(T, (x, y), (y, -x))
    assert conservation_check(x**2 + y**2, osc, budget_s=5.0).status == "zero"
    assert conservation_check(x * y, osc, budget_s=5.0).status == "nonzero"
    with pytest.raises(ValueError, match="budget_s must be a number of seconds > 0 or None, got -2"):
        conservation_check(x**2 + y**2, osc, budget_s=-2)
    assert is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, budget_s=5.0) == "zero"


def test_learned_cq_budget_is_the_same_mechanism():
    from symnb.core.systems import textbook_system
    from symnb.neural.learned_cq import quadratic_integrals

    system = textbook_system("isotropic_oscillators_2", {"omega": 1})
    full = quadratic_integrals(system)
    cut = quadratic_integrals(system, time_budget=1e-4)  # far less than one certification takes
    assert full.complete and len(full.quantities) == 4  # q_i q_j + p_i p_j (3) and q1 p2 - q2 p1
    assert not cut.complete and cut.reason == "time budget 0.0001 s ran out"
    assert set(cut.quantities) < set(full.quantities)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the same in a worker thread
        again = pool.submit(quadratic_integrals, system, time_budget=1e-4).result(timeout=HANG_S)
    assert (again.complete, again.reason) == (cut.complete, cut.reason)
