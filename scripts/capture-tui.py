#!/usr/bin/python3
"""Capture the real TUI as text for the README.

Runs `wscope demo` (or any wscope command given) in a pseudo-terminal,
answers the terminal queries Bubble Tea makes at start-up, feeds what it
draws into a VT100 emulator (python3-pyte, Debian package), optionally
types keys, and prints the screen as plain text.

    go build -o /tmp/wscope . && \
      /usr/bin/python3 scripts/capture-tui.py --wait 7 --keys '' /tmp/wscope demo
"""
import argparse, os, pty, select, signal, struct, fcntl, termios, time
import pyte

ap = argparse.ArgumentParser()
ap.add_argument("--cols", type=int, default=100)
ap.add_argument("--rows", type=int, default=30)
ap.add_argument("--wait", type=float, default=6.0, help="seconds before the keys are typed")
ap.add_argument("--keys", default="", help="keys typed after --wait (\\t, \\r escapes allowed)")
ap.add_argument("--settle", type=float, default=1.0, help="seconds after the keys before the capture")
ap.add_argument("cmd", nargs="+")
a = ap.parse_args()

screen = pyte.Screen(a.cols, a.rows)
stream = pyte.ByteStream(screen)
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.environ.setdefault("XDG_STATE_HOME", "/tmp/wscope-capture-state")
    os.execv(a.cmd[0], a.cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
os.kill(pid, signal.SIGWINCH)


def pump(seconds):
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        # Answer the start-up queries as a dark terminal would.
        if b"\x1b]11;?" in data:
            os.write(fd, b"\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\")
        if b"\x1b[6n" in data:
            os.write(fd, b"\x1b[1;1R")
        stream.feed(data)


pump(a.wait)
for k in a.keys.encode().decode("unicode_escape"):
    os.write(fd, k.encode())
    pump(0.15)
pump(a.settle)
print("\n".join(line.rstrip() for line in screen.display).rstrip())
os.write(fd, b"\x1b")
pump(0.2)
os.write(fd, b"q")
pump(1.0)
try:
    os.kill(pid, signal.SIGTERM)
except ProcessLookupError:
    pass
