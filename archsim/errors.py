"""One error type for bad user input: it names the file, the field and what was expected.

The CLI prints ``str(err)`` on one line and exits with code 2 (see ``archsim.cli``).
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input (config, graph, trace, CLI argument).

    ``source`` is the file (or ``"--flag"`` for a CLI argument), ``field`` the dotted field path,
    ``expected`` says what a good value looks like and ``got`` what was found.
    """

    def __init__(self, source: str | Path | None, field: str | None, expected: str, got: object = None):
        self.source = str(source) if source is not None else None
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self._line())

    def _line(self) -> str:
        where = self.source or "<input>"
        if self.field:
            where += f": {self.field}"
        msg = f"{where}: expected {self.expected}"
        if self.got is not None:
            got = repr(self.got)
            if len(got) > 80:
                got = got[:77] + "..."
            msg += f", got {got}"
        return msg.replace("\n", " ")


def read_input_text(path: str | Path) -> str:
    """The text of an input file; a missing or unreadable file is one InputError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(p, None, "an existing file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(p, None, "a readable UTF-8 text file", str(e)) from None
