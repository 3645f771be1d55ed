"""`hotel-platform`: run the whole platform in one process, or one process per service."""

import argparse
import sys
from pathlib import Path

from gateway.registry import GATEWAY_PORT


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hotel-platform", description=__doc__)
    commands = root.add_subparsers(dest="command")
    run = commands.add_parser("run", help="embedded: every service in this process (default)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=GATEWAY_PORT)
    run.add_argument("--data-dir", type=Path, default=Path("data"), help="SQLite files go here")
    run.add_argument(
        "--no-demo-day",
        dest="demo_day",
        action="store_false",
        help="seed no demo day (today's arrivals, in-house guests, a complaint, history)",
    )
    up = commands.add_parser(
        "up", help="distributed: one process per service (PostgreSQL, RabbitMQ)"
    )
    up.add_argument("--host", default="127.0.0.1", help="the gateway's address")
    up.add_argument("--port", type=int, default=GATEWAY_PORT, help="the gateway's port")
    doc = commands.add_parser(
        "openapi", help="release the merged API document (refused if it breaks the released one)"
    )
    doc.add_argument("--out", type=Path, default=Path("openapi/released.json"))
    doc.add_argument("--check", action="store_true", help="compare only, write nothing")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "up":
        from launcher.distributed import up

        return up(args.host, args.port)
    if args.command == "openapi":
        from launcher.openapi import release

        return release(args.out, check_only=args.check)
    from launcher.embedded import run

    if args.command is None:  # plain `hotel-platform` is `hotel-platform run`
        args = parser().parse_args(["run"])
    run(args.host, args.port, args.data_dir, demo_day=args.demo_day)
    return 0


if __name__ == "__main__":
    sys.exit(main())
