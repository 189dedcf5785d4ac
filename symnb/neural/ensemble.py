"""Ensembles of E independent MLPs evaluated in one ``vmap`` call: vector fields and Hamiltonian networks.

An ensemble holds E copies of one architecture, each initialised from its own seed, with their parameters stacked
along a leading dimension (``torch.func.stack_module_state``).  The forward pass is ``functional_call`` of the
shared architecture under ``torch.func.vmap`` over that dimension, so E seeds of one method train as one
batched problem with `symnb.train.fit` (the loss returns one total per member, shape (E,)).  Members never mix:
row e of every parameter only ever touches member e's outputs.

Two heads:

* ``"field"``: the MLP *is* the vector field, f_theta(x) in R^d (a vanilla Neural ODE, or HNN's "baseline").
* ``"hnn"``: the MLP is a scalar H_theta(x) and the field is its symplectic gradient f = J grad H_theta,
  dq/dt = dH/dp, dp/dt = -dH/dq (Greydanus, Dzamba & Yosinski 2019, "Hamiltonian Neural Networks", eq 2).
  Their code gives the MLP two outputs and, with the default solenoidal field, uses only the second; a single
  output is the same model without the unused one.
* ``"hnn_pair"``: HNN's head exactly -- two outputs, H_theta is the second (the first only feels weight decay).

The default architecture is HNN's: two hidden layers of 200 tanh units, orthogonal weight initialisation
(their ``nn_models.MLP``), biases at PyTorch's default initialisation.  Their last layer has no bias
(``last_bias=False``) and their weights come from the global generator after ``torch.manual_seed(seed)``
(``init="reference"``): with both, member e starts from the very weights of the reference code's seed-e model.

`rk4_rollout` integrates such a field with the classical fixed-step Runge-Kutta method, optionally projecting
the state after every step (used for the level-set projection method of chapter 7); a fixed step keeps batched
and single runs identical.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

__all__ = ["ACTIVATIONS", "HEADS", "INITS", "MLPEnsemble", "hnn_field", "rk4_rollout"]

# name -> activation module class
ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus,
                                           "silu": nn.SiLU}
HEADS = ("field", "hnn", "hnn_pair")
INITS = ("seeded", "reference")


def _mlp(in_dim: int, out_dim: int, width: int, depth: int, activation: str, seed: int,
         dtype: torch.dtype, device: torch.device | str, last_bias: bool = True,
         init: str = "seeded") -> nn.Sequential:
    """One MLP, initialised from ``seed`` alone (HNN's orthogonal weights; default biases).

    ``init="seeded"``: a private generator (the member depends on its seed only).  ``init="reference"``: the draw
    sequence of HNN's ``nn_models.MLP`` after ``torch.manual_seed(seed)`` -- every ``nn.Linear`` built in float32
    with PyTorch's default initialisation, then ``orthogonal_`` on each weight in layer order -- run inside
    ``torch.random.fork_rng`` so the caller's global generator is left untouched.
    """
    dims = [in_dim] + [width] * depth + [out_dim]
    n = len(dims) - 1
    biases = [True] * (n - 1) + [last_bias]
    if init == "reference":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            lins = [nn.Linear(dims[i], dims[i + 1], bias=biases[i], dtype=torch.float32) for i in range(n)]
            for lin in lins:
                nn.init.orthogonal_(lin.weight)
    else:
        gen = torch.Generator().manual_seed(int(seed))
        lins = []
        for i in range(n):
            lin = nn.Linear(dims[i], dims[i + 1], bias=biases[i], dtype=torch.float64)
            with torch.no_grad():
                # Initialise from a private generator so the member depends on its seed only (not on global state).
                nn.init.orthogonal_(lin.weight, generator=gen)
                bound = 1.0 / dims[i] ** 0.5  # PyTorch's default bias init for nn.Linear
                if lin.bias is not None:
                    lin.bias.copy_(torch.rand(dims[i + 1], generator=gen, dtype=torch.float64) * 2 * bound - bound)
            lins.append(lin)
    layers: list[nn.Module] = []
    for i, lin in enumerate(lins):
        layers.append(lin)
        if i < n - 1:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers).to(dtype=dtype, device=device)


def hnn_field(grad_h: torch.Tensor) -> torch.Tensor:
    """The symplectic gradient J grad H for states ordered (q_1..q_n, p_1..p_n).

    Args:
        grad_h: dH/dx, shape (..., 2n).

    Returns:
        (dH/dp, -dH/dq), shape (..., 2n) -- Hamilton's equations (Greydanus et al. 2019, eq 2).

    Raises:
        ValueError: if the last dimension is odd.
    """
    d = grad_h.shape[-1]
    if d % 2:
        raise ValueError(f"grad_h: a Hamiltonian field needs an even state dimension (q, p), got {d}")
    dq, dp = grad_h[..., : d // 2], grad_h[..., d // 2:]
    return torch.cat([dp, -dq], dim=-1)


class MLPEnsemble:
    """E independent MLPs of one architecture, stacked for ``vmap`` (one member per seed).

    Args:
        dim: state dimension d (input size).
        seeds: one seed per member (E = len(seeds)); member e is initialised from ``seeds[e]`` only.
        width: hidden units per layer (HNN: 200).
        depth: number of hidden layers (HNN: 2).
        activation: a key of `ACTIVATIONS` (HNN: "tanh").
        head: ``"field"`` (f_theta(x) in R^d), ``"hnn"`` (scalar H_theta, field J grad H_theta) or
            ``"hnn_pair"`` (HNN's two outputs, H_theta the second).
        dtype: parameter dtype (float64 by default: equality tests are run at 1e-12).
        device: torch device.
        last_bias: whether the output layer has a bias (HNN's code: no).
        init: ``"seeded"`` (a private generator per member) or ``"reference"`` (HNN's draw sequence after
            ``torch.manual_seed(seed)``, without touching the global generator).

    Attributes:
        params: dict name -> tensor with leading dimension E (leaf tensors requiring grad): pass it to
            `symnb.train.fit` and back to `field`.

    Raises:
        ValueError: for an unknown activation, head or init, an empty seed list, or non-positive sizes.
    """

    def __init__(self, dim: int, seeds: Sequence[int] = (0,), *, width: int = 200, depth: int = 2,
                 activation: str = "tanh", head: str = "field", dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu", last_bias: bool = True, init: str = "seeded") -> None:
        for name, value in (("dim", dim), ("width", width), ("depth", depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}")
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; valid: {list(HEADS)}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {list(INITS)}")
        if not isinstance(last_bias, bool):
            raise ValueError(f"last_bias must be True or False, got {last_bias!r}")
        seeds = tuple(int(s) for s in seeds)
        if not seeds:
            raise ValueError("seeds must name at least one member, got an empty sequence")
        if head != "field" and dim % 2:
            raise ValueError(f"head={head!r} needs an even dim (q, p), got dim={dim}")
        self.dim, self.seeds, self.width, self.depth = dim, seeds, width, depth
        self.activation, self.head, self.dtype, self.device = activation, head, dtype, torch.device(device)
        self.last_bias, self.init = last_bias, init
        members = [_mlp(dim, self._out, width, depth, activation, s, dtype, self.device, last_bias, init)
                   for s in seeds]
        params, _ = stack_module_state(members)
        self.params: dict[str, torch.Tensor] = {k: v.detach().clone().requires_grad_(True)
                                                for k, v in params.items()}
        # The architecture ("meta" tensors: no storage) that functional_call runs with each member's weights.
        self._base = copy.deepcopy(members[0]).to("meta")

    @property
    def _out(self) -> int:
        return {"field": self.dim, "hnn": 1, "hnn_pair": 2}[self.head]

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def _shape_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"x: last dimension must be the state dimension {self.dim}, got shape "
                             f"{tuple(x.shape)}")
        if x.dim() == 2:  # shared points: every member sees the same x
            return x.unsqueeze(0).expand(self.n_members, *x.shape)
        if x.dim() == 3 and x.shape[0] == self.n_members:
            return x
        raise ValueError(f"x must have shape (N, {self.dim}) or ({self.n_members}, N, {self.dim}), got "
                         f"{tuple(x.shape)}")

    def net(self, x: torch.Tensor, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """The raw MLP outputs of every member, shape (E, N, out) (out = d; 1 for "hnn"; 2 for "hnn_pair").

        Args:
            x: points, shape (N, d) (shared by all members) or (E, N, d) (one set per member).
            params: stacked parameters (default: ``self.params``).
        """
        x = self._shape_input(x)
        params = self.params if params is None else params
        return vmap(lambda p, xe: functional_call(self._base, p, (xe,)))(params, x)

    def field(self, x: torch.Tensor, params: dict[str, torch.Tensor] | None = None,
              create_graph: bool = True) -> torch.Tensor:
        """The vector field f_theta of every member at ``x``, shape (E, N, d).

        Args:
            x: points, shape (N, d) or (E, N, d).
            params: stacked parameters (default: ``self.params``).
            create_graph: HNN head only: keep the graph of grad H (needed to train through the field).
        """
        if self.head == "field":
            return self.net(x, params)
        x = self._shape_input(x)
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            h = self.net(x, params)[..., -1]   # "hnn_pair": H is the second output (HNN's solenoidal field)
            # Members and points are independent, so the gradient of the sum is each point's own dH/dx.
            (grad_h,) = torch.autograd.grad(h.sum(), x, create_graph=create_graph)
        return hnn_field(grad_h)

    def hamiltonian(self, x: torch.Tensor, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """H_theta of every member at ``x``, shape (E, N) (HNN heads only).

        Raises:
            ValueError: for the ``"field"`` head.
        """
        if self.head == "field":
            raise ValueError(f"hamiltonian() needs head='hnn' or 'hnn_pair', this ensemble has head={self.head!r}")
        return self.net(x, params)[..., -1]

    def member(self, e: int, params: dict[str, torch.Tensor] | None = None) -> nn.Sequential:
        """A standalone ``nn.Sequential`` holding member ``e``'s current weights (a copy).

        Raises:
            ValueError: if ``e`` is not in range(E).
        """
        if isinstance(e, bool) or not isinstance(e, int) or not 0 <= e < self.n_members:
            raise ValueError(f"e must be a member index in range({self.n_members}), got {e!r}")
        params = self.params if params is None else params
        net = _mlp(self.dim, self._out, self.width, self.depth, self.activation, 0, self.dtype, self.device,
                   self.last_bias)
        net.load_state_dict({k: v[e].detach().clone() for k, v in params.items()})
        return net


def rk4_rollout(field: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, n_steps: int, dt: float, *,
                project: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Classical fixed-step RK4 for an autonomous field, optionally projecting after each step.

    Args:
        field: x (..., d) -> dx/dt (..., d); autonomous.
        x0: initial states, shape (..., d).
        n_steps: number of steps (>= 0).
        dt: step size (finite, non-zero).
        project: ``(x_new, x0) -> x_projected`` applied after every step (e.g. back onto the level set
            I(x) = I(x0)); None for a plain rollout.

    Returns:
        States at t = 0, dt, ..., n_steps dt, shape (n_steps + 1, ..., d).

    Raises:
        ValueError: for a negative step count or a zero/non-finite step.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    if not (isinstance(dt, (int, float)) and dt == dt and abs(dt) not in (0.0, float("inf"))):
        raise ValueError(f"dt must be a finite non-zero number, got {dt!r}")
    states = [x0]
    x = x0
    for _ in range(n_steps):
        k1 = field(x)
        k2 = field(x + 0.5 * dt * k1)
        k3 = field(x + 0.5 * dt * k2)
        k4 = field(x + dt * k3)
        x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        if project is not None:
            x = project(x, x0)
        states.append(x)
    return torch.stack(states)
