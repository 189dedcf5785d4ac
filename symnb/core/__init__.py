"""General, model-agnostic machinery: ODE systems and jets, Lie symmetries, first integrals, Noether, the adjoint,
and the one SymPy->torch bridge.  Imports nothing from `symnb.toy`, `symnb.train`, `symnb.runs` or
`symnb.chapters`."""
