"""``deploybot policy check FILE [STACK…]``: validate a policy file and explain its rule for the stacks given."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.policy.policy import Policy
from bot.policy.problems import PolicyError
from bot.pulumi.stack import StackRef


def _stack(text: str) -> StackRef:
    try:
        return StackRef.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check_parser = actions.add_parser("check", help="validate a policy file; explain its rule for the given stacks")
    check_parser.add_argument("file", type=Path, metavar="FILE", help="the policy file (TOML)")
    check_parser.add_argument("stacks", type=_stack, nargs="*", metavar="STACK", help="org/project/stack to explain")
    check_parser.set_defaults(run=check)


def check(args: argparse.Namespace) -> int:
    """Exit 0 with "FILE is valid" and one explanation per stack, or 2 with one line per problem on stderr."""
    try:
        policy = Policy.load(args.file)
    except PolicyError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    print(f"{args.file} is valid")
    for stack in args.stacks:
        print(policy.rule_for(stack).explain(str(stack), mentions=False))
    return 0
