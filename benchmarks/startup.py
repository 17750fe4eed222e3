"""Start-up: from launch until the sign-in screen is drawn, in a real pseudo-terminal.

Each run starts a process on a new 80x24 pseudo-terminal and reads what it writes until the
text "Username" appears: the moment a person sees the sign-in form. The anchor is a minimal
Textual app (a Label "Username" and an Input) launched the same way. The launches
alternate, round after round, so a busy machine slows all of them alike; medians are
compared. A diagnostic launch (``bare_sign_in.py``) runs the portal's start path with the
form cut down to the anchor's two widgets, which splits the difference into what the form
costs and what everything else costs.

    python benchmarks/startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import (
    ROOT,
    PtySession,
    Scratch,
    median,
    ms,
    percentile,
    print_header,
    print_table,
    ratio,
    scratch,
    verdict,
)

GOAL = 1.15
MARKER = b"Username"
TIMEOUT = 30.0


def time_to_marker(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from launching ``argv`` on a new 80x24 pty until it writes the marker."""
    with PtySession(argv, env, (80, 24)) as terminal:
        try:
            return terminal.wait_for(MARKER, TIMEOUT) - terminal.started
        except RuntimeError as error:
            raise RuntimeError(f"{argv[1:]}: {error}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="launches of each kind")
    args = parser.parse_args()
    print_header(
        "Start-up: launch until the sign-in screen is drawn (80x24 pty)",
        "python benchmarks/startup.py" + (f" --rounds {args.rounds}" if args.rounds != 15 else ""),
    )
    python = sys.executable
    with scratch() as space:
        existing = space.db("existing.db")
        subprocess.run(
            [python, "-m", "tui_portal", "--db", str(existing), "init"],
            env=space.env,
            check=True,
            capture_output=True,
        )
        launches = {
            "minimal Textual app (anchor)": lambda _n: [
                python,
                str(ROOT / "benchmarks" / "minimal_app.py"),
            ],
            "portal, existing database": lambda _n: [
                python,
                "-m",
                "tui_portal",
                "--db",
                str(existing),
            ],
            "diagnostic: portal start path, form cut to a Label and an Input": lambda _n: [
                python,
                str(ROOT / "benchmarks" / "bare_sign_in.py"),
                "--db",
                str(existing),
            ],
            "portal, first launch (new database)": lambda n: [
                python,
                "-m",
                "tui_portal",
                "--db",
                str(space.db(f"new-{n}.db")),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in launches}
        for argv in launches.values():  # warm the file cache and compiled modules
            time_to_marker(argv(-1), space.env)
        for n in range(args.rounds):
            for name, argv in launches.items():
                times[name].append(time_to_marker(argv(n), space.env))
        report(times, space)


def report(times: dict[str, list[float]], space: Scratch) -> None:
    anchor = times["minimal Textual app (anchor)"]
    rows = []
    for name, values in times.items():
        met = median(values) <= median(anchor) * GOAL
        rows.append(
            [
                name,
                ms(median(values)),
                ratio(median(values), median(anchor)),
                ms(min(values)),
                ratio(min(values), min(anchor)),
                ms(percentile(values, 0.9)),
                ""
                if name.startswith(("minimal", "diagnostic"))
                else f"≤ {GOAL:.2f}x: {verdict(met)}",
            ]
        )
    print(f"{len(anchor)} launches of each, alternating; ratios are to the anchor's")
    print()
    print_table(["launch", "median", "ratio", "fastest", "ratio", "p90", "goal (median)"], rows)


if __name__ == "__main__":
    main()
