"""SecretValue: every wire form reads, secrets never show in repr/str, and the wire form written keeps them secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from bot.pulumi.models import REDACTED, DeploymentSettings, OperationContext, SecretValue

PLAINTEXT = "hunter2-very-secret"
CIPHERTEXT = "AAAABBBBCCCCdGhpcyBpcyBjaXBoZXJ0ZXh0"


@pytest.mark.parametrize(
    ("wire", "is_secret", "plaintext", "ciphertext", "written"),
    [
        ("us-west-2", False, "us-west-2", None, "us-west-2"),
        ({"secret": PLAINTEXT}, True, PLAINTEXT, None, {"secret": PLAINTEXT}),
        ({"ciphertext": CIPHERTEXT}, True, None, CIPHERTEXT, {"ciphertext": CIPHERTEXT}),
        ({"secret": REDACTED, "ciphertext": CIPHERTEXT}, True, None, CIPHERTEXT, {"ciphertext": CIPHERTEXT}),
        ({"isSecret": True, "value": PLAINTEXT}, True, PLAINTEXT, None, {"secret": PLAINTEXT}),
        ({"isSecret": False, "value": "us-west-2"}, False, "us-west-2", None, "us-west-2"),
        ({"secret": REDACTED}, True, None, None, {"secret": REDACTED}),
    ],
    ids=["bare-string", "secret", "ciphertext", "redacted+ciphertext", "explicit-secret", "explicit-plain", "redacted"],
)
def test_every_wire_form_reads_and_writes_back_its_secret_keeping_form(
    wire: object, is_secret: bool, plaintext: str | None, ciphertext: str | None, written: object
) -> None:
    value = SecretValue.from_wire(wire)
    assert value.is_secret is is_secret
    assert value.reveal() == plaintext
    assert value.ciphertext == ciphertext
    assert value.to_wire() == written


@pytest.mark.parametrize(
    "value",
    [
        SecretValue.secret(PLAINTEXT),
        SecretValue.secret(SecretStr(PLAINTEXT)),
        SecretValue.from_wire({"secret": PLAINTEXT, "ciphertext": CIPHERTEXT}),
        SecretValue.from_wire({"isSecret": True, "value": PLAINTEXT}),
        SecretValue.encrypted(CIPHERTEXT),
    ],
)
def test_repr_and_str_never_show_a_secret_or_its_ciphertext(value: SecretValue) -> None:
    for shown in (repr(value), str(value), f"{value}", repr([value]), repr({"k": value})):
        assert PLAINTEXT not in shown
        assert CIPHERTEXT not in shown
    assert "*" in str(value)


def test_a_known_ciphertext_is_sent_instead_of_the_plaintext() -> None:
    both = SecretValue.from_wire({"secret": PLAINTEXT, "ciphertext": CIPHERTEXT})
    assert both.to_wire() == {"ciphertext": CIPHERTEXT}


def test_plain_values_are_shown_because_they_are_not_secret() -> None:
    assert str(SecretValue.plain("us-west-2")) == "us-west-2"
    assert "us-west-2" in repr(SecretValue.plain("us-west-2"))


def test_secrets_inside_models_stay_hidden_in_the_model_repr() -> None:
    settings = DeploymentSettings.model_validate(
        {"operationContext": {"environmentVariables": {"TOKEN": {"secret": PLAINTEXT}, "REGION": "eu-west-1"}}}
    )
    assert PLAINTEXT not in repr(settings)
    assert PLAINTEXT not in str(settings)
    assert "eu-west-1" in repr(settings)
    # Sending it back keeps the value a secret rather than downgrading it to a bare (plaintext) string.
    assert settings.to_wire() == {
        "operationContext": {"environmentVariables": {"TOKEN": {"secret": PLAINTEXT}, "REGION": "eu-west-1"}}
    }


@pytest.mark.parametrize(
    ("wire", "complaint"),
    [
        (5, "must be a string or an object"),
        ({}, "needs"),
        ({"secret": 5}, "must be strings"),
        ({"ciphertext": ""}, "needs"),
        ({"isSecret": "yes", "value": PLAINTEXT}, "isSecret"),
        ({"isSecret": True, "value": 7}, "isSecret"),
    ],
)
def test_malformed_secret_values_are_rejected_with_a_reason_that_does_not_repeat_them(
    wire: object, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        SecretValue.from_wire(wire)
    assert PLAINTEXT not in str(caught.value)


def test_a_malformed_secret_inside_a_model_is_a_validation_error_at_its_position() -> None:
    with pytest.raises(ValidationError) as caught:
        OperationContext.model_validate({"environmentVariables": {"X": 12}})
    assert caught.value.errors()[0]["loc"] == ("environmentVariables", "X")


def test_equality_and_hash_follow_the_value() -> None:
    assert SecretValue.encrypted(CIPHERTEXT) == SecretValue.from_wire({"secret": REDACTED, "ciphertext": CIPHERTEXT})
    assert SecretValue.plain("a") != SecretValue.secret("a")
    assert len({SecretValue.plain("a"), SecretValue.plain("a"), SecretValue.secret("a")}) == 2


def test_a_non_secret_needs_a_value_and_ciphertext_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="non-secret"):
        SecretValue(is_secret=False)
    with pytest.raises(ValueError, match="empty"):
        SecretValue.encrypted("")


secret_values = st.one_of(
    st.text().map(SecretValue.plain),
    st.text().filter(lambda text: text != REDACTED).map(SecretValue.secret),
    st.text(min_size=1).map(SecretValue.encrypted),
)


@given(secret_values)
def test_what_is_written_reads_back_as_the_same_value(value: SecretValue) -> None:
    assert SecretValue.from_wire(value.to_wire()) == value
    restored = OperationContext.model_validate({"environmentVariables": {"V": value.to_wire()}})
    assert restored.environment_variables == {"V": value}
