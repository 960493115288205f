"""The `voiceguide` command. Parses arguments, builds objects, calls them; nothing more.

Heavy modules (numpy, yaml, engines) are imported inside the handlers so `--help` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

INPUT_HELP = "mic, keyboard, wav:PATH (virtual clock) or script:PATH (lines `SECONDS WORDS`)"
VOICE_HELP = "pyttsx3, print, or wav:PATH (everything said, on one WAV timeline)"


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voiceguide", description="Offline, hands-free voice guide for home exercise routines.")
    parser.add_argument("--config", help="config.yaml to use (default: ./config.yaml, then ~/.config/voiceguide/config.yaml)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="guide a routine by voice")
    run.add_argument("routine", nargs="?", default="si-joint", help="routine name or YAML file (default: si-joint)")
    run.add_argument("--input", default="auto", help=INPUT_HELP + "; default: mic if present, else keyboard")
    run.add_argument("--voice", default="auto", help=VOICE_HELP + "; default: pyttsx3 if audio output exists, else print")
    run.add_argument("--log-dir", type=Path, help="folder for session logs (default: from config.yaml)")
    run.add_argument("--engine", choices=("auto", "vosk", "pocketsphinx"), help="speech recogniser (default: config.yaml)")
    run.add_argument("--echo-gain", type=float, metavar="DB",
                     help="with --input wav: mix the guide's own speech into the recording at this gain")
    run.add_argument("--echo-delay", type=float, default=30.0, metavar="MS",
                     help="delay of that echo in milliseconds (default 30)")

    listen = sub.add_parser("listen", help="print the commands heard in a WAV file")
    listen.add_argument("path", type=Path, help="WAV file (any rate, width, channels)")
    listen.add_argument("--engine", choices=("auto", "vosk", "pocketsphinx"), help="default: config.yaml")
    listen.add_argument("--language", help="en or ko (default: config.yaml)")
    listen.add_argument("--json", action="store_true", help="one JSON object per command heard")

    routines = sub.add_parser("routines", help="list, show or check routines")
    rsub = routines.add_subparsers(dest="action", metavar="ACTION", required=True)
    rsub.add_parser("list", help="built-in and your own routines")
    show = rsub.add_parser("show", help="print a routine as it will be spoken")
    show.add_argument("name")
    check = rsub.add_parser("check", help="validate a routine file")
    check.add_argument("path", type=Path)

    log = sub.add_parser("log", help="review session logs")
    log_dir_help = "folder of session logs (default: from config.yaml)"
    log.add_argument("--log-dir", type=Path, help=log_dir_help)
    # Also after the action (`log last --log-dir DIR`), as with `run`; SUPPRESS keeps a value
    # given before the action when none is given after it.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--log-dir", type=Path, default=argparse.SUPPRESS, help=log_dir_help)
    lsub = log.add_subparsers(dest="action", metavar="ACTION", required=True)
    lsub.add_parser("list", help="one line per session", parents=[after])
    for name, helptext in (("show", "one session"), ("last", "the latest session")):
        p = lsub.add_parser(name, help=helptext, parents=[after])
        if name == "show":
            p.add_argument("id", help="session id (or a unique prefix), or `last`")
        p.add_argument("--json", action="store_true", help="machine-readable output")
    summary = lsub.add_parser("summary", help="adherence, streak, per-move pain and warning signs", parents=[after])
    summary.add_argument("--weeks", type=int, default=4, help="weeks to look back (default 4)")
    summary.add_argument("--routine", help="only sessions of this routine")
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    summary.add_argument("--say", action="store_true", help="also speak a short review")
    export = lsub.add_parser("export", help="every session, for spreadsheets or other tools", parents=[after])
    fmt = export.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="one row per exercise per session (default)")
    fmt.add_argument("--json", action="store_true", help="one JSON object per session per line")
    model = sub.add_parser("model", help="speech models: what is installed, and fetching Vosk's English model")
    msub = model.add_subparsers(dest="action", metavar="ACTION", required=True)
    msub.add_parser("status", help="which engine each language would use")
    fetch = msub.add_parser("fetch", help="download the small English Vosk model (about 40 MB) once")
    fetch.add_argument("--url", help="download from this mirror instead of the publisher")
    fetch.add_argument("--sha256", help="the mirror's archive checksum (needed with --url)")

    sub.add_parser("devices", help="list audio inputs and outputs")
    sub.add_parser("doctor", help="check audio devices, speech output, engines and models")

    rep = sub.add_parser("report", help="a self-contained HTML report for you or your therapist")
    rep.add_argument("--out", type=Path, required=True, help="HTML file to write")
    rep.add_argument("--weeks", type=int, default=8, help="weeks to cover (default 8)")
    rep.add_argument("--routine", help="only sessions of this routine")
    rep.add_argument("--csv", type=Path, metavar="DIR", help="also write per-exercise results as CSV here")
    rep.add_argument("--log-dir", type=Path, help="folder of session logs (default: from config.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        from voiceguide import __version__

        print(f"voiceguide {__version__}")
        return 0
    if not args.command:
        build_parser().print_help()
        return 0
    try:
        return _dispatch(args)
    except (UserError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and not type(exc).__module__.startswith("voiceguide"):
            raise
        print(f"voiceguide: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # FileError and friends carry file, line and fix
        if type(exc).__module__.startswith("voiceguide"):
            print(f"voiceguide: {exc}", file=sys.stderr)
            return 2
        raise
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a full disk, a vanished folder: say which, no traceback
        print(f"voiceguide: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from voiceguide import app

    handler = getattr(app, f"cmd_{args.command}")
    return int(handler(args) or 0)
