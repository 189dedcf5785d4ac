"""Parameter schemas: check every value of a notebook's ``parameters`` cell before any work is done.

A `ParameterSchema` is a tuple of `Param` s (type, range, allowed values, length, keys, existence of a path) plus
cross-parameter `Rule` s.  `ParameterSchema.validate` returns the normalized values (ints widened to float where a
real is wanted, sequences as tuples, relative input paths resolved against a base folder) or raises ONE
`ParameterError` naming the parameter, the value and what is allowed.

The same schema object is used in two places, so that a value is refused the same way wherever it comes from:
the notebook's validation cell (right after its ``parameters`` cell) and `symnb sweep`, which validates every
configuration of a spec before anything runs (`symnb.runs.spec`).  Chapters define their schema next to their
code (``symnb.chapters.chN_*.PARAMETERS``); this module is general and imports nothing from the upper layers.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Param", "Rule", "ParameterSchema", "ParameterError"]

_KINDS = ("real", "int", "bool", "str", "choice", "list", "dict", "path", "device")


class ParameterError(ValueError):
    """A parameter value that is not allowed.

    Attributes:
        name: the parameter (``constants.k9`` for a key of a mapping, ``z0s[1]`` for an item).
        value: the value given.
        allowed: what is allowed, in words.
    """

    def __init__(self, name: str, value: object, allowed: str, problem: str = ""):
        self.name, self.value, self.allowed = name, value, allowed
        why = f" ({problem})" if problem else ""
        super().__init__(f"parameter {name} = {value!r} is not allowed{why}; allowed: {allowed}")


@dataclass(frozen=True)
class Param:
    """One parameter: its kind and constraints.  Build it with the class methods (`Param.real`, ...).

    Attributes:
        name: the variable name in the ``parameters`` cell.
        kind: one of ``real, int, bool, str, choice, list, dict, path, device``.
        help: what it is (shown in messages).
        low, high: inclusive bounds (reals, ints); ``strict`` makes ``low`` exclusive; ``nonzero`` refuses 0.
        choices: the allowed values (``choice``).
        item: the schema of each item (``list``) or each value (``dict``).
        length: exact length (``list``); ``min_length``: smallest length.
        keys: the allowed keys (``dict``).
        base: folder a relative ``path`` is resolved against (None: the working directory).
        exists: ``"file"`` (an existing file), ``"parent"`` (its folder exists; ``""`` allowed = no file).
    """

    name: str
    kind: str
    help: str = ""
    low: float | None = None
    high: float | None = None
    strict: bool = False
    nonzero: bool = False
    choices: tuple = ()
    item: "Param | None" = None
    length: int | None = None
    min_length: int = 0
    keys: tuple[str, ...] = ()
    base: str | None = None
    exists: str = "file"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Param kind {self.kind!r} is unknown; allowed: {list(_KINDS)}")

    # ----------------------------------------------------------------------------------------- builders
    @classmethod
    def real(cls, name: str, help: str = "", *, low: float | None = None, high: float | None = None,
             strict: bool = False, nonzero: bool = False) -> "Param":
        """A finite real number (an int is accepted and widened to float; bool is refused)."""
        return cls(name, "real", help, low, high, strict, nonzero)

    @classmethod
    def integer(cls, name: str, help: str = "", *, low: int | None = None, high: int | None = None) -> "Param":
        """An int (bool and float refused)."""
        return cls(name, "int", help, low, high)

    @classmethod
    def flag(cls, name: str, help: str = "") -> "Param":
        """True or False exactly (a string such as ``'maybe'`` is refused, not read as truthy)."""
        return cls(name, "bool", help)

    @classmethod
    def choice(cls, name: str, choices: Sequence, help: str = "") -> "Param":
        """One of ``choices``."""
        return cls(name, "choice", help, choices=tuple(choices))

    @classmethod
    def sequence(cls, name: str, item: "Param", help: str = "", *, length: int | None = None,
                 min_length: int = 1) -> "Param":
        """A list or tuple whose items each satisfy ``item`` (returned as a tuple)."""
        return cls(name, "list", help, item=item, length=length, min_length=min_length)

    @classmethod
    def mapping(cls, name: str, keys: Sequence[str], item: "Param", help: str = "") -> "Param":
        """A dict whose keys are among ``keys`` and whose values each satisfy ``item``."""
        return cls(name, "dict", help, item=item, keys=tuple(keys))

    @classmethod
    def path(cls, name: str, help: str = "", *, base: str | os.PathLike | None = None,
             exists: str = "file") -> "Param":
        """A path string: ``exists="file"`` an existing file (relative to ``base`` if given, returned absolute);
        ``exists="parent"`` a file to write: ``""`` (none) or a path whose folder exists (returned as given)."""
        if exists not in ("file", "parent"):
            raise ValueError(f"exists must be 'file' or 'parent', got {exists!r}")
        return cls(name, "path", help, base=None if base is None else str(base), exists=exists)

    @classmethod
    def device(cls, name: str = "device", help: str = "torch device") -> "Param":
        """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; cuda only where torch sees a CUDA device (checked now)."""
        return cls(name, "device", help)

    # ------------------------------------------------------------------------------------------ checking
    def allowed(self) -> str:
        """What this parameter accepts, in words."""
        if self.kind in ("real", "int"):
            what = "a finite real number" if self.kind == "real" else "an integer"
            parts = []
            if self.low is not None:
                parts.append(f"{'>' if self.strict else '>='} {self.low:g}")
            if self.high is not None:
                parts.append(f"<= {self.high:g}")
            if self.nonzero:
                parts.append("!= 0")
            return what + (" " + " and ".join(parts) if parts else "")
        if self.kind == "bool":
            return "True or False"
        if self.kind == "str":
            return "a string"
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        if self.kind == "list":
            n = (f"exactly {self.length}" if self.length is not None else f"at least {self.min_length}")
            return f"a list of {n} items, each {self.item.allowed()}"
        if self.kind == "dict":
            return f"a dict with keys among {list(self.keys)}, each value {self.item.allowed()}"
        if self.kind == "device":
            return "'auto', 'cpu', or 'cuda' / 'cuda:N' where torch sees a CUDA device"
        if self.exists == "file":
            where = f" (a relative path is taken from {self.base})" if self.base else ""
            return f"the path of an existing file{where}"
        return "'' (no file) or a file path whose folder exists (folders are not created)"

    def validate(self, value: object, name: str | None = None) -> object:
        """The normalized ``value``, or `ParameterError` naming ``name`` (default: this parameter's name)."""
        name = self.name if name is None else name
        problem = self._problem(value, name)
        if problem is not None:
            raise ParameterError(name, value, self.allowed() + (f" ({self.help})" if self.help else ""), problem)
        return self._normalize(value, name)

    def _problem(self, value: object, name: str) -> str | None:
        kind = self.kind
        if kind in ("real", "int"):
            number = (int,) if kind == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, number):
                return f"a {type(value).__name__}"
            if kind == "real" and not math.isfinite(value):
                return "not finite"
            if self.low is not None and (value <= self.low if self.strict else value < self.low):
                return "too small"
            if self.high is not None and value > self.high:
                return "too large"
            if self.nonzero and value == 0:
                return "zero"
            return None
        if kind == "bool":
            return None if isinstance(value, bool) else f"a {type(value).__name__}"
        if kind == "str":
            return None if isinstance(value, str) else f"a {type(value).__name__}"
        if kind == "choice":
            ok = any(value == c and type(value) is type(c) for c in self.choices)
            return None if ok else "not one of the choices"
        if kind == "list":
            if not isinstance(value, (list, tuple)):
                return f"a {type(value).__name__}"
            if self.length is not None and len(value) != self.length:
                return f"{len(value)} items"
            if len(value) < self.min_length:
                return f"{len(value)} items"
            return None  # items are checked one by one in _normalize (naming the item)
        if kind == "dict":
            if not isinstance(value, Mapping):
                return f"a {type(value).__name__}"
            bad = [k for k in value if k not in self.keys]
            return f"unknown key {bad[0]!r}" if bad else None
        if kind == "device":
            return _device_problem(value)
        if not isinstance(value, (str, os.PathLike)):
            return f"a {type(value).__name__}"
        if self.exists == "file":
            return None if self._resolve(value).is_file() else f"no file at {str(self._resolve(value))!r}"
        if str(value) == "":
            return None
        parent = self._resolve(value).parent
        return None if parent.is_dir() else f"folder {str(parent)!r} does not exist"

    def _resolve(self, value) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() or self.base is None else Path(self.base) / p

    def _normalize(self, value: object, name: str) -> object:
        if self.kind == "real":
            return float(value)
        if self.kind == "list":
            return tuple(self.item.validate(v, f"{name}[{i}]") for i, v in enumerate(value))
        if self.kind == "dict":
            return {k: self.item.validate(v, f"{name}.{k}") for k, v in value.items()}
        if self.kind == "path" and self.exists == "file":
            return str(self._resolve(value).resolve())
        return value


def _device_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    if value in ("auto", "cpu"):
        return None
    if value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit()):
        import torch  # only here: the rest of the schema does not need torch

        if not torch.cuda.is_available():
            return "torch sees no CUDA device on this machine"
        if ":" in value and int(value[5:]) >= torch.cuda.device_count():
            return f"this machine has {torch.cuda.device_count()} CUDA device(s)"
        return None
    return "unknown device"


@dataclass(frozen=True)
class Rule:
    """A condition on several parameters, reported against ``name`` (e.g. every target has N entries).

    Attributes:
        name: the parameter the message names.
        ok: predicate on the validated values.
        allowed: what is allowed, in words.
    """

    name: str
    ok: Callable[[Mapping[str, object]], bool]
    allowed: str


@dataclass(frozen=True)
class ParameterSchema:
    """All parameters of one notebook (its ``parameters`` cell), and the rules between them.

    Attributes:
        params: one `Param` per assignment of the cell, in cell order.
        rules: cross-parameter `Rule` s, checked after every single value passed.
    """

    params: tuple[Param, ...]
    rules: tuple[Rule, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"ParameterSchema: duplicate parameter names in {names}")

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in cell order."""
        return tuple(p.name for p in self.params)

    def validate(self, values: Mapping[str, object], *, partial: bool = False) -> dict[str, object]:
        """Check ``values`` (every name of the schema; a subset if ``partial``) and return them normalized.

        Args:
            values: parameter name -> value.
            partial: allow missing names (rules are then checked only when all their inputs are present).

        Returns:
            name -> normalized value, in schema order.

        Raises:
            ParameterError: for an unknown name, a missing name, or the first value (in cell order) or rule
                that fails: one message naming the parameter, its value and what is allowed.
        """
        if not isinstance(values, Mapping):
            raise ParameterError("values", values, "a mapping of parameter name -> value")
        for key in values:
            if key not in self.names:
                raise ParameterError(str(key), values[key], f"one of the parameters {list(self.names)}",
                                     "unknown parameter")
        out = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = p.validate(values[p.name])
            elif not partial:
                raise ParameterError(p.name, None, p.allowed(), "missing")
        for rule in self.rules:
            try:
                ok = rule.ok(out)
            except KeyError:  # partial: an input of the rule is absent
                continue
            if not ok:
                raise ParameterError(rule.name, out.get(rule.name), rule.allowed)
        return out

    def validate_namespace(self, namespace: Mapping[str, object]) -> dict[str, object]:
        """`validate` the schema's names picked from ``namespace`` (a notebook's ``globals()``).

        Raises:
            ParameterError: as `validate` (a name missing from the namespace is reported as missing).
        """
        return self.validate({n: namespace[n] for n in self.names if n in namespace})
