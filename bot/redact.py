"""Redacting credentials from deployment log lines before they are posted to Slack: by the shape of known tokens,
by the secret-looking key a value is assigned to, and private-key blocks, also when they span several lines.

Choices (judgement calls, written down so that changing one is a conscious act):
- Only the secret is replaced by MARKER. The key, quotes, separators, an auth scheme (``Bearer``) and a vendor's
  prefix (``ghp_``, ``xoxb-``, ``AKIA``, ``hooks.slack.com/services/``) stay, so a reader knows what to rotate.
- A key is split into words (``AWS_SECRET_ACCESS_KEY``, ``dbPassword``, ``X-Api-Key``). It is secret when a word
  contains password, passwd, passphrase, secret, credential, apikey, accesskey, privatekey or accountkey; ends in
  "token"; is auth, authorization, pwd, creds, session, sessionid, cookie, sig or signature; or is "key" after api,
  access, private, account, signing, encryption, master, ssh, client or storage. It is not when its last word says
  the value is *about* a secret: ``token_count``, ``secret_name``, ``password_file``, ``token_expires_at`` (see
  _ABOUT_A_SECRET). "tokens", "key" and "pass" alone are not secret: they are counters and lookups far more often.
- An unquoted value runs to whitespace, ``&`` or ``;`` (the delimiters of query and connection strings, where a
  secret holding them would have to be encoded or quoted). A quoted value runs to its closing quote.
- Left as they are: null, none, nil, true, false, undefined, ``$VAR``/``${VAR}`` references, ``***`` masks and
  Pulumi's ``[secret]`` (none is a secret, and each says something useful), and a JSON object or array after a
  quoted key, whose own keys are redacted one by one.
- ``name: label: …`` is a wrapped error (``getting credentials: exec: not found``): a value ending in ``:`` after
  a colon is the next label, not a secret.
- ``name:value`` with no space whose name follows ``:`` or ``/`` is part of a Pulumi type token or URN
  (``aws:secretsmanager/secret:Secret``), not an assignment.
- ``--secret`` in ``pulumi config set`` is a switch, so every argument after the config key is redacted; the key is
  too, since ``--secret VALUE`` takes a value in other tools.
- Not redacted: hex SHAs, UUIDs, URNs, timestamps, counters, certificates and public keys; AWS secret keys and other
  bare 40-character base64 strings with no secret-looking key (indistinguishable from hashes); AWS role and user ids
  (AROA…, AIDA…), which name a principal but do not authenticate as it.
- Known gaps: a key and its value on different lines (YAML ``- name: DB_PASSWORD`` / ``value: …``), a value after
  a bare word (Dockerfile ``ENV PASSWORD x``) or a short switch (``docker login -p …``). Prose can lose a word:
  ``could not get token: authentication required`` hides "authentication", the price of never keeping a password.
- Linear time: every pattern starts at a fixed prefix or at the start of a run of its own characters, and
  quantifiers that could retry are possessive, so no line can make a pattern backtrack badly; a line is passed over
  at most _MAX_PASSES times.
"""

from __future__ import annotations

import re

MARKER = "[redacted]"
_MARKER_RUN = re.compile(f"(?:{re.escape(MARKER)}){{2,}}")
_MAX_PASSES = 4

# Scanners such as detect-secrets and gitleaks report findings; none rewrites a line in place keeping its shape,
# which is what a Slack message needs. The shapes follow the vendors' documented token formats.
_SHAPES = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?P<keep>pul-)[0-9a-fA-F]{32,}+",  # Pulumi access token
        r"(?P<keep>xoxe\.xox[a-z]-|xox[a-z]-|xapp-)[A-Za-z0-9-]{8,}+",  # Slack tokens
        r"(?P<keep>hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]++",  # Slack webhook
        r"(?<![A-Za-z0-9])(?P<keep>AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS key id
        r"(?P<keep>)(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdz)[A-Za-z0-9/+=]{20,}+",  # AWS session token
        r"(?P<keep>AIza)[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])",  # Google API key
        r"(?P<keep>ya29\.|GOCSPX-)[A-Za-z0-9_-]{20,}+",  # Google OAuth token, client secret
        r"(?P<keep>gh[pousr]_)[A-Za-z0-9]{30,}+",  # GitHub tokens
        r"(?P<keep>github_pat_)[A-Za-z0-9_]{22,}+",  # GitHub fine-grained token
        r"(?<![A-Za-z0-9_-])(?P<keep>)eyJ[A-Za-z0-9_-]{4,}+\.[A-Za-z0-9_-]{4,}+\.[A-Za-z0-9_-]*+",  # JWT
        r"(?<![A-Za-z0-9_~.-])(?P<keep>)[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",  # Azure AD
    )
)
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])(?P<keep>[A-Za-z][A-Za-z0-9+.-]*+://[^\s:/?#@]*+:)[^\s/?#]*@")

_PEM_LABEL = r" [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----"
_PEM_BEGIN = re.compile("-----BEGIN" + _PEM_LABEL)
_PEM_END = re.compile("-----END" + _PEM_LABEL)
# A block's body, up to its END or the end of the line; or, for an END whose BEGIN was cut off, the run before it.
_PEM_BODY = re.compile(
    rf"(?P<begin>{_PEM_BEGIN.pattern})(?P<body>.*?)(?={_PEM_END.pattern}|\Z)"
    rf"|(?<![^\s\"'-])(?P<tail>[^\s\"'-]*?)(?={_PEM_END.pattern})",  # base64 has no dash; armour has
    re.DOTALL,
)
# A body line that is already MARKER is not one: redacting the output again must not reach further back.
_PEM_BODY_LINE = re.compile(r"\s*(?P<base64>[A-Za-z0-9+/]++=*+)\s*")
_PEM_MIN_WIDTH = 40

# `name` then `=`, `:`, `:=` or `=>` (spaces allowed around), or `--name` then a space; optionally quoted.
_ASSIGNMENT = re.compile(
    r"""(?<![A-Za-z0-9_.$-])
    (?P<open>\\?["'])?+
    (?P<flag>--?)?+
    (?P<key>[A-Za-z_][A-Za-z0-9_.-]*+)
    (?P<close>\\?["'])?+
    (?:[ \t]*+(?P<sep>:=|=>|=|:)[ \t]*+|(?(flag)[ \t]++|(?!)))""",
    re.VERBOSE,
)
# An unquoted value; a quote opened before the key and not closed after it (`"PASSWORD=x"`) also ends it.
_UNQUOTED = {opened: re.compile(rf"[^\s&;{re.escape(opened)}]++") for opened in ("", '"', "'", '\\"', "\\'")}
_QUOTED = re.compile(
    r"\"(?P<double>(?:[^\"\\]++|\\.?)*+)\"?"
    r"|'(?P<single>(?:[^'\\]++|\\.?)*+)'?"
    r"|\\\"(?P<escaped>(?:[^\\]++|\\(?!\"))*+)(?:\\\")?",  # JSON inside a JSON string
    re.DOTALL,
)
_SCHEME = re.compile(
    r"(?i:bearer|basic|token|bot|digest|negotiate|ntlm|apikey|sso-key|ssws|aws4-hmac-sha256)[ \t]++(?=\S)"
)
_NOT_A_SECRET = re.compile(
    r"(?i:null|none|nil|true|false|undefined)|\$\{[^}\s]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\*+|\[secret\]"
    + "|"
    + re.escape(MARKER)
)

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_STEMS = (
    *("password", "passwd", "passphrase", "secret", "credential"),
    *("apikey", "accesskey", "privatekey", "accountkey"),
)
_SECRET_WORDS = frozenset(
    {"auth", "authorization", "pwd", "creds", "session", "sessionid", "cookie", "sig", "signature"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "account", "signing", "encryption", "master", "ssh", "client", "storage"}
)
_ABOUT_A_SECRET = frozenset(
    {
        *("count", "counts", "len", "length", "size", "limit", "max", "min", "ttl", "timeout", "duration", "age"),
        *("type", "kind", "format", "mode", "method", "scheme", "scope", "scopes", "version", "status", "enabled"),
        *("expiry", "expires", "expiration", "at", "rotation", "policy", "required", "field", "header", "prompt"),
        *("name", "names", "ref", "arn", "file", "path", "dir", "url", "uri", "endpoint", "provider", "source"),
        *("env", "helper", "process", "store", "manager"),
    }
)
# One `config set` command: its arguments run to the end of the line or the next shell operator.
_CONFIG_SET = re.compile(r"(?P<command>(?<![A-Za-z0-9_-])config[ \t]++set)(?P<args>[ \t][^&|;]*+)")
_CONFIG_VALUED_SWITCHES = frozenset({"-s", "--stack", "-C", "--cwd", "--config-file", "--type"})


def redact_line(line: str) -> str:
    """``line`` with every credential it carries replaced by MARKER, and everything else as it was."""
    # Hiding one secret can expose the edge of another glued to it (`pul-…pul-…`), so repeat until nothing changes;
    # the cap keeps the work linear, and real lines settle in one pass (a second one confirms it).
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(line)
        if redacted == line:
            break
        line = redacted
    return line


def _redact_once(line: str) -> str:
    line = _PEM_BODY.sub(_redact_pem_body, line)
    for shape in _SHAPES:
        line = shape.sub(lambda found: found["keep"] + MARKER, line)
    line = _URL_PASSWORD.sub(lambda found: found["keep"] + MARKER + "@", line)
    line = _redact_assignments(_CONFIG_SET.sub(_redact_config_set, line))
    return _MARKER_RUN.sub(MARKER, line)  # neighbouring pieces of one secret: one marker says as much


def redact_lines(lines: list[str]) -> list[str]:
    """Each line redacted; also the lines of a private key between its BEGIN and END lines (or the end of
    ``lines``), and, when the BEGIN line was cut off, the body lines right before a lone END."""
    redacted = [redact_line(line) for line in lines]
    inside = False
    for index, line in enumerate(lines):
        end = _PEM_END.search(line)
        if inside and end is None:
            redacted[index] = _blank(line)
            continue
        if inside and end is not None:
            redacted[index] = _blank(line[: end.start()]) + redact_line(line[end.start() :])
        elif end is not None and _orphan_end(line, end):
            _blank_body_before(lines, redacted, index)
        begins = list(_PEM_BEGIN.finditer(line))
        inside = bool(begins) and _PEM_END.search(line, begins[-1].end()) is None
    return redacted


def _redact_pem_body(found: re.Match[str]) -> str:
    if found["begin"] is not None:
        return found["begin"] + (MARKER if found["body"].strip() else found["body"])
    return MARKER if found["tail"] else ""


def _orphan_end(line: str, end: re.Match[str]) -> bool:
    return _PEM_BEGIN.search(line, 0, end.start()) is None


def _blank(text: str) -> str:
    """A private key's body line: its indentation, then MARKER (nothing if it is blank)."""
    stripped = text.lstrip()
    return text[: len(text) - len(stripped)] + MARKER if stripped else text


def _blank_body_before(lines: list[str], redacted: list[str], end_index: int) -> None:
    """The base64 lines before a lone END: the last may be short, the others are full width (64 or 70)."""
    index = end_index - 1
    while index >= 0 and (body := _PEM_BODY_LINE.fullmatch(lines[index])) is not None:
        if index < end_index - 1 and len(body["base64"]) < _PEM_MIN_WIDTH:
            return
        redacted[index] = _blank(lines[index])
        index -= 1


def _redact_assignments(line: str) -> str:
    parts: list[str] = []
    pos = 0
    while (found := _ASSIGNMENT.search(line, pos)) is not None:
        parts.append(line[pos : found.end()])
        pos = found.end()
        if _is_assignment(line, found) and _is_secret_key(found["key"]):
            start, end = _value_span(line, pos, found)
            if end > start:
                parts.append(line[pos:start] + MARKER)
                pos = end
    parts.append(line[pos:])
    return "".join(parts)


def _is_assignment(line: str, found: re.Match[str]) -> bool:
    if found["sep"] is None:  # `--name value`: what starts with a dash is the next switch, not a value
        return not line.startswith("-", found.end())
    # `aws:secretsmanager/secret:Secret` is a Pulumi type token: an unquoted name after `:` or `/`, a bare colon.
    after_path = line[found.start() - 1 : found.start()] in (":", "/")
    return not (after_path and found["open"] is None and found["sep"] == ":" and line[found.end() - 1] == ":")


def _value_span(line: str, pos: int, found: re.Match[str]) -> tuple[int, int]:
    """Where the secret assigned at ``pos`` starts and ends; an empty span when there is nothing to hide."""
    if found["close"] is not None and line.startswith(("{", "["), pos):
        return pos, pos  # a nested object or array: its own keys are redacted one by one
    if (scheme := _SCHEME.match(line, pos)) is not None:
        pos = scheme.end()
    if (quoted := _QUOTED.match(line, pos)) is not None:
        start, end = quoted.span(quoted.lastgroup or 0)
        if (scheme := _SCHEME.match(line, start, end)) is not None:
            start = scheme.end()
        return _span_if_secret(line, start, end)
    unclosed = found["open"] if found["open"] is not None and found["close"] is None else ""
    token = _UNQUOTED[unclosed].match(line, pos)
    end = token.end() if token else pos
    if found["sep"] == ":" and line.endswith(":", pos, end):  # a wrapped error: `getting credentials: exec: …`
        return pos, pos
    return _span_if_secret(line, pos, end)


def _span_if_secret(line: str, start: int, end: int) -> tuple[int, int]:
    if start >= end or _NOT_A_SECRET.fullmatch(line, start, end):
        return start, start
    return start, end


def _redact_config_set(found: re.Match[str]) -> str:
    """``pulumi config set --secret KEY VALUE``: every positional argument after the first (the key), so a switch
    that takes a value we do not know about can only cost the key's name, never leak the value."""
    pieces = re.split(r"([ \t]+)", found["args"])  # words at even indexes, the spaces between them at odd ones
    if "--secret" not in pieces[::2]:
        return found[0]
    positional = 0
    takes_value = False
    for index in range(0, len(pieces), 2):
        word = pieces[index]
        if not word:
            continue
        if takes_value or word.startswith("-"):
            takes_value = word in _CONFIG_VALUED_SWITCHES
            continue
        positional += 1
        if positional > 1:
            pieces[index] = MARKER
    return found["command"] + "".join(pieces)


def _is_secret_key(key: str) -> bool:
    """Whether a value assigned to ``key`` is a secret (see the module docstring for the rules)."""
    words = [word.lower() for word in _WORDS.findall(key)]
    if not words or words[-1] in _ABOUT_A_SECRET:
        return False
    for index, word in enumerate(words):
        if word in _SECRET_WORDS or word.endswith("token") or any(stem in word for stem in _SECRET_STEMS):
            return True
        if word == "key" and index > 0 and words[index - 1] in _KEY_QUALIFIERS:
            return True
    return False
