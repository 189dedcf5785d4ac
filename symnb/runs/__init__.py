"""Runs: sweep specs and ids (`spec`), the run-folder protocol (`folders`), executors (`executors`),
running a sweep (`sweep`), tabulating it (`report`).  Imports core, toy and train; never chapters.

Nothing is imported here, so that ``symnb.runs.report`` (read by chapter 5) does not pull in torch."""
