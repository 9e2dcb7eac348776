"""The service configuration: what a bad file says, what the environment overrides, secrets masked."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from iso20k_sync.cli import app
from iso20k_sync.config import load_config
from iso20k_sync.errors import InputError

runner = CliRunner()

GOOD = """\
data_dir: state
plans:
  - name: acme
    start: 2027-01-04
    parameters: {staff_in_scope: 120}
    calendar: {country: GB}
    tracker: {kind: workbook, path: acme.xlsx}
    digest: {recipients: [cio@acme.example]}
"""


@pytest.fixture
def write(tmp_path):
    def write(text: str):
        path = tmp_path / "iso20k-sync.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def test_a_good_configuration_resolves_paths_against_its_file(write, tmp_path):
    config = load_config(write(GOOD))
    plan = config.plan(None)
    assert config.data_dir == tmp_path / "state"
    assert config.database_url() == f"sqlite:///{tmp_path / 'state' / 'iso20k-sync.db'}"
    assert config.tracker_location(plan) == str(tmp_path / "state" / "acme.xlsx")
    assert plan.plan_key == "acme"
    assert plan.calendar.spec().country == "GB"


def test_the_environment_overrides_the_file(write, tmp_path, monkeypatch):
    monkeypatch.setenv("ISO20K_STORE_URL", "postgresql+psycopg://iso:s3cret@db/iso")
    config = load_config(write(GOOD))
    assert config.database_url() == "postgresql+psycopg://iso:s3cret@db/iso"
    assert "s3cret" not in repr(config) and "s3cret" not in config.model_dump_json()


def test_secrets_come_from_secret_files(write, tmp_path, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ISO20K_STORE_URL").write_text("postgresql+psycopg://iso:fromfile@db/iso")
    monkeypatch.setenv("ISO20K_SECRETS_DIR", str(secrets))
    assert load_config(write(GOOD)).database_url() == "postgresql+psycopg://iso:fromfile@db/iso"


def test_a_password_in_the_file_is_refused(write):
    path = write("store_url: postgresql+psycopg://iso:s3cret@db/iso\n" + GOOD)
    with pytest.raises(InputError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}:1: store_url: contains a password" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("kind: workbook", "kind: excel"),
            ":7: plans[0].tracker: kind 'excel' is not one of 'workbook', 'jira'",
        ),
        (("start: 2027-01-04", "start: next week"), ":4: plans[0].start: Input should be a valid date"),
        (("start: 2027-01-04", "start: 2026-13-07"), ":4: plans[0].start: Input should be a valid date"),
        (
            ("cio@acme.example", "cio at acme"),
            ":8: plans[0].digest.recipients[0]: String should match pattern",
        ),
        (("    digest:", "    digests:"), ":8: plans[0].digests: unknown key"),
        (
            ("    digest: {recipients:", "    sponsors: {recipients:"),
            ":3: plans[0]: sponsors moved to digest.recipients",
        ),
    ],
)
def test_bad_fields_are_named_with_file_line_and_path(write, change, expected):
    path = write(GOOD.replace(*change))
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert f"{path}{expected}" in str(caught.value)


def test_config_check_masks_secrets_and_checks_the_plan(write, monkeypatch, tmp_path):
    monkeypatch.setenv("ISO20K_STORE_URL", "postgresql+psycopg://iso:s3cret@db/iso")
    result = runner.invoke(app, ["config", "check", "-c", str(write(GOOD)), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.stdout
    shown = json.loads(result.stdout)
    assert shown["store"] == "postgresql+psycopg://iso:***@db/iso"
    assert shown["store_url"] == "**********"
    assert not (tmp_path / "state").exists()  # checking writes nothing


def test_config_check_reports_a_bad_parameter_by_its_place_and_exits_2(write, tmp_path):
    path = write(GOOD.replace("{staff_in_scope: 120}", "{staff_in_scope: many}"))
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5: plans[0].parameters.staff_in_scope: expected a number, got 'many'" in result.stderr
    assert not (tmp_path / "state").exists()


def test_a_missing_configuration_says_how_to_make_one(tmp_path):
    result = runner.invoke(app, ["seed", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert (
        "nope.yaml: configuration file not found; create one with `iso20k-sync quickstart DIR`"
        in result.stderr
    )
    assert list(tmp_path.iterdir()) == []


def test_seed_with_a_bad_plan_writes_nothing(write, tmp_path):
    path = write(GOOD.replace("{staff_in_scope: 120}", "{staff_in_scop: 120}"))
    result = runner.invoke(app, ["seed", "-c", str(path)])
    assert result.exit_code == 2
    assert "plans[0].parameters.staff_in_scop: unknown parameter" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iso20k-sync.yaml"]


MAIL = """\
mail:
  sender: iso20k@acme.example
  smtp: {host: smtp.acme.example, username: iso20k}
service: {sync_time: "05:30", http: {port: 9100}}
"""


def test_mail_and_service_sections_and_their_secret(write, monkeypatch):
    path = write(MAIL + GOOD)
    monkeypatch.delenv("ISO20K_SMTP_PASSWORD", raising=False)
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 2
    assert "mail.smtp.password_env: the secret is not set" in " ".join(result.stderr.split())
    monkeypatch.setenv("ISO20K_SMTP_PASSWORD", "pw-123")
    result = runner.invoke(app, ["config", "check", "-c", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["service"]["sync_time"] == "05:30:00" and "pw-123" not in result.stdout


@pytest.mark.parametrize(
    ("mail", "expected"),
    [
        (
            "mail: {sender: a@b.example, smtp: {host: mail.example, security: none}}",
            "only allowed to localhost",
        ),
        ("mail: {sender: a@b.example}", "give exactly one of smtp or graph"),
        ("service: {sync_time: 6}", "write the time in quotes"),
    ],
)
def test_unsafe_or_incomplete_mail_settings_are_refused(write, mail, expected):
    with pytest.raises(InputError, match=expected):
        load_config(write(mail + "\n" + GOOD))
