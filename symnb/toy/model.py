"""The toy Neural ODE dz/dt = sigma(theta1 z + theta2) (paper eq 2, §3.1), solved with torchdiffeq.

One model, three views:
  * symbolic: `model_system` (the N-independent one-sample `ODESystem`) and `adjoint_system` (eq 6: the joint
    (z, u, v, w) flow of the state and its adjoints; chapter 3's, re-exported), both derived from the activation
    with SymPy (activations: chapter 3's registry `symnb.toy.activations.ACTIVATIONS`);
  * numeric: `ToyModel.solve` -- torchdiffeq, solver/tolerances/adjoint selectable, CPU or CUDA, float32/64;
  * exact: `ToyModel.closed_form` for sigma = cos, the §3.1 solution extended to every branch of the phase.

Batching: ``theta`` may carry leading batch dimensions, shape (..., 2), and the inputs shape (..., N) or (N,);
they broadcast, so B configurations train in one solve (the adaptive step size is then shared by the batch).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
import torch
from torchdiffeq import odeint, odeint_adjoint

from ..core.bridge import SOLVERS, FieldModule, resolve_device, to_torch
from ..core.ode import ODESystem
from .activations import ACTIVATIONS, activation
from .symbols import t, theta1, theta2, u, v, w, z, z0

__all__ = ["ACTIVATIONS", "DTYPES", "activation", "model_system", "augmented_rhs", "adjoint_system",
           "closed_form_expr", "ToyModel"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@lru_cache(maxsize=None)
def model_system(name: str = "cos") -> ODESystem:
    """dz/dt = sigma(theta1 z + theta2) for one sample (paper eq 2; every sample obeys the same equation).

    Raises:
        ValueError: for an unknown activation.
    """
    return ODESystem(t, (z,), (activation(name)(theta1 * z + theta2),))


def augmented_rhs(f: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """(z', u', v', w') = (f, -u f_z, -u f_theta1, -u f_theta2) for any f(z, theta1, theta2) (eqs 5-6).

    ``f`` may contain undefined functions (a generic sigma or f); the result is then for display and
    symbolic checks only (an `ODESystem` needs concrete right-hand sides).
    """
    f = sp.sympify(f)
    return (f, -u * sp.diff(f, z), -u * sp.diff(f, theta1), -u * sp.diff(f, theta2))


@lru_cache(maxsize=None)
def adjoint_system(name: str = "cos") -> ODESystem:
    """The augmented adjoint system of eq 6 for dz/dt = sigma(theta1 z + theta2), states (z, u, v, w).

    Derived by differentiating f: for ``name="cos"`` it is eq 28.

    Args:
        name: a key of `ACTIVATIONS`.

    Raises:
        ValueError: for an unknown activation.
    """
    return ODESystem(t, (z, u, v, w), augmented_rhs(activation(name)(theta1 * z + theta2)))


_k = sp.Symbol("k", integer=True)   # branch: theta1 z0 + theta2 lies in (k pi - pi/2, k pi + pi/2)
_s = sp.Symbol("s", real=True)      # (-1)**k


def closed_form_expr() -> tuple[sp.Expr, sp.Symbol, sp.Symbol]:
    """z(t) for dz/dt = cos(theta1 z + theta2) from z(0) = z0, on the branch k of the phase; returns (expr, k, s).

    With phi = theta1 z + theta2 and psi = phi - k pi in (-pi/2, pi/2), psi' = s theta1 cos(psi) (s = (-1)^k) is
    solved by the Gudermannian, psi(t) = atan(sinh(s theta1 t + atanh(sin psi0))).  For k = 0 this is the
    solution printed in §3.1, (asin(tanh(theta1 (c + t))) - theta2) / theta1, written with atan(sinh(.)) -- the
    same function whose derivative stays finite where tanh(.) rounds to 1.
    """
    psi0 = _s * sp.sin(theta1 * z0 + theta2)     # = sin(phi0 - k pi)
    expr = (_k * sp.pi + sp.atan(sp.sinh(_s * theta1 * t + sp.atanh(psi0))) - theta2) / theta1
    return expr, _k, _s


@dataclass(frozen=True)
class ToyModel:
    """The toy Neural ODE and how to solve it.

    Attributes:
        activation: a key of `ACTIVATIONS` ("cos" is the paper's).
        solver: a torchdiffeq method (`symnb.core.bridge.SOLVERS`).
        rtol, atol: solver tolerances (> 0).
        adjoint: backpropagate with ``odeint_adjoint`` instead of through the solver's operations.
        device: "auto", "cpu", "cuda" or "cuda:N".
        dtype: "float32" or "float64".

    Raises:
        ValueError: for an unknown activation, solver, dtype or device, non-positive tolerances, or cuda asked for
            on a machine without it -- all at construction, before any work.
    """

    activation: str = "cos"
    solver: str = "dopri5"
    rtol: float = 1e-6
    atol: float = 1e-8
    adjoint: bool = False
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        activation(self.activation)
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; valid: {list(SOLVERS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; valid: {list(DTYPES)}")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
        resolve_device(self.device)

    @property
    def torch_device(self) -> torch.device:
        """The resolved torch device."""
        return resolve_device(self.device)

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype."""
        return DTYPES[self.dtype]

    def tensor(self, x) -> torch.Tensor:
        """``x`` as a tensor of this model's dtype on its device."""
        return torch.as_tensor(x, dtype=self.torch_dtype, device=self.torch_device)

    @property
    def system(self) -> ODESystem:
        """The one-sample symbolic system (`model_system`)."""
        return model_system(self.activation)

    def _field(self) -> FieldModule:
        # The bridge's one system->torch module; every element of the state is a sample of the one-state system.
        return FieldModule(self.system.states, self.system.rhs, params=(theta1, theta2), axis=None)

    def rhs(self, state: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """sigma(theta1 z + theta2) elementwise; ``theta`` (..., 2) broadcasts against ``state`` (..., N)."""
        return self._field()(None, state, theta[..., 0:1], theta[..., 1:2])

    def solve(self, inputs: torch.Tensor, theta: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """z at every time of ``times`` from z(times[0]) = inputs.

        Args:
            inputs: z(0), shape (N,) or (..., N).
            theta: (theta1, theta2), shape (2,) or (..., 2); gradients flow into it.
            times: increasing output times; times[0] is the initial time.

        Returns:
            A tensor of shape (len(times), *broadcast(theta[..., :1], inputs).shape).
        """
        field = self._field()
        th1, th2 = theta[..., 0:1], theta[..., 1:2]
        shape = torch.broadcast_shapes(inputs.shape, th1.shape)
        y0 = inputs.expand(shape).clone()

        def f(_t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return field(_t, y, th1, th2)

        kwargs = dict(method=self.solver, rtol=self.rtol, atol=self.atol)
        if self.solver in ("rk4", "euler", "midpoint"):
            # fixed-step solvers step on the output grid unless told otherwise
            kwargs.pop("rtol"), kwargs.pop("atol")
        if self.adjoint:
            return odeint_adjoint(f, y0, times, adjoint_params=(theta,), **kwargs)
        return odeint(f, y0, times, **kwargs)

    def closed_form(self, inputs: torch.Tensor, theta: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """The exact solution for sigma = cos (`closed_form_expr`), same shapes as `solve`.

        Valid for theta1 != 0 and inputs off the fixed points cos(theta1 z0 + theta2) = 0.

        Raises:
            ValueError: for an activation other than cos (no closed form implemented).
        """
        if self.activation != "cos":
            raise ValueError(f"closed form implemented for activation 'cos' only, got {self.activation!r}")
        expr, k, s = closed_form_expr()
        fn = to_torch((t, z0, theta1, theta2, k, s), expr)
        th1, th2 = theta[..., 0:1], theta[..., 1:2]
        branch = torch.round((th1 * inputs + th2) / torch.pi).detach()
        sign = 1.0 - 2.0 * torch.remainder(branch, 2.0)
        tt = times.reshape((-1,) + (1,) * max(inputs.dim(), th1.dim()))
        (out,) = fn(tt, inputs, th1, th2, branch, sign)
        return out
