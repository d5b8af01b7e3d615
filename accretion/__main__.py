"""`accretion`: the project's manage.py, installed as a console script."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accretion.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except BrokenPipeError:
        # The reader went away (`accretion demo | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (DatabaseError, ImproperlyConfigured) as error:
        # A one-line message, never a traceback, for the errors an operator can fix.
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"accretion: {type(error).__name__}: {first_line}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
