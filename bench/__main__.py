"""Command line for the benchmarks."""

from __future__ import annotations

import argparse
import asyncio

from bench.followups import main as followups


def run() -> None:
    """Parse arguments and run the chosen benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=["followups"])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(followups(args.pending, args.burst))


if __name__ == "__main__":
    run()
