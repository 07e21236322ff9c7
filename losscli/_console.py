"""The console script's entry point: a signal while the command line is still importing ends the run cleanly.

``import losscli.cli`` (Typer, Rich) takes a tenth of a second or more, before
``losscli.process`` sets its handlers; a Ctrl-C in that window would otherwise
end in Python's ``KeyboardInterrupt`` traceback. Nothing has been read or
written yet, so there is nothing to clean up: say so in one line and leave
with 128 + the signal's number, as a later signal does.
"""

import os
import signal


def _stop(signum: int, frame: object) -> None:
    os.write(2, f"Error: interrupted by {signal.Signals(signum).name}\n".encode())
    os._exit(128 + signum)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup's choice stands
            signal.signal(signum, _stop)
    from losscli.cli import main as run

    run()
