"""The chains of AWS calls in the behaviour proxy's log (the call recorder).

Usage: call_chain.py LOG [--from N] [--json]

LOG is the proxy's --log file: a line per call {"call", "operation", "start", ...}
and a line {"call", "end"} when its answer was sent. --from N reads the calls
after the first N lines (a mark taken before the command). Prints the number of
calls (and how many of them the proxy's token buckets throttled, when any), the
longest chain of calls made one after another (each starting after the one before
it ended), and that chain's calls by name; with --json, one object {"calls",
"throttled", "chain", "path"}.

What a user waits for is the longest chain: against a real region every call of
it costs a round trip (20-100 ms), while calls made side by side cost one.
"""

import json
import sys


def read(path, skip=0):
    """The calls of the log after `skip` lines, as (start, end, operation) by start,
    and how many of them the proxy answered ThrottlingException (its token buckets)."""
    with open(path) as f:
        lines = f.read().splitlines()[skip:]
    calls, ends, throttled = {}, {}, 0
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "operation" in entry and "start" in entry:
            calls[entry["call"]] = entry
            throttled += entry.get("injected") == "throttle"
        elif "end" in entry:
            ends[entry["call"]] = entry["end"]
    out = [(c["start"], ends[n], c["operation"]) for n, c in calls.items() if n in ends]
    return sorted(out), throttled


def longest_chain(calls):
    """The longest sequence of calls each starting after the previous one ended."""
    calls = sorted(calls, key=lambda c: (c[1], c[0]))
    best = []  # best[i]: (length, previous index) of the longest chain ending with call i
    for i, (start, _end, _op) in enumerate(calls):
        length, prev = 1, None
        for j in range(i):
            if calls[j][1] <= start and best[j][0] + 1 > length:
                length, prev = best[j][0] + 1, j
        best.append((length, prev))
    if not best:
        return []
    i = max(range(len(best)), key=lambda k: best[k][0])
    path = []
    while i is not None:
        path.append(calls[i][2])
        i = best[i][1]
    return path[::-1]


def main():
    args = sys.argv[1:]
    skip = int(args[args.index("--from") + 1]) if "--from" in args else 0
    calls, refused = read(args[0], skip)
    path = longest_chain(calls)
    if "--json" in args:
        print(json.dumps({"calls": len(calls), "throttled": refused, "chain": len(path), "path": path}))
    else:
        note = f" ({refused} throttled)" if refused else ""
        print(f"{len(calls)} calls{note}, longest chain {len(path)}: {' > '.join(path)}")


if __name__ == "__main__":
    main()
