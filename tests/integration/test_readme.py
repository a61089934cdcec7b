"""The README's commands, run as written (ports moved to free ones): if the README drifts from the code, this fails.

Every shell block in the README must be one this file knows how to run; a new block without a test here fails too.
(`make test` is CI itself; `make demo` runs `deploybot demo`, which tests/e2e/test_demo.py runs as a real process;
Docker and Kubernetes cannot run here — tests/*/packaging validate their files instead.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.policy import Policy
from tests.conftest import free_port

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def shell(script: str, ports: dict[int, int], redis_url: str) -> str:
    """The README's text with its ports, Redis and ``.venv/bin`` pointed at this test's."""
    for old, new in ports.items():
        script = re.sub(rf"(?<=[:= ]){old}\b", str(new), script)
    script = script.replace("redis://127.0.0.1:6379/0", redis_url)
    return script.replace(".venv/bin/", f"{BIN}/")


def test_every_shell_block_is_one_this_file_runs() -> None:
    known = ("make demo", "deploybot sandbox pulumi", "curl -s localhost:3100", "deploybot policy check")
    for block in blocks("sh"):
        assert any(marker in block for marker in known), f"a README command nobody tests:\n{block}"


def test_the_policy_example_and_its_check_command() -> None:
    [command] = [b.strip() for b in blocks("sh") if "policy check" in b]
    result = subprocess.run(shell(command, {}, ""), shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
    [example] = blocks("toml")
    rule = Policy.loads(example).rule_for("acme/web/prod")
    assert rule.approvals == 2
    assert rule.preview_first


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's example uses curl")
def test_running_the_pieces_by_hand_then_acting_as_a_user(redis_url: str, redis: object) -> None:
    [start] = [b for b in blocks("sh") if "sandbox pulumi" in b]
    [act] = [b for b in blocks("sh") if "curl" in b]
    ports = {8080: free_port(), 3100: free_port(), 3000: free_port()}
    lines = [line.split("  #")[0].rstrip() for line in shell(start, ports, redis_url).splitlines()]
    commands = "\n".join(lines).replace("\\\n", " ").splitlines()
    env = {"PATH": os.environ["PATH"], "DEPLOYBOT_POLICY": str(ROOT / "tests/payloads/policy/open.toml")}
    children = [subprocess.Popen(c, shell=True, cwd=ROOT, env=env, start_new_session=True) for c in commands]
    try:
        # All three must answer before acting (a busy machine once served the bot before the fake Slack).
        deadline = time.monotonic() + 30
        probes = [f"curl -sf localhost:{ports[3000]}/healthz"] + [
            f"curl -s -o /dev/null localhost:{p}/" for p in (ports[8080], ports[3100])
        ]
        while any(subprocess.run(probe, shell=True).returncode != 0 for probe in probes):
            assert time.monotonic() < deadline, "the pieces did not come up"
            time.sleep(0.2)
        send, read = shell(act, ports, redis_url).strip().splitlines()
        assert '"status": 200' in subprocess.run(send, shell=True, capture_output=True, text=True).stdout
        deadline = time.monotonic() + 15
        shown = "*preview* `acme/web/dev` #1"
        while shown not in subprocess.run(read, shell=True, capture_output=True, text=True).stdout:
            assert time.monotonic() < deadline, "the preview never appeared in the channel"
            time.sleep(0.2)
    finally:
        for child in children:
            os.killpg(child.pid, 2)
        for child in children:
            child.wait(timeout=20)


def test_the_audit_export_line(redis_url: str, redis: object) -> None:
    [line] = re.findall(r"`(deploybot audit export [^`]*)`", README)
    command = line.split(">")[0]
    env = {"PATH": os.environ["PATH"], "REDIS_URL": redis_url}
    result = subprocess.run(f"{BIN}/{command}", shell=True, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_policy_key_table_names_every_key_the_policy_takes() -> None:
    from bot.policy.schema import RuleSettings

    section = README.split("## Approvals and the policy", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert documented == list(RuleSettings.model_fields)
