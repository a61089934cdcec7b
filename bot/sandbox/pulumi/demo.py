"""The seeded demo organization "acme", used when the emulator starts without ``--stack``."""

from __future__ import annotations

from typing import Any

DEMO_ORG = "acme"


def _settings(project: str, stack: str, **operation_context: Any) -> dict[str, Any]:
    return {
        "sourceContext": {
            "git": {
                "repoUrl": f"https://github.com/acme/{project}.git",
                "branch": "refs/heads/main",
                "repoDir": "infra",
            }
        },
        "operationContext": {
            "environmentVariables": {"AWS_REGION": "us-west-2", "APP_ENV": stack},
            **operation_context,
        },
    }


def demo_stacks() -> list[tuple[str, dict[str, Any]]]:
    """(stack, settings in wire form): env vars incl. a secret, a pre-run command, and one stack with AWS OIDC."""
    web_prod = _settings(
        "web",
        "prod",
        preRunCommands=['echo "deploying web to prod"'],
        oidc={"aws": {"roleArn": "arn:aws:iam::123456789012:role/pulumi-deploy", "sessionName": "pulumi-deploy"}},
        options={"skipIntermediateDeployments": True},
    )
    web_prod["operationContext"]["environmentVariables"]["SENTRY_DSN"] = {"secret": "https://k3y@sentry.example/1"}
    api_dev = _settings("api", "dev", preRunCommands=["npm run lint"])
    api_dev["operationContext"]["environmentVariables"]["DATABASE_PASSWORD"] = {"secret": "dev-password"}
    return [
        (f"{DEMO_ORG}/web/dev", _settings("web", "dev")),
        (f"{DEMO_ORG}/web/staging", _settings("web", "staging", preRunCommands=['echo "hello world"'])),
        (f"{DEMO_ORG}/web/prod", web_prod),
        (f"{DEMO_ORG}/api/dev", api_dev),
        (f"{DEMO_ORG}/api/prod", _settings("api", "prod", options={"skipInstallDependencies": True})),
    ]
