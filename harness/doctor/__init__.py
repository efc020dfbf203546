"""``salmu-harness doctor``: what will go wrong on this machine before a real run, in seconds.

Each check is a small function returning ``Check`` rows (ok, warning or problem, with the fix
in one line); ``run_doctor`` runs them all. Nothing here downloads anything: hub access is
checked on file metadata only.
"""

from harness.doctor.record import Check, DoctorReport, Status
from harness.doctor.run import run_doctor

__all__ = ["Check", "DoctorReport", "Status", "run_doctor"]
