"""A small base for the clinical command-line tools: JSON in, JSON (or text) out.

The commands built on it (screen, aftercare, preparation, score) wrap the
pure clinical core and share one contract:

* input is a JSON file, or standard input when the path is ``-``;
* every mistake the user can make (bad JSON, a missing file, a field the core
  rejects, a usage error) is ONE line on standard error and exit status 2,
  never a traceback;
* they never open a database connection: no system checks, no migration check.

A command with subcommands must create them with :func:`add_subcommands`, so
that the subcommands' usage errors are one line as well.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accretion.clinical.errors import FieldError

__all__ = [
    "BAD_INPUT",
    "ClinicalCommand",
    "OneLineParser",
    "OneLineUsage",
    "add_subcommands",
    "bad_input",
    "invalid",
    "one_line",
    "operator_name",
    "wrap",
]

BAD_INPUT = 2  # exit status for input the user can correct (as argparse uses)
INTERRUPTED = 130  # exit status after Ctrl-C (128 + SIGINT)
TEXT_WIDTH = 79


def one_line(text: object) -> str:
    """``text`` with every run of whitespace, newlines included, as one space."""
    return " ".join(str(text).split())


def operator_name() -> str:
    """Who ran a command, for the audit log: the system account, as far as it is known."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


def invalid(message: str) -> CommandError:
    """The error for bad input: ``CommandError: <message>`` on one line, exit 2."""
    return CommandError(one_line(message), returncode=BAD_INPUT)


@contextmanager
def bad_input(rename: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a ``FieldError`` from the clinical core into the one-line exit 2.

    ``rename`` maps a core field name to what the user typed, e.g.
    ``{"nsaid_days": "--nsaid-days"}``, so the message names the option.
    """
    try:
        yield
    except FieldError as error:
        field = (rename or {}).get(error.field, error.field)
        raise invalid(f"{field}: {error.message}") from None


class OneLineParser(CommandParser):
    """A ``CommandParser`` whose usage errors are one line: ``accretion score: error: ...``, exit 2.

    Called programmatically (``call_command``), it raises ``CommandError`` like
    Django's parser.
    """

    def error(self, message: str) -> None:
        if not self.called_from_command_line:
            super().error(message)
        self.exit(BAD_INPUT, f"{self.prog}: error: {one_line(message)}\n")


def add_subcommands(parser: CommandParser, **kwargs: Any):
    """``parser.add_subparsers(...)`` whose subparsers are :class:`OneLineParser` too."""
    kwargs.setdefault("parser_class", OneLineParser)
    return parser.add_subparsers(**kwargs)


def wrap(text: str, indent: str = "", first: str | None = None) -> str:
    """``text`` filled to the text width, every line indented; words, codes and dates never split."""
    return textwrap.fill(
        one_line(text),
        width=TEXT_WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


class OneLineUsage:
    """Mixin for any management command: usage errors are one line, exit 2."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django always builds a plain CommandParser; OneLineParser only
        # overrides error(), so the parser can take that class as it is.
        parser.__class__ = OneLineParser
        return parser


class ClinicalCommand(OneLineUsage, BaseCommand):
    """Base for the database-free clinical commands."""

    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def execute(self, *args, **options):
        try:
            output = super().execute(*args, **options)
            self.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`accretion aftercare ... | head`): stop
            # quietly, and keep Python from complaining when it flushes at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except KeyboardInterrupt:
            self.stderr.write("interrupted")
            sys.exit(INTERRUPTED)
        return output

    # -- input ---------------------------------------------------------------

    def read_json(self, path: str) -> Any:
        """The JSON document in the file at ``path``, or on standard input for ``-``.

        A file that cannot be read or does not hold JSON is the one-line exit 2,
        naming the file (``stdin`` for ``-``).
        """
        label = "stdin" if path == "-" else path
        try:
            if path == "-":
                stream = getattr(sys.stdin, "buffer", None)
                if stream is None:
                    raise invalid("stdin: standard input is not available")
                raw = stream.read()
            else:
                with open(path, "rb") as handle:
                    raw = handle.read()
        except OSError as error:
            raise invalid(f"{label}: cannot read the file: {error.strerror or error}") from None
        if not raw.strip():
            raise invalid(f"{label}: malformed JSON: the input is empty")
        try:
            # From bytes, json detects UTF-8 (with or without a BOM), UTF-16 and UTF-32.
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise invalid(
                f"{label}: malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
        except UnicodeDecodeError:
            raise invalid(f"{label}: malformed JSON: the input is not UTF-8 text") from None
        except RecursionError:
            raise invalid(f"{label}: malformed JSON: nested too deeply") from None
        except ValueError as error:  # e.g. an integer with thousands of digits
            raise invalid(f"{label}: malformed JSON: {error}") from None

    # -- output --------------------------------------------------------------

    def write_json(self, data: Any) -> None:
        """``data`` as indented JSON, keys in the order given, non-ASCII text as is."""
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

    def write_lines(self, lines: list[str]) -> None:
        self.stdout.write("\n".join(lines))
