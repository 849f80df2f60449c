"""python -m brook, and kafka-server-start: the broker."""

import sys

# kio imports hypothesis whenever it is installed (for its own test strategies). A broker never uses it, and a
# production install has none; in the test venv this keeps the broker's memory (some 9 MB) what it is there.
sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]  # None: not importable

from brook.broker.main import main  # noqa: E402 - after the line above, which must come first


def run() -> int:
    return main()


if __name__ == "__main__":
    sys.exit(run())
