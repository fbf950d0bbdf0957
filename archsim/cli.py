"""The ``archsim`` command. Thin: subcommands live in :mod:`archsim.commands` (one module each);
every :class:`~archsim.errors.InputError` becomes one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys

from archsim import __version__
from archsim.errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + error)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser(argv: list[str] | None = None) -> tuple[argparse.ArgumentParser, dict]:
    """The parser with every subcommand. When ``argv`` names one, only that one's options are built
    (the others are listed by name and help): some commands' options come from every architecture
    plugin, and importing all of them is most of the start-up time of a short run."""
    from archsim.commands import discover

    p = _Parser(prog="archsim", description="Cycle-level simulator of DNN and LLM accelerators.")
    p.add_argument("--version", action="version", version=f"archsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    mods = discover()
    named = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    if named not in {m.NAME for m in mods}:
        named = None
    commands = {}
    for mod in mods:
        sp = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        if named is None or mod.NAME == named:
            mod.add_arguments(sp)
        commands[mod.NAME] = mod
    return p, commands


def main(argv: list[str] | None = None) -> int:
    try:
        parser, commands = build_parser(argv)
        args = parser.parse_args(argv)
        return int(commands[args.command].run(args) or 0)
    except InputError as e:
        cmd = getattr(locals().get("args"), "command", None)
        sys.stderr.write(f"archsim{' ' + cmd if cmd else ''}: error: {e}\n")
        return 2
    except OSError as e:  # an unreadable input or unwritable output: the path and the reason, one line
        cmd = getattr(locals().get("args"), "command", None)
        where = e.filename if e.filename is not None else "file system"
        sys.stderr.write(f"archsim{' ' + cmd if cmd else ''}: error: {where}: {e.strerror or e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("archsim: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
