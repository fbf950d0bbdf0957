"""The ``archsim`` command. Thin: it parses arguments, calls :mod:`archsim.api` and the
exporters, and turns every :class:`~archsim.errors.InputError` into one line on stderr and exit
code 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsim import __version__
from archsim.errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + error)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="archsim", description="Cycle-level simulator of DNN and LLM accelerators.")
    p.add_argument("--version", action="version", version=f"archsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="simulate a workload on an architecture")
    r.add_argument("--arch", required=True, help="preset name, spec .yaml or SCALE-Sim .cfg")
    r.add_argument("--workload", required=True, help="model name (see 'archsim models'), graph/config .json or "
                   "SCALE-Sim topology .csv")
    r.add_argument("--dataflow", choices=("os", "ws", "is"), help="override the spec's dataflow")
    r.add_argument("--convention", choices=("physical", "scalesim"), help="cycle convention (default physical)")
    r.add_argument("--level", choices=("analytic", "event", "cycle"), default="event", help="fidelity level")
    r.add_argument("--batch", type=_positive_int, help="batch size")
    r.add_argument("--seq-len", type=_positive_int, help="LLM sequence / context length")
    r.add_argument("--phase", choices=("prefill", "decode"), help="LLM phase")
    r.add_argument("--dtype", help="override the workload dtype (int8, fp16, bf16, fp32)")
    r.add_argument("--seed", type=int, default=0, help="seed for any random choice (default 0)")
    r.add_argument("--out", type=Path, help="directory for report.json, ops.csv, events.csv, timeline, plots")
    r.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    r.add_argument("--parquet", action="store_true", help="also write events.parquet (needs archsim[parquet])")

    sub.add_parser("presets", help="list architecture presets")
    sub.add_parser("models", help="list the models in the model zoo")
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    from archsim.api import run

    result = run(args.arch, args.workload, dataflow=args.dataflow, convention=args.convention, level=args.level,
                 seed=args.seed, batch=args.batch, seq_len=args.seq_len, phase=args.phase, dtype=args.dtype)
    written = {}
    if args.out is not None:
        from archsim.report import write_run

        written = write_run(result, args.out, parquet=args.parquet)
        if result.options.get("convention") == "scalesim":
            from archsim.report.scalesim_csv import write_scalesim_reports

            written.update(write_scalesim_reports(result, args.out))
    if args.format == "json":
        from archsim.report.json_report import render_report_json

        sys.stdout.write(render_report_json(result))
        return 0
    from archsim.report.summary import summary_text

    sys.stdout.write(summary_text(result))
    if written:
        sys.stdout.write(f"\nwrote {len(written)} files to {args.out}/:\n")
        for _, path in sorted(written.items()):
            sys.stdout.write(f"  {path}\n")
    return 0


def _cmd_presets(_: argparse.Namespace) -> int:
    from archsim.arch import list_presets

    print("\n".join(list_presets()))
    return 0


def _cmd_models(_: argparse.Namespace) -> int:
    from archsim.workload import list_models

    print("\n".join(list_models()))
    return 0


COMMANDS = {"run": _cmd_run, "presets": _cmd_presets, "models": _cmd_models}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as e:
        sys.stderr.write(f"archsim {args.command}: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("archsim: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
