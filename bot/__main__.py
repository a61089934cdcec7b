"""The ``deploybot`` command line: ``deploybot sandbox pulumi …`` (more subcommands arrive with later features)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.errors import DeploybotError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deploybot", description="Slack ChatOps for Pulumi Deployments.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="run a local stand-in for an external service")
    services = sandbox.add_subparsers(dest="service", required=True, metavar="SERVICE")
    # Imported here, not at module level: product code never imports the sandboxes, only this CLI does.
    from bot.sandbox.pulumi import cli as pulumi_sandbox

    pulumi_sandbox.add_arguments(
        services.add_parser("pulumi", help="serve the Pulumi Deployments API emulator over HTTP")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sandbox" and args.service == "pulumi":
            from bot.sandbox.pulumi import cli as pulumi_sandbox

            return pulumi_sandbox.run(args)
    except DeploybotError as exc:
        print(f"deploybot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2  # pragma: no cover  # parser.error exits


if __name__ == "__main__":
    sys.exit(main())
