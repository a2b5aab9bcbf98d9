"""``realvoice users``: a key printed once on standard output, listed by its first characters, revoked."""

from __future__ import annotations

from typer.testing import CliRunner

from realvoice.cli.users import users
from realvoice.config import Settings
from realvoice.store.db import Database
from realvoice.store.users import user_for_key

runner = CliRunner()


def test_create_list_and_revoke(tmp_path):
    made = runner.invoke(users, ["create", "carol", "--home", str(tmp_path)])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("rv_") and len(key) > 40
    db = Database(Settings(home=tmp_path).db_url)
    assert user_for_key(db, key) == "carol"

    listed = runner.invoke(users, ["list", "--home", str(tmp_path)])
    assert listed.exit_code == 0 and "carol" in listed.output and key[:10] in listed.output
    assert key not in listed.output

    revoked = runner.invoke(users, ["revoke", "carol", "--home", str(tmp_path)])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.output
    assert user_for_key(db, key) is None
    assert runner.invoke(users, ["revoke", "carol", "--home", str(tmp_path)]).exit_code == 1


def test_a_malformed_name_is_refused(tmp_path):
    r = runner.invoke(users, ["create", "../root", "--home", str(tmp_path)])
    assert r.exit_code == 2 and "malformed user id" in r.output
