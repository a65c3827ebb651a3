"""``local/airflow ...``: Airflow's own CLI with the local stack's environment (``local.stack.stack_env``)."""

from __future__ import annotations

import os
import sys

from local.stack import VENV_BIN, stack_env


def main(argv: list[str]) -> None:
    env = {**os.environ, **stack_env()}
    os.execve(str(VENV_BIN / "airflow"), ["airflow", *argv], env)  # noqa: S606 - Airflow's own CLI, argv as given


if __name__ == "__main__":
    main(sys.argv[1:])
