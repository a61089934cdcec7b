"""Redacting log lines: each credential kind hidden with its key kept, ordinary log text left alone, private keys
across lines, and properties over generated lines (idempotent, total, bounded growth, planted secrets never kept)."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.redact import MARKER, redact_line, redact_lines

R = MARKER
PULUMI = "pul-" + "0123456789abcdef" * 2 + "01234567"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
GHP = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"

REDACTED = [
    # Pulumi
    (f"PULUMI_ACCESS_TOKEN={PULUMI}", f"PULUMI_ACCESS_TOKEN={R}"),
    (f"logging in with {PULUMI} to https://api.pulumi.com", f"logging in with pul-{R} to https://api.pulumi.com"),
    # Slack
    ("SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", f"SLACK_BOT_TOKEN={R}"),
    ("auth.test ok for xoxp-1234567890-1234567890-1234567890-abcdef0123456789", f"auth.test ok for xoxp-{R}"),
    ("tokens: xoxa-2-abcdefgh1234 xoxr-abcdefgh1234 xoxs-abcdefgh1234", f"tokens: xoxa-{R} xoxr-{R} xoxs-{R}"),
    ("socket mode with xapp-1-A0123456789-0123456789012-abcdef", f"socket mode with xapp-{R}"),
    ("rotated to xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtMTIzNDU2", f"rotated to xoxe.xoxp-{R}"),
    (
        "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX -> 404",
        f"POST https://hooks.slack.com/services/{R} -> 404",
    ),
    # AWS
    (f"export AWS_ACCESS_KEY_ID={AWS_KEY_ID}", f"export AWS_ACCESS_KEY_ID={R}"),
    (f"assumed role with ASIAIOSFODNN7EXAMPLE, was {AWS_KEY_ID}", f"assumed role with ASIA{R}, was AKIA{R}"),
    (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", f"AWS_SECRET_ACCESS_KEY={R}"),
    (f"aws_secret_access_key = {AWS_SECRET}", f"aws_secret_access_key = {R}"),
    (f'    "SecretAccessKey": "{AWS_SECRET}",', f'    "SecretAccessKey": "{R}",'),
    ('aws_session_token="FwoGZXIvYXdzEBYaDHqa0AP1Ab2cD3eF4gH5iJ6kL7mN8o"', f'aws_session_token="{R}"'),
    ("creds from IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD expire", f"creds from {R} expire"),
    (
        f"GET /b/k?X-Amz-Credential={AWS_KEY_ID}%2F20240501&X-Amz-Signature=0a1b2c3d&X-Amz-Expires=60",
        f"GET /b/k?X-Amz-Credential={R}&X-Amz-Signature={R}&X-Amz-Expires=60",
    ),
    # GCP
    ('  "private_key_id": "0123456789abcdef0123456789abcdef01234567",', f'  "private_key_id": "{R}",'),
    (
        '  "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'
        '-----END PRIVATE KEY-----\\n",',
        f'  "private_key": "{R}",',
    ),
    ("GOOGLE_API_KEY=AIzaSyA1234567890abcdefghijklmnopqrstuv", f"GOOGLE_API_KEY={R}"),
    ("maps call with key AIzaSyA1234567890abcdefghijklmnopqrstuv", f"maps call with key AIza{R}"),
    ("access token ya29.a0AfH6SMBx1234567890abcdefghijklmnop expired", f"access token ya29.{R} expired"),
    ("oauth client GOCSPX-abcdefghijklmnopqrstuvwx12 rejected", f"oauth client GOCSPX-{R} rejected"),
    # Azure
    (
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFy/+Zm9vYmFy==;EndpointSuffix=core.windows.net",
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={R};EndpointSuffix=core.windows.net",
    ),
    (
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=Zm9vYmFy=",
        f"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={R}",
    ),
    (
        "PUT https://acme.blob.core.windows.net/c/b?sv=2021-08-06&ss=b&sp=rw&sig=abc%2Bdef%3D&se=2024-05-01",
        f"PUT https://acme.blob.core.windows.net/c/b?sv=2021-08-06&ss=b&sp=rw&sig={R}&se=2024-05-01",
    ),
    ("AZURE_CLIENT_SECRET=abc8Q~abcdefghijklmnopqrstuvwxyz0123456", f"AZURE_CLIENT_SECRET={R}"),
    ("secret abc8Q~abcdefghijklmnopqrstuvwxyz0123456 was rejected", f"secret {R} was rejected"),
    # GitHub
    (f"GITHUB_TOKEN={GHP}", f"GITHUB_TOKEN={R}"),
    (f"git clone https://{GHP}@github.com/acme/web", f"git clone https://ghp_{R}@github.com/acme/web"),
    ("using gho_abcdefghijklmnopqrstuvwxyz0123456789", f"using gho_{R}"),
    (
        "app token ghs_abcdefghijklmnopqrstuvwxyz0123456789 for ghu_abcdefghijklmnopqrstuvwxyz0123456789",
        f"app token ghs_{R} for ghu_{R}",
    ),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", f"pat github_pat_{R}"),
    # JWTs and HTTP authorization
    (f"id_token={JWT}", f"id_token={R}"),
    (f"decoded {JWT} ok", f"decoded {R} ok"),
    ("Authorization: Bearer abc.def.ghi", f"Authorization: Bearer {R}"),
    ("> authorization: token gh-abc123", f"> authorization: token {R}"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", f"curl -H 'Authorization: Basic {R}' https://x"),
    (
        'headers={"Authorization": "Bearer abc def", "Accept": "*/*"}',
        f'headers={{"Authorization": "Bearer {R}", "Accept": "*/*"}}',
    ),
    ("X-Api-Key: 0123456789abcdef", f"X-Api-Key: {R}"),
    ("Cookie: session=abc123; theme=dark", f"Cookie: {R}; theme=dark"),
    # KEY=value in its many spellings
    ("DB_PASSWORD=hunter2", f"DB_PASSWORD={R}"),
    ("export MYSQL_ROOT_PASSWORD='p@ss word'", f"export MYSQL_ROOT_PASSWORD='{R}'"),
    ("PGPASSWORD=hunter2 psql -h db", f"PGPASSWORD={R} psql -h db"),
    ("password: hunter2", f"password: {R}"),
    ("  client_secret : hunter2", f"  client_secret : {R}"),
    ('{"password":"hunter2","user":"bob"}', f'{{"password":"{R}","user":"bob"}}'),
    ("{'apiKey': 'k-123', 'region': 'eu'}", f"{{'apiKey': '{R}', 'region': 'eu'}}"),
    ('payload "{\\"api_key\\":\\"k-123\\",\\"n\\":1}"', f'payload "{{\\"api_key\\":\\"{R}\\",\\"n\\":1}}"'),
    ('{"password"=>"hunter2"}', f'{{"password"=>"{R}"}}'),
    ("level=error msg=denied auth=hunter2 user=bob", f"level=error msg=denied auth={R} user=bob"),
    ("{Password:hunter2 User:bob}", f"{{Password:{R} User:bob}}"),
    ("spring.datasource.password=hunter2", f"spring.datasource.password={R}"),
    ('docker run -e "DB_PASSWORD=hunter2" app', f'docker run -e "DB_PASSWORD={R}" app'),
    ("deploy --password hunter2 --user bob", f"deploy --password {R} --user bob"),
    ("deploy --client-secret=hunter2", f"deploy --client-secret={R}"),
    ("SESSION_SECRET := hunter2", f"SESSION_SECRET := {R}"),
    ("Server=db;User Id=app;Password=hunter2;Encrypt=true", f"Server=db;User Id=app;Password={R};Encrypt=true"),
    ("pulumi config set --secret dbPassword hunter2 --stack dev", f"pulumi config set --secret {R} {R} --stack dev"),
    (
        "pulumi config set -s dev --secret --path db.pass 's3 cr3t'",
        f"pulumi config set -s dev --secret --path db.pass {R} {R}",
    ),
    (
        "pulumi config set region eu && pulumi config set --secret db:pw hunter2",
        f"pulumi config set region eu && pulumi config set --secret {R} {R}",
    ),
    (
        "pulumi config set-all --secret apiUrl=https://x --plaintext region=eu",
        f"pulumi config set-all --secret {R} --plaintext region=eu",
    ),
    # URLs with user:password@
    (
        "connecting to postgres://app:s3cr3t@db.internal:5432/app",
        f"connecting to postgres://app:{R}@db.internal:5432/app",
    ),
    ("REDIS_URL=redis://:hunter2@cache:6379/0 ready", f"REDIS_URL=redis://:{R}@cache:6379/0 ready"),
    ("https://x-access-token:abc123@github.com/acme/web.git", f"https://x-access-token:{R}@github.com/acme/web.git"),
    # PEM on one line
    (
        "key=-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA-----END RSA PRIVATE KEY----- loaded",
        f"key=-----BEGIN RSA PRIVATE KEY-----{R}-----END RSA PRIVATE KEY----- loaded",
    ),
    ("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjE", f"-----BEGIN OPENSSH PRIVATE KEY-----{R}"),
    ("tail of it: MIIEpAIBAAKCAQEA==-----END EC PRIVATE KEY-----", f"tail of it: {R}-----END EC PRIVATE KEY-----"),
]


@pytest.mark.parametrize(("line", "expected"), REDACTED)
def test_each_credential_kind_is_redacted_and_its_key_kept(line: str, expected: str) -> None:
    assert redact_line(line) == expected


INNOCENT = [
    "Updating (acme/web/dev)",
    "View in Browser (Ctrl+O): https://app.pulumi.com/acme/web/dev/updates/42",
    "Resources: 3 unchanged",
    "    + 2 to create, ~ 1 to update, 12 unchanged",
    "Duration: 1m32s",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main, origin/main)",
    "deployment 123e4567-e89b-12d3-a456-426614174000 started at 2024-05-01T12:34:56.789Z",
    "urn:pulumi:dev::web::aws:s3/bucket:Bucket::assets",
    "urn:pulumi:dev::web::random:index/randomPassword:RandomPassword::db-password",
    "  +   aws:secretsmanager/secret:Secret   db-password   created (1s)",
    "  ~   kubernetes:core/v1:Secret   app-secrets   updated [diff: ~data]",
    "token_count=3 max_tokens=4096 input_tokens: 120",
    "password_file=/run/secrets/db secret_name=prod/db tokenExpiresAt=2024-05-01T00:00:00Z",
    "password=null token=${GITHUB_TOKEN} secret=$DB_SECRET auth=*** apiKey: [secret]",
    'Outputs:  dbPassword: [secret]  "token": true',
    "error: Invalid password. Please try again.",
    "authentication failed for user bob",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "-----BEGIN CERTIFICATE----- MIIBszCCAVmgAwIBAgIU -----END CERTIFICATE-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ci@acme",
    "key=region value=eu-west-1 pass: 5 fail: 0",
    "INFO 12:34:56 step 3/7 pulumi up --stack dev --yes --skip-preview",
    'read "credentials": {"user": "bob"} from the file',
    "AROAIOSFODNN7EXAMPLE assumed arn:aws:iam::123456789012:role/deploy",
    "error: getting credentials: exec: executable aws not found",
    "error: failed to decrypt encrypted configuration value 'dbPassword': cipher: message authentication failed",
]


@pytest.mark.parametrize("line", INNOCENT)
def test_ordinary_log_text_is_left_alone(line: str) -> None:
    assert redact_line(line) == line


BODY = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MYBgc3Fqq0ZsPl1oyl0LKJF6a1XAbZp9OPJ2r2OqQOYkYvJ9txC7VJTUt9Us8cKj",
    "Zm9vYmFyYmF6==",
]


def test_a_private_key_across_lines_keeps_its_armour_and_the_lines_around_it() -> None:
    lines = ["writing key.pem", "-----BEGIN RSA PRIVATE KEY-----", *BODY, "-----END RSA PRIVATE KEY-----", "done"]
    assert redact_lines(lines) == [
        "writing key.pem",
        "-----BEGIN RSA PRIVATE KEY-----",
        R,
        R,
        R,
        "-----END RSA PRIVATE KEY-----",
        "done",
    ]


def test_an_indented_key_in_yaml_output_keeps_its_indentation_and_its_neighbours_are_still_redacted() -> None:
    lines = [
        "  tls.key: |",
        "    -----BEGIN EC PRIVATE KEY-----",
        *(f"    {line}" for line in BODY),
        "    -----END EC PRIVATE KEY-----",
        "  password: hunter2",
    ]
    assert redact_lines(lines) == [
        "  tls.key: |",
        "    -----BEGIN EC PRIVATE KEY-----",
        f"    {R}",
        f"    {R}",
        f"    {R}",
        "    -----END EC PRIVATE KEY-----",
        f"  password: {R}",
    ]


def test_a_key_whose_end_is_past_the_window_is_redacted_to_the_last_line() -> None:
    lines = ["ok", "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjE", *BODY, ""]
    assert redact_lines(lines) == ["ok", f"-----BEGIN OPENSSH PRIVATE KEY-----{R}", R, R, R, ""]


def test_a_key_whose_begin_was_cut_off_is_redacted_back_to_the_first_line_that_is_not_its_body() -> None:
    lines = ["step 3 failed", "ok", *BODY, "-----END PRIVATE KEY-----", "exit 1"]
    assert redact_lines(lines) == ["step 3 failed", "ok", R, R, R, "-----END PRIVATE KEY-----", "exit 1"]


def test_only_the_line_right_before_a_lone_end_may_be_short() -> None:
    lines = ["done", BODY[2], BODY[0], "-----END PRIVATE KEY-----"]
    assert redact_lines(lines) == ["done", BODY[2], R, "-----END PRIVATE KEY-----"]


def test_two_keys_in_one_window_leave_the_text_between_them() -> None:
    begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    lines = [begin, BODY[0], end, "between", f"{begin}", BODY[1], f"{end} and {begin}", BODY[2]]
    assert redact_lines(lines) == [begin, R, end, "between", begin, R, f"{end} and {begin}", R]


def test_certificates_and_public_keys_across_lines_are_not_secrets() -> None:
    lines = ["-----BEGIN CERTIFICATE-----", *BODY, "-----END CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----", BODY[0]]
    assert redact_lines(lines) == lines


def test_redact_lines_redacts_every_line_and_keeps_their_number_and_order() -> None:
    lines = [f"step {n}: GITHUB_TOKEN={GHP}" if n % 2 else f"step {n}: ok" for n in range(30)]
    assert redact_lines(lines) == [redact_line(line) for line in lines]
    assert redact_lines(lines)[1] == f"step 1: GITHUB_TOKEN={R}"
    assert redact_lines([]) == []


# Lines long enough that a pattern which backtracks badly would not finish within the timeout.
HUGE = 100_000


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a" * HUGE, "a" * HUGE),
        ("eyJ" * (HUGE // 3), "eyJ" * (HUGE // 3)),
        ("password" * (HUGE // 8) + "=x", f"{'password' * (HUGE // 8)}={R}"),
        ("token=" + "x" * HUGE, f"token={R}"),
        ('"secret": "' + "\\x" * (HUGE // 2), f'"secret": "{R}'),
        ("a:" * (HUGE // 2), "a:" * (HUGE // 2)),
        ("a://b:" * (HUGE // 6), "a://b:" * (HUGE // 6)),
        ("-----BEGIN PRIVATE KEY-----" + "A" * HUGE, f"-----BEGIN PRIVATE KEY-----{R}"),
        ("A" * HUGE + "-----END PRIVATE KEY-----", f"{R}-----END PRIVATE KEY-----"),
        ("--password" + " " * HUGE + "x", "--password" + " " * HUGE + R),
        ("aB" * (HUGE // 2) + "=x", "aB" * (HUGE // 2) + "=x"),
        ("pulumi config set --secret " + "a " * (HUGE // 2), "pulumi config set --secret " + f"{R} " * (HUGE // 2)),
    ],
)
def test_a_100_kb_line_finishes(line: str, expected: str) -> None:
    assert redact_line(line) == expected


@pytest.mark.timeout(10)
def test_a_window_of_many_body_lines_before_a_lone_end_finishes() -> None:
    lines = [BODY[0]] * 5_000 + ["-----END PRIVATE KEY-----"]
    assert redact_lines(lines) == [R] * 5_000 + ["-----END PRIVATE KEY-----"]


# --- properties -------------------------------------------------------------------------------------------------

# Words from ordinary deployment logs that stay innocent next to any other of them.
INNOCENT_WORDS = [
    *("Updating", "(acme/web/dev)", "Resources:", "3", "unchanged", "Duration:", "1m32s", "error:", "Invalid"),
    *("password.", "authentication", "failed", "+", "~", "-", "created", "(1s)", "INFO", "12:34:56", "--stack"),
    *("dev", "--yes", "[diff:", "~data]", "pass:", "fail:", "0", "key=region", "token_count=3", "max_tokens=4096"),
    *("password_file=/run/secrets/db", "secret_name=prod/db", "tokenExpiresAt=2024-05-01T00:00:00Z"),
    *("3f786850e387550fdab836ed7e6dc881de23001b", "123e4567-e89b-12d3-a456-426614174000", "2024-05-01T12:34:56Z"),
    *("urn:pulumi:dev::web::aws:s3/bucket:Bucket::assets", "aws:secretsmanager/secret:Secret", "db-password"),
    *("random:index/randomPassword:RandomPassword", "https://app.pulumi.com/acme/web/dev/updates/42", "*/*"),
]
innocent_text = st.lists(st.sampled_from(INNOCENT_WORDS), max_size=6).map(" ".join)
# Without `=`, `:`, `-`, `_`, `.`, `/`, `@`, `~`, quotes or capitals no rule can match: no assignment, shape or URL.
shapeless_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ,!?()#%+*\t", max_size=200)

secret_names = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "DB_", "AWS_", "GITHUB_", "app.", "x-", "spring.datasource."]),
        st.sampled_from(
            [
                *("PASSWORD", "password", "Passwd", "passphrase", "SECRET", "client_secret", "SECRET_ACCESS_KEY"),
                *("TOKEN", "token", "API_KEY", "apiKey", "ApiKey", "access_key", "PRIVATE_KEY", "AccountKey"),
                *("credentials", "auth", "Authorization", "session", "sig", "Signature", "pwd"),
            ]
        ),
        st.sampled_from(["", "_VALUE", "_PROD", "2", "_B64", "Id"]),
    ),
)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PUNCTUATION = "!#%()*+,./:<=>?@^_`{|}~-[]"


def secret_values(also: str = "") -> st.SearchStrategy[str]:
    """A password-like value: starts with a letter or digit, holds a digit (so it is no null/true/…) and, beyond
    ``also``, none of the characters that end an unquoted value."""
    return st.builds(
        lambda first, rest, digit: first + rest + digit,
        st.sampled_from(_ALNUM),
        st.text(alphabet=_ALNUM + _PUNCTUATION + also, min_size=6, max_size=40),
        st.sampled_from("0123456789"),
    )


@st.composite
def planted_secrets(draw: st.DrawFn) -> tuple[str, str, str]:
    """(line, name, value): ``value`` assigned to a secret-looking ``name`` in one of the spellings logs use."""
    name = draw(secret_names)
    form = draw(st.sampled_from(["=", ": ", ":", " = ", "=>", ":=", "export", "--flag ", "--flag=", "json", "'", '"']))
    if form == "json":
        value = draw(secret_values(also=" \"'\\;&$"))
        assignment = f"{json.dumps(name)}: {json.dumps(value)}"
        value = json.dumps(value)[1:-1]
    elif form in ("'", '"'):
        value = draw(secret_values(also=" ;&$" + ("'" if form == '"' else '"')))
        assignment = f"{form}{name}{form}: {form}{value}{form}"
    elif form == "export":
        value = draw(secret_values())
        assignment = f"export {name}={value}"
    elif form.startswith("--flag"):
        value = draw(secret_values())
        assignment = f"--{name}{form[6:]}{value}"
    else:
        value = draw(secret_values())
        assignment = f"{name}{form}{value}"
    before, after = draw(innocent_text), draw(innocent_text)
    assume(value not in f"{before} {name} {after}")
    return f"{before} {assignment} {after}".strip(), name, value


@settings(max_examples=500)
@given(planted_secrets())
def test_a_value_planted_under_a_secret_looking_name_never_survives(planted: tuple[str, str, str]) -> None:
    line, name, value = planted
    redacted = redact_line(line)
    assert value not in redacted
    assert name in redacted
    assert len(redacted) <= len(line) + len(MARKER)


def _text(alphabet: str, size: int, most: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size if most is None else most)


_HEX, _UPPER = "0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_URLSAFE = _ALNUM + "_-"
# (kept prefix, body) of each credential shape; the body is what must not survive.
credential_shapes = st.one_of(
    st.tuples(st.just("pul-"), _text(_HEX, 40)),
    st.tuples(st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]), _text(_ALNUM + "-", 10, 60)),
    st.tuples(st.sampled_from(["AKIA", "ASIA"]), _text(_UPPER, 16)),
    st.tuples(st.just("AIza"), _text(_URLSAFE, 35)),
    st.tuples(st.just("ya29."), _text(_URLSAFE, 20, 80)),
    st.tuples(st.sampled_from(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]), _text(_ALNUM, 36)),
    st.tuples(st.just("github_pat_"), _text(_ALNUM + "_", 82)),
    st.tuples(st.just("https://hooks.slack.com/services/"), _text(_ALNUM + "/", 20, 50)),
    st.tuples(
        st.just(""),
        st.builds("eyJ{}.eyJ{}.{}".format, _text(_URLSAFE, 8, 40), _text(_URLSAFE, 8, 60), _text(_URLSAFE, 0, 43)),
    ),
)


@settings(max_examples=500)
@given(innocent_text, st.sampled_from([" ", "=", ": ", '"', "'", "(", "/"]), credential_shapes, innocent_text)
def test_a_credential_shape_between_ordinary_words_is_hidden_and_its_prefix_kept(
    before: str, glue: str, shape: tuple[str, str], after: str
) -> None:
    prefix, body = shape
    assume(body not in f"{before} {after}")
    redacted = redact_line(f"{before} x{glue}{prefix}{body} {after}")
    assert body not in redacted
    assert f"{prefix}{MARKER}" in redacted


@settings(max_examples=300)
@given(innocent_text)
def test_ordinary_words_in_any_order_are_left_alone(line: str) -> None:
    assert redact_line(line) == line


@settings(max_examples=300)
@given(shapeless_text)
def test_text_that_cannot_form_a_credential_shape_is_unchanged(line: str) -> None:
    assert redact_line(line) == line
    assert redact_lines(line.split(",")) == line.split(",")


# Pieces of credentials and of the syntax around them, run together in random orders to find interactions.
FRAGMENTS = [
    *("password", "TOKEN", "x-api-key", "Authorization", "--secret", "config set", "sig", "=", ":", ": ", "=>"),
    *('"', "'", '\\"', "{", "[", "&", ";", " ", "Bearer ", "null", "$X", "***", "[secret]", MARKER, "://", "u:p@"),
    *("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", "Zm9v=="),
    *(PULUMI, AWS_KEY_ID, JWT, GHP, "xoxb-1234567890-abc", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "ya29."),
    *(
        "hooks.slack.com/services/T0/B0/X",
        "IQoJb3JpZ2luX2VjEJr0123456789abcdef",
        "abc8Q~abcdefghijklmnopqrstuvwxyz01234",
    ),
    *INNOCENT_WORDS,
]
log_like_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=12).map("".join)


@settings(max_examples=800)
@given(log_like_text)
def test_redacting_twice_changes_nothing_more(line: str) -> None:
    once = redact_line(line)
    assert redact_line(once) == once


@settings(max_examples=300)
@given(st.lists(st.one_of(log_like_text, st.sampled_from([*BODY, "-----END PRIVATE KEY-----"])), max_size=10))
def test_redacting_a_window_twice_changes_nothing_more(lines: list[str]) -> None:
    once = redact_lines(lines)
    assert len(once) == len(lines)
    assert redact_lines(once) == once


@settings(max_examples=500)
@given(st.one_of(st.text(), log_like_text))
def test_any_text_is_redacted_without_error_and_each_marker_stands_for_at_least_one_character(line: str) -> None:
    assume(MARKER not in line)
    redacted = redact_line(line)
    markers = redacted.count(MARKER)
    assert len(redacted) - len(line) <= markers * (len(MARKER) - 1)
    assert redact_lines([line]) == [redacted]
