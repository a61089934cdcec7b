"""The policy in plain words (``/deploy policy STACK``), and ``deploybot policy check`` run as a real process."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.policy import Policy, Rule
from bot.pulumi.stack import StackRef

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "deploy" / "policy.example.toml"


def rule(**changes: object) -> Rule:
    return Policy.default().rule_for("a/b/c").model_copy(update=changes)


def test_the_example_rule_from_the_issue_reads_as_written() -> None:
    prod = rule(approvals=2, approvers=("@sre",), confirm_destroy=True, admins=("@platform",), matched="acme/*/prod")
    assert prod.explain("acme/web/prod") == (
        "Updates and destroys of `acme/web/prod` need 2 approvals from @sre (not the requester); requests stay open "
        "4 hours; a destroy asks approvers to type the stack name. Previews and refreshes run without approval. "
        "Anyone may request. Admins: @platform. (Rule: the defaults and `[[stacks]]` match `acme/*/prod`.)"
    )


def test_the_built_in_defaults_in_words() -> None:
    text = Policy.default().rule_for("acme/web/dev").explain("acme/web/dev")
    assert text.startswith("Updates and destroys of `acme/web/dev` need 1 approval from anyone but the requester;")
    assert "Previews and refreshes run without approval." in text
    assert "Anyone may pause and resume, change settings and cancel others' deployments." in text
    assert text.endswith("(Rule: the defaults.)")


def test_who_may_approve_and_request() -> None:
    own = rule(self_approval=True, expires_after=timedelta(minutes=90)).explain("a/b/c")
    assert "need 1 approval from anyone, the requester included; requests stay open 1 hour 30 minutes." in own
    listed = rule(approvers=("@sre", "@dba", "U0APPROVE"), self_approval=True, requesters=("U0REQUEST", "@devs"))
    text = listed.explain("a/b/c")
    assert "from @sre, @dba or <@U0APPROVE> (the requester may approve too)" in text
    assert "Only <@U0REQUEST> or @devs may request." in text
    plain = listed.explain("a/b/c", mentions=False)
    assert "Only U0REQUEST or @devs may request." in plain


def test_operations_that_run_directly_or_not_at_all() -> None:
    free = rule(approval_required=frozenset(), preview_first=True, confirm_destroy=True).explain("a/b/c")
    assert free.startswith("Updates, previews, refreshes and destroys of `a/b/c` run without approval.")
    assert "preview first" not in free  # preview_first is about approval: an update that needs none runs at once
    assert "A destroy asks for the stack name to be typed before it starts." in free
    limited = rule(allowed_operations=frozenset({"preview", "update"}), preview_first=True).explain("a/b/c")
    assert "Updates of `a/b/c` need 1 approval" in limited
    assert "an update runs a preview first and approvers see its plan" in limited
    assert "Previews run without approval. Refreshes and destroys cannot be requested from Slack." in limited
    closed = rule(allowed_operations=frozenset(), admins=("@platform", "U0ADMIN1")).explain("a/b/c", mentions=False)
    assert closed.startswith("Nothing may be requested from Slack for `a/b/c`. Admins: @platform and U0ADMIN1.")
    assert "may request" not in closed


def test_a_stack_ref_is_explained_like_its_name() -> None:
    ref = StackRef("acme", "web", "prod")
    assert rule().explain(ref) == rule().explain("acme/web/prod")
    assert Policy.loads('[[stacks]]\nmatch = "acme/*/prod"\n').rule_for(ref).matched == "acme/*/prod"


def test_a_stack_name_cannot_ping_or_link() -> None:
    text = rule().explain("<!channel>&<https://evil.example|x>`")
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;&amp;&lt;https://evil.example|x&gt;" in text


@given(st.text(max_size=40))
def test_without_mentions_nothing_in_the_text_is_slack_markup(stack: str) -> None:
    text = rule(requesters=("U0REQUEST",), admins=("@ops",)).explain(stack, mentions=False)
    assert "<" not in text
    assert ">" not in text
    assert text.count("`") % 2 == 0  # every code span is closed


# deploybot policy check, as a process


def deploybot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "policy", "check", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_check_prints_valid_and_explains_each_stack() -> None:
    done = deploybot(EXAMPLE, "acme/web/prod", "globex/api/dev")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == f"{EXAMPLE} is valid"
    assert lines[1].startswith("Updates and destroys of `acme/web/prod` need 2 approvals from @sre")
    assert lines[2].startswith("Updates and destroys of `globex/api/dev` need 1 approval from anyone but")
    assert len(lines) == 3


def test_check_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('[defaults]\napprovals = 0\nrequesters = ["<@U0ANA1234>"]\n[[stacks]]\nmatch = "acme/*"\n')
    done = deploybot(bad, "acme/web/prod")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        f"{bad}: defaults.approvals: must be at least 1",
        f'{bad}: defaults.requesters: "<@U0ANA1234>" is not a user id or a handle: write the bare user id "U0ANA1234"',
        f'{bad}: stacks[0].match: "acme/*" must have three parts, org/project/stack ("*" for any), e.g. "acme/*/prod"',
    ]


def test_check_refuses_a_missing_file_and_a_malformed_stack(tmp_path: Path) -> None:
    missing = deploybot(tmp_path / "nope.toml")
    assert missing.returncode == 2
    assert missing.stderr == f"{tmp_path / 'nope.toml'}: cannot read the policy file: No such file or directory\n"
    malformed = deploybot(EXAMPLE, "web/prod")
    assert malformed.returncode == 2
    assert "'web/prod' has no organization: write org/project/stack" in malformed.stderr
    assert "Traceback" not in missing.stderr + malformed.stderr
