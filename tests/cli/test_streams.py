"""``sealtrail streams``: the operator manages a tenant's streams without an API key."""

from __future__ import annotations

from .conftest import Cli

SYSLOG = ("--syslog", "127.0.0.1:9", "--format", "cef")


def test_create_list_pause_resume_replay_and_delete(cli: Cli) -> None:
    made = cli.json(
        "streams", "create", "--tenant", "acme", "--name", "siem",
        "--webhook", "https://siem.example.com/hook", "--format", "ocsf",
        "--filter", "action:auth.*",
    )  # fmt: skip
    assert made["secret"].startswith("whsec_") and made["status"] == "active"
    assert made["destination"] == {"type": "webhook", "url": "https://siem.example.com/hook"}
    sid = made["id"]
    plain = cli.run("streams", "create", "--tenant", "acme", "--name", "logs", *SYSLOG)
    assert b"syslog://127.0.0.1:9" in plain.stdout and b"whsec_" not in plain.stdout
    listed = cli.json("streams", "list", "--tenant", "acme")["streams"]
    assert [s["name"] for s in listed] == ["siem", "logs"]
    assert all("secret" not in s for s in listed)
    assert cli.json("streams", "pause", "--tenant", "acme", sid)["status"] == "paused"
    assert cli.json("streams", "resume", "--tenant", "acme", sid)["status"] == "active"
    replayed = cli.json("streams", "replay", "--tenant", "acme", sid, "--from-seq", "0")
    assert replayed["delivery"]["next_seq"] == 0
    text = cli.run("streams", "list", "--tenant", "acme").stdout.decode()
    assert f"{sid}  siem  active  ocsf  https://siem.example.com/hook" in text
    cli.run("streams", "delete", "--tenant", "acme", sid)
    actions = [
        e["action"]
        for e in cli.json("search", "action:audit_log.*", "--tenant", "acme", "--order", "asc")[
            "events"
        ]
    ]
    assert actions == [
        "audit_log.stream_created",
        "audit_log.stream_created",
        "audit_log.stream_paused",
        "audit_log.stream_resumed",
        "audit_log.stream_replayed",
        "audit_log.stream_deleted",
    ]


def test_a_failed_test_and_bad_input_are_one_line(cli: Cli) -> None:
    sid = cli.json("streams", "create", "--tenant", "acme", "--name", "s", *SYSLOG)["id"]
    failed = cli.run("streams", "test", "--tenant", "acme", sid, check=False)
    assert failed.returncode == 1
    assert failed.stderr.decode().startswith("not delivered: ")
    assert len(failed.stderr.decode().strip().splitlines()) == 1
    logged = cli.json("streams", "deliveries", "--tenant", "acme", sid)["deliveries"]
    assert logged[0]["kind"] == "test" and logged[0]["delivered"] is False
    bad = cli.run(
        "streams", "create", "--tenant", "acme", "--name", "x", "--syslog", "h:1",
        "--filter", "action:", check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.decode().count("\n") == 1
    both = cli.run(
        "streams", "create", "--tenant", "acme", "--name", "x", "--syslog", "h:1",
        "--webhook", "https://a.example", check=False,
    )  # fmt: skip
    assert both.returncode == 2
    missing = cli.run("streams", "pause", "--tenant", "acme", "str_nope", check=False)
    assert missing.returncode == 1 and "no stream" in missing.stderr.decode()


def test_v1a_streams_show_their_public_key_and_rotate(cli: Cli) -> None:
    made = cli.json(
        "streams", "create", "--tenant", "acme", "--name", "ed",
        "--webhook", "https://siem.example.com/hook", "--signing", "v1a",
    )  # fmt: skip
    public_key = made["signing"]["public_key"]
    assert made["signing"]["scheme"] == "v1a" and public_key.startswith("whpk_")
    assert "secret" not in made
    shown = cli.json("streams", "show", "--tenant", "acme", made["id"])
    assert shown["signing"] == made["signing"]
    listed = cli.run("streams", "list", "--tenant", "acme").stdout.decode()
    assert f"signing=v1a {public_key}" in listed
    text = cli.run(
        "streams", "rotate-secret", "--tenant", "acme", made["id"], "--overlap", "60"
    ).stdout.decode()  # fmt: skip
    assert "v1a public key (give it to the receiver): whpk_" in text
    assert "whsk_" not in text and "shown once" not in text
    keys = cli.json("streams", "show", "--tenant", "acme", made["id"])["signing_keys"]
    assert [(k["scheme"], k["current"]) for k in keys] == [("v1a", True), ("v1a", False)]
    assert keys[1]["public_key"] == public_key
    # An own key, from a file (never on the command line).
    (cli.cwd / "hook.key").write_text("whsec_" + "a2V5" * 11 + "\n")
    own = cli.run(
        "streams", "create", "--tenant", "acme", "--name", "own",
        "--webhook", "https://siem.example.com/own", "--signing-secret-file", "hook.key",
    ).stdout.decode()  # fmt: skip
    assert "whsec_" not in own


def test_rekey_moves_the_secrets_to_a_new_key(cli: Cli) -> None:
    cli.json(
        "streams", "create", "--tenant", "acme", "--name", "siem",
        "--webhook", "https://siem.example.com/hook",
    )  # fmt: skip
    old = (cli.cwd / "sealtrail-stream-secrets.key").read_text().strip()
    new = cli.run("streams", "new-secrets-key").stdout.decode().strip()
    assert len(new) == 44 and new != old
    cli.env["SEALTRAIL_STREAM_SECRETS_KEY"] = f"{new},{old}"
    assert "re-encrypted the secrets of 1 stream(s)" in cli.run("streams", "rekey").stdout.decode()
    cli.env["SEALTRAIL_STREAM_SECRETS_KEY"] = new
    assert cli.json("streams", "list", "--tenant", "acme")["streams"][0]["signing"] == {
        "scheme": "v1"
    }
    cli.env["SEALTRAIL_STREAM_SECRETS_KEY"] = old  # the old key alone no longer opens them
    failed = cli.run("streams", "list", "--tenant", "acme", check=False)
    assert failed.returncode != 0 and "stream_secrets_key" in failed.stderr.decode()


def test_private_destinations_are_refused_unless_allowed(cli: Cli) -> None:
    cli.env["SEALTRAIL_STREAM_ALLOW_PRIVATE_DESTINATIONS"] = "false"
    refused = cli.run("streams", "create", "--tenant", "acme", "--name", "x", *SYSLOG, check=False)
    assert refused.returncode == 1 and "loopback" in refused.stderr.decode()
    cli.env["SEALTRAIL_STREAM_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    cli.run("streams", "create", "--tenant", "acme", "--name", "x", *SYSLOG)
