"""Errors of the training layer.

`PolicyError` and `TrainingError` are user mistakes (exit code 2): a policy
that does not parse, a dataset that does not fit it, a run directory in the
wrong state. `RunRejected` and its subclasses are checks that failed (exit
code 1): the checker found a tape that does not open its commitment, a coin
that is not the auditor's signature over this run, or a step of the trace
that breaks the relation (`TraceRejected`, naming the step, slot and
constraint). `BatchOverflow` is the one honest failure: a Poisson batch
larger than the policy's capacity; the run must be aborted, never retried
with another tape (its probability is part of delta)."""

from zkaudit.errors import ProofRejected, ZkauditError


class PolicyError(ZkauditError):
    """A training policy that is not valid: every problem in one message."""


class TrainingError(ZkauditError):
    """A run that cannot proceed: missing files, a dataset that does not fit the policy."""


class BatchOverflow(TrainingError):
    """Step t drew more than B_max records: the run aborts (counted in delta)."""


class RunRejected(ProofRejected):
    """A training run failed a check."""


class TapeRejected(RunRejected):
    """The tape does not open the commitment in the run record."""


class CoinRejected(RunRejected):
    """The coin is not the auditor's unique signature over this run's record."""


class MaskRejected(RunRejected):
    """The words used are not tape + mask(coin) mod 2^63."""


class TraceRejected(RunRejected):
    """A step of the training trace breaks the relation R_dpsgd."""
