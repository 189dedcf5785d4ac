"""Plumbing a user meets: penalties that travel (pickle, torch.save, a Dask worker process), clear errors for a
whole FirstIntegrals result and for a projection leaving I's domain, `symnb.train` the package, data files."""
import io
import pickle
import types
from pathlib import Path

import pytest
import sympy as sp
import torch

from symnb.core.data import DATA_DIR_ENV, data_dir, data_path
from symnb.core.first_integrals import first_integrals
from symnb.core.penalty import conservation_penalty, project_to_level_set
from symnb.core.systems import textbook_system


def _oscillator_penalty():
    system = textbook_system("harmonic_oscillator")
    q, p = system.states
    omega = system.parameters[0]
    return conservation_penalty(omega**2 * q**2 + p**2, system, values={"omega": 1.5})


def _points():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 2, generator=generator, dtype=torch.float64)
    fx = torch.randn(16, 2, generator=generator, dtype=torch.float64)
    return x, fx


def test_penalty_pickles_and_torch_saves_with_the_same_value():
    penalty = _oscillator_penalty()
    x, fx = _points()
    expected = penalty(x, fx)
    assert float(expected) > 0  # a random field is not the oscillator's: the penalty is informative here
    assert torch.equal(pickle.loads(pickle.dumps(penalty))(x, fx), expected)
    buffer = io.BytesIO()
    torch.save(penalty, buffer)
    buffer.seek(0)
    assert torch.equal(torch.load(buffer, weights_only=False)(x, fx), expected)
    # On the true field (q' = p, p' = -omega^2 q) the integral is conserved: 0 after the round trip too.
    true_fx = torch.stack([x[:, 1], -(1.5**2) * x[:, 0]], dim=-1)
    assert float(pickle.loads(pickle.dumps(penalty))(x, true_fx)) < 1e-25


def _evaluate_penalty(penalty, x, fx):
    return penalty(x, fx)


def test_penalty_in_a_dask_worker_process_gives_the_same_value():
    distributed = pytest.importorskip("dask.distributed")
    penalty = _oscillator_penalty()
    x, fx = _points()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        remote = client.submit(penalty, x, fx).result(timeout=120)
        pid = client.submit(lambda: __import__("os").getpid()).result(timeout=60)
    assert pid != __import__("os").getpid()  # it really ran in another process
    assert torch.equal(remote, penalty(x, fx))


def test_a_whole_first_integrals_result_is_refused_briefly():
    system = textbook_system("harmonic_oscillator")
    q, p = system.states
    found = first_integrals(system, basis=[q**2, p**2, q * p])
    assert len(found) >= 1
    with pytest.raises(ValueError, match=r"integral is a FirstIntegrals result holding \d+ integral\(s\); pass one "
                                         r"FirstIntegral, e.g. result\[0\]") as err:
        conservation_penalty(found, system, values={"omega": 1.0})
    assert len(str(err.value)) < 200
    with pytest.raises(ValueError, match=r"integral must be a SymPy expression, got \[\[0, 1, 2, .*\.\.\. "
                                         r"\(\d+ characters\) \(list\)") as err:
        conservation_penalty([list(range(100))], system, values={"omega": 1.0})
    assert len(str(err.value)) < 200


def test_projection_leaving_the_log_domain_says_so():
    system = textbook_system("lotka_volterra", {"alpha": 1, "beta": 1, "gamma": 1, "delta": 1})
    x, y = system.states
    integral = x - sp.log(x) + y - sp.log(y)
    points = torch.tensor([[0.5, 0.5], [2.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"is not a finite real number after 1 Newton step\(s\) at 1 point\(s\), "
                                         r"e.g. x=\[-1.306853, -1.306853\]: the projection left I's real domain "
                                         r"\(it needs x > 0, y > 0\)"):
        project_to_level_set(integral, system, points, 6.0)
    # A reachable level: the projection converges and stays inside the domain.
    out = project_to_level_set(integral, system, points, 2.5)
    assert (out > 0).all()
    value = out[:, 0] - out[:, 0].log() + out[:, 1] - out[:, 1].log()
    assert torch.allclose(value, torch.full((2,), 2.5, dtype=torch.float64), atol=1e-10)


def test_symnb_train_is_the_package_with_fit_and_train():
    import symnb
    import symnb.train

    assert isinstance(symnb.train, types.ModuleType)
    assert callable(symnb.train.fit) and callable(symnb.train.train)
    assert symnb.train.train.__module__ == "symnb.train.toy"


def test_data_files_resolve_through_one_function(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert data_path("ablation_cpu.csv").is_file()
    committed = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "ablation_cpu.csv"
    assert data_path("ablation_cpu.csv").resolve() == committed.resolve()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert data_dir() == tmp_path and data_path("new.csv") == tmp_path / "new.csv"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"SYMNB_DATA_DIR='.*missing' is not a folder"):
        data_dir()
    monkeypatch.delenv(DATA_DIR_ENV)
    for bad in ("../x.csv", "a/b.csv", "", ".."):
        with pytest.raises(ValueError, match="name must be a plain file name"):
            data_path(bad)
