"""Multilinear extensions over {0,1}^n, eq tables, univariate round polynomials.

Imports: field."""

from zkaudit.poly.mle import eq_eval, eq_table, evaluate, fold, hypercube_sum, num_vars_of  # noqa: E402

__all__ = ["eq_eval", "eq_table", "evaluate", "fold", "hypercube_sum", "num_vars_of"]
