"""Offline verification: of an export bundle, and of a whole database.

Both rebuild every leaf from the event and its salts (SPEC §3) and check the
signed checkpoints with the published verifier key, and both name each event
that is wrong by its ``seq`` — and nothing else. ``docs/verification.md``
describes every check and what it cannot prove.
"""

from sealtrail.verify.bundles import NoteCheck, verify_bundle
from sealtrail.verify.database import read_vkey, verify_store
from sealtrail.verify.report import Problem, Report, Statement
from sealtrail.verify.witnesses import Policy, check_witnesses

__all__ = [
    "NoteCheck",
    "Policy",
    "Problem",
    "Report",
    "Statement",
    "check_witnesses",
    "read_vkey",
    "verify_bundle",
    "verify_store",
]
