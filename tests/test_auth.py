"""Access configuration: who signs in, their role, and where the server may listen."""

import json
import os
import subprocess
import sys

import pytest

from dashboard.auth import AccessConfig, AccessError, Role, check_listen, is_loopback, load_users
from dashboard.privacy import Privacy

SECRET = "Vq3xK9pLm2RtY7wZ4cN8bH6jD1fG5sA0"  # 32 random characters


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"alice": {"password": "alice-pw-123", "role": "admin"},
                                "bob": {"password": "bob-pw-456", "role": "viewer"},
                                "carol": {"password": "carol-pw-789"}}))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("address, loopback", [("127.0.0.1", True), ("::1", True), ("[::1]", True),
                                               ("localhost", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                               ("::", False), ("", False), (None, False), ("192.168.1.5", False),
                                               ("example.org", False)])
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_the_server_listens_beyond_loopback_only_with_sign_in(users_file):
    check_listen("127.0.0.1", AccessConfig())
    for address in ("0.0.0.0", "::", "", "10.0.0.7"):
        with pytest.raises(AccessError, match="refusing to listen .* without authentication.*--users FILE"):
            check_listen(address, AccessConfig())
    check_listen("0.0.0.0", AccessConfig.from_options(users_file=users_file, cookie_secret=SECRET))
    check_listen("0.0.0.0", AccessConfig.from_options(oauth_provider="github", oauth_key="id", oauth_secret="s",
                                                      cookie_secret=SECRET))


def test_sign_in_needs_a_long_enough_cookie_secret(users_file):
    with pytest.raises(AccessError, match="cookie secret.*FLOWLOGS_COOKIE_SECRET"):
        AccessConfig.from_options(users_file=users_file)
    with pytest.raises(AccessError, match="too short or too simple"):
        AccessConfig.from_options(users_file=users_file, cookie_secret="short")
    with pytest.raises(AccessError, match="oauth-key and --oauth-secret"):
        AccessConfig.from_options(oauth_provider="github", cookie_secret=SECRET)
    with pytest.raises(AccessError, match="not both"):
        AccessConfig.from_options(users_file=users_file, oauth_provider="github", oauth_key="k", oauth_secret="s",
                                  cookie_secret=SECRET)


def test_roles_from_the_users_file_and_panel_gets_only_name_and_password(users_file):
    access = AccessConfig.from_options(users_file=users_file, cookie_secret=SECRET, hide_ai_text=True)
    # a name not in the file (removed, or never there) is no one: refused, not a viewer
    assert [access.role_of(u) for u in ("alice", "bob", "carol", "mallory", None)] == [
        Role.ADMIN, Role.VIEWER, Role.VIEWER, None, None]
    assert access.panel_options() == {"basic_auth": {"alice": "alice-pw-123", "bob": "bob-pw-456",
                                                     "carol": "carol-pw-789"}, "cookie_secret": SECRET}
    assert "pw" not in repr(access) and SECRET not in repr(access)  # never in a log line
    assert access.privacy_for(Role.VIEWER) == Privacy(hide_ai_text=True)
    assert access.privacy_for(Role.ADMIN) == Privacy()


def test_oauth_admins_by_name_everyone_else_a_viewer():
    access = AccessConfig.from_options(oauth_provider="github", oauth_key="id", oauth_secret="s",
                                       cookie_secret=SECRET, admins="Alice@x.org, bob")
    assert access.role_of("alice@x.org") == Role.ADMIN and access.role_of("bob") == Role.ADMIN
    assert access.role_of("eve") == Role.VIEWER
    assert access.panel_options()["oauth_provider"] == "github"


def test_without_sign_in_the_local_user_is_the_admin():
    assert AccessConfig().role_of(None) == Role.ADMIN


def test_a_users_file_as_toml_and_bad_files_are_explained_without_quoting_passwords(tmp_path):
    toml = tmp_path / "users.toml"
    toml.write_text('[alice]\npassword = "pw-alice"\nrole = "admin"\n')
    assert load_users(toml)["alice"].role == Role.ADMIN
    broken = tmp_path / "broken.json"
    broken.write_text('{"alice": {"password": "top-secret-pw", "role": "admin",}}')
    with pytest.raises(AccessError) as info:
        load_users(broken)
    assert "top-secret-pw" not in str(info.value) and "not valid JSON" in str(info.value)
    bad_role = tmp_path / "role.json"
    bad_role.write_text('{"alice": {"password": "pw", "role": "root"}}')
    with pytest.raises(AccessError, match="roles are viewer and admin"):
        load_users(bad_role)
    bad_role.write_text('{"alice": {"role": "admin"}}')
    with pytest.raises(AccessError, match="needs a non-empty"):
        load_users(bad_role)


def test_flowlogs_serve_refuses_an_open_address_and_says_how_to_sign_in(tmp_path, users_file):
    def serve(*args, env=None):
        return subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--data", str(tmp_path / "logs"),
                               *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, **(env or {})})

    result = serve("--address", "0.0.0.0")
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr and "--users" in result.stderr
    assert "--oauth-provider" in result.stderr and "FLOWLOGS_COOKIE_SECRET" in result.stderr
    result = serve("--address", "0.0.0.0", "--users", str(users_file), env={"FLOWLOGS_COOKIE_SECRET": ""})
    assert result.returncode == 2 and "cookie secret" in result.stderr
    assert "alice-pw" not in result.stderr + result.stdout
    assert not (tmp_path / "logs").exists()  # refused before anything was created


@pytest.mark.parametrize("secret", ["x" * 32, "a" * 16, "ab" * 20, "0123456789", "password" * 3])
def test_a_cookie_secret_nobody_generated_is_refused_with_how_to_make_one(users_file, secret):
    with pytest.raises(AccessError) as info:
        AccessConfig.from_options(users_file=users_file, cookie_secret=secret)
    message = str(info.value)
    assert "too short or too simple" in message and "secrets.token_urlsafe(32)" in message
    assert secret not in message  # the secret is never repeated in an error


def test_random_cookie_secrets_of_sixteen_characters_and_more_are_accepted(users_file):
    import secrets

    for _ in range(50):
        for size in (12, 24, 32):  # token_urlsafe(12) is 16 characters
            AccessConfig.from_options(users_file=users_file, cookie_secret=secrets.token_urlsafe(size))
    AccessConfig.from_options(users_file=users_file, cookie_secret="test-cookie-secret-0123456789abcdef")


def test_a_users_file_others_can_read_is_refused_beyond_loopback_and_said_on_loopback(users_file, caplog):
    users_file.chmod(0o644)
    access = AccessConfig.from_options(users_file=users_file, cookie_secret=SECRET)
    assert f"chmod 600 {users_file}" in caplog.text  # loaded with a warning
    check_listen("127.0.0.1", access)  # this machine only: served
    for address in ("0.0.0.0", "10.0.0.7"):
        with pytest.raises(AccessError, match=f"read by other users of this machine. Run `chmod 600 {users_file}`"):
            check_listen(address, access)
    users_file.chmod(0o600)
    check_listen("0.0.0.0", access)


def test_flowlogs_serve_refuses_a_weak_secret_and_an_open_users_file(tmp_path, users_file):
    def serve(*args, secret):
        return subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--data", str(tmp_path / "logs"),
                               *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "FLOWLOGS_COOKIE_SECRET": secret})

    result = serve("--address", "0.0.0.0", "--users", str(users_file), secret="a" * 16)
    assert result.returncode == 2 and "too short or too simple" in result.stderr
    users_file.chmod(0o644)
    result = serve("--address", "0.0.0.0", "--users", str(users_file), secret=SECRET)
    assert result.returncode == 2 and "chmod 600" in result.stderr
    assert not (tmp_path / "logs").exists()
