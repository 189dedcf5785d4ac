"""Generic neural vector fields and baselines (chapter 7): stacked MLP ensembles, Hamiltonian networks, the
benchmark tasks they are trained on.  Imports only `symnb.core` (and `symnb.fit`, the one training loop)."""
