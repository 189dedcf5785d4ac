"""One module per chapter of the book; each has the same interface, ``verdicts() -> tuple[Verdict, ...]``: the
chapter's rows of the audit page (book/audit/chN.md), each decided by a computation.

`CHAPTERS` maps a chapter's key to its module (imported on demand: chapters are heavy); `chapter_verdicts`
returns a chapter's rows.
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["CHAPTERS", "chapter", "chapter_verdicts"]

#: chapter key (the audit page's file name without .md) -> module
CHAPTERS: dict[str, str] = {
    "ch1": "symnb.chapters.ch1_forward",
    "ch2": "symnb.chapters.ch2_noether",
    "ch3": "symnb.chapters.ch3_adjoint",
    "ch4": "symnb.chapters.ch4_loss",
    "ch5": "symnb.chapters.ch5_ablation",
    "ch6": "symnb.chapters.ch6_pipeline",
    "ch7": "symnb.chapters.ch7_beyond",
    "ch8": "symnb.chapters.ch8_learned",
    "ch9": "symnb.chapters.ch9_param_symmetries",
}


def chapter(key: str) -> ModuleType:
    """The module of chapter ``key``.

    Raises:
        ValueError: for an unknown key (the message lists the valid ones).
    """
    if key not in CHAPTERS:
        raise ValueError(f"unknown chapter {key!r}; valid: {sorted(CHAPTERS)}")
    return importlib.import_module(CHAPTERS[key])


def chapter_verdicts(key: str) -> tuple:
    """``chapter(key).verdicts()``: the chapter's audit rows."""
    return tuple(chapter(key).verdicts())
