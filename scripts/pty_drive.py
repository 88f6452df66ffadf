"""Drives a program through a pseudo-terminal, as a person at a keyboard would.

Usage: pty_drive.py STEPS_JSON -- PROGRAM ARGS...
STEPS_JSON is a list of {"expect": "text"} (wait up to 15 s for the text to
appear on the screen, ANSI escapes removed) and {"send": "keys"} items.
Prints the whole screen transcript at the end; exits 1 if an expectation
timed out, else with the program's exit code.
"""
import json
import os
import pty
import re
import select
import sys
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")


def main():
    steps = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = ""
    raw = b""

    def pump(timeout):
        nonlocal seen, raw
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return False
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return None
        if not chunk:
            return None
        raw += chunk
        seen = ANSI.sub("", raw.decode("utf-8", "replace"))
        return True

    for step in steps:
        if "send" in step:
            time.sleep(0.2)
            os.write(fd, step["send"].encode())
            continue
        deadline = time.time() + 15
        while step["expect"] not in seen[-20000:]:
            if time.time() > deadline or pump(0.2) is None:
                sys.stdout.write(seen)
                print(f"\n[pty_drive] timed out waiting for {step['expect']!r}")
                os.kill(pid, 9)
                sys.exit(1)
    while pump(1.0) is not None:
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
