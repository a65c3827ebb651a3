"""`make up`: start the local stack and make sure the warehouse objects exist."""

from __future__ import annotations

import sys

from local import stack


def main() -> int:
    try:
        stack.up()
        from local import session
        from local.airflow_api import AirflowAPI

        session.use_stack_env()
        print("Applying the warehouse setup (idempotent)")
        session.run_setup(AirflowAPI())
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        stack.down()
        return 1
    print(stack.login_hint())
    print("Stop everything with: make down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
