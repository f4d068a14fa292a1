#!/usr/bin/env python3
"""Runs a command on a real pty, the way a person at a terminal would, and
reports what happened as JSON on stdout: the terminal settings before, during
and after (as `stty -g` would print them), the output, and the exit status.

usage: pty_drive.py EVENTS_FILE shell|drop -- COMMAND...
  shell: wait for a prompt, type a line, resize the terminal (and wait until the
         peer saw the new size), ask the remote side for its size, then Ctrl-D.
  drop:  wait until the session is under way; the peer then drops the connection.
Every wait has a 30 s deadline and fails with what was seen so far."""
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

events_file, mode = sys.argv[1], sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
output = b""


def stty(fd):
    return subprocess.run(["stty", "-g"], stdin=fd, capture_output=True, text=True).stdout.strip()


def fail(why):
    print(json.dumps({"error": why, "output": output.decode("latin-1")}))
    sys.exit(1)


def wait_output(text, deadline=30):
    global output
    end = time.monotonic() + deadline
    while text.encode() not in output:
        if time.monotonic() > end:
            fail(f"no {text!r} in the output")
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                output += os.read(master, 4096)
            except OSError:
                fail(f"the pty closed before {text!r}")


def wait_event(pred, what, deadline=30):
    end = time.monotonic() + deadline
    while True:
        try:
            with open(events_file) as f:
                if any(pred(json.loads(l)) for l in f if l.strip()):
                    return
        except FileNotFoundError:
            pass
        if time.monotonic() > end:
            fail(f"the peer never recorded {what}")
        drain(0.1)


def drain(timeout):
    global output
    r, _, _ = select.select([master], [], [], timeout)
    if r:
        try:
            output += os.read(master, 4096)
        except OSError:
            pass


before = stty(slave)
child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
result = {"before": before}
if mode == "shell":
    wait_output("peer> ")
    result["during"] = stty(slave)
    os.write(master, b"echo typed-$((20+22))\r")
    wait_output("typed-42")
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    wait_event(lambda e: e.get("event") == "size" and e.get("cols") == 120, "the new size")
    os.write(master, b"stty size\r")
    wait_output("40 120")
    os.write(master, b"\x04")
else:
    wait_output("ready")
    result["during"] = stty(slave)
end = time.monotonic() + 30
while child.poll() is None:
    if time.monotonic() > end:
        child.kill()
        fail("cruddur did not exit")
    drain(0.1)
drain(0.1)
result.update({"after": stty(slave), "status": child.returncode, "output": output.decode("latin-1")})
print(json.dumps(result))
