"""``[core] hostname_callable`` of the local stack's Celery workers: the worker's name.

The local stack runs several Celery workers on one machine, as stand-ins for several machines;
they share its host name, so the task instance's ``hostname`` (shown in the UI, written to the
audit run-log) would not say which one ran a try. Production keeps Airflow's default (the
machine's FQDN): each worker is its own host there.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("RCT_WORKER_NAME") or socket.getfqdn()
