"""Times whole commands: several in one run with `timing.py --spec FILE` (lines:
NAME<TAB>RUNS<TAB>shell command[<TAB>setup command, run untimed before each run]).
Prints the median, min and max in ms; {i} in a command is replaced by the run number."""
import shlex
import statistics
import subprocess
import sys
import time


def measure(name, runs, command, setup=None):
    times = []
    for i in range(runs):
        if setup:
            prep = subprocess.run(setup, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if prep.returncode != 0:
                sys.exit(f"{name}: setup `{setup}` failed: {prep.stderr.decode()[-400:]}")
        cmd = command.replace("{i}", str(i))
        start = time.perf_counter()
        done = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"{name}: `{cmd}` failed: {done.stderr.decode()[-400:]}")
    med = statistics.median(times)
    print(f"{name:<52} median {med:8.1f} ms   min {min(times):8.1f}   max {max(times):8.1f}   (n={runs})")
    return med


if __name__ == "__main__":
    results = {}
    with open(sys.argv[2]) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, runs, cmd, *setup = line.rstrip("\n").split("\t", 3)
                results[name] = measure(name, int(runs), cmd, setup[0] if setup else None)
    for ratio in sys.argv[3:]:
        a, b = ratio.split("/")
        print(f"ratio {a} / {b}: {results[a] / results[b]:.2f}x")
