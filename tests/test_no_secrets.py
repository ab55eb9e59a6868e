"""No secret in the repository: keys, cloud credentials, secret keys, passwords in config.

The files scanned are those git tracks (or, without git, the tree minus the
virtualenv, git's own folder and what .gitignore keeps out). Secrets made at
run time (the secret key, the demo accounts file) live in the instance
folder, which git ignores.
"""
import fnmatch
import os
import re
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_SECRET_KEY = "test-secret-key-not-for-production"
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache",
                "instance"}
CONFIG_FILE_PATTERNS = ("config.py", "*.ini", "*.cfg", "*.toml", "*.yml", "*.yaml", ".env*",
                        "*.env", "Makefile", "Dockerfile", "docker-compose*", "*.service")
# Placeholders the documentation may show in example URLs.
DOC_PLACEHOLDERS = {"pass", "password", "secret", "change-me", "changeme", "xxx", "..."}
NEVER_TRACKED = ("instance/*", "*.db", "*.sqlite", "*.sqlite3", "*secret_key", "*.pem", "*.key",
                 "*id_rsa*", ".env", "*demo-accounts*", "*.pgdump", "*.tar.gz")

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY( BLOCK)?-----")
AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
AWS_SECRET = re.compile(r"(?i)aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}")
SECRET_KEY_LITERAL = re.compile(r"\b\w*SECRET_KEY\b['\"]?\]?\s*[:=]\s*['\"]([^'\"]+)['\"]")
# In tests, besides the test key, a short dummy (e.g. an environment-parsing case) is no key.
TEST_DUMMY_MAX = 15
PASSWORD_LITERAL = re.compile(
    r"(?i)\b\w*(?:password|passwd)\w*\b['\"]?\s*[:=]\s*['\"]([^'\"]+)['\"]")
URL_PASSWORD = re.compile(
    r"\b(?:postgres(?:ql)?|mysql|redis|rediss|amqp|smtp)(?:\+\w+)?://[^/\s:@'\"]+:([^@\s/'\"]+)@")


def tracked_files(root=ROOT):
    """Paths (relative, with /) of the files git tracks; a filtered walk without git."""
    if shutil.which("git") and os.path.isdir(os.path.join(root, ".git")):
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                                check=True).stdout.decode("utf-8")
        return [path for path in listed.split("\0") if path and os.path.isfile(
            os.path.join(root, path))]
    ignored = _gitignore_patterns(root)
    found = []
    for directory, dirs, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not _ignored(
            _join(relative_dir, d) + "/", ignored)]
        found += [_join(relative_dir, name) for name in files
                  if not _ignored(_join(relative_dir, name), ignored)]
    return found


def _join(directory, name):
    return name if directory == "." else f"{directory}/{name}"


def _gitignore_patterns(root):
    path = os.path.join(root, ".gitignore")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as gitignore:
        return [line.strip() for line in gitignore if line.strip() and not line.startswith("#")]


def _ignored(path, patterns):
    for pattern in patterns:
        bare = pattern.rstrip("/")
        if pattern.endswith("/") and not path.endswith("/") and "/" + bare + "/" not in "/" + path:
            continue
        if (fnmatch.fnmatch(path.rstrip("/"), bare) or fnmatch.fnmatch(os.path.basename(
                path.rstrip("/")), bare) or ("/" + bare + "/") in ("/" + path)):
            return True
    return False


def _is_config(path):
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(name, pattern) for pattern in CONFIG_FILE_PATTERNS)


def findings(path, text):
    """What in ``text`` (the content of ``path``) looks like a committed secret."""
    found = []
    in_tests = path.startswith("tests/")
    is_doc = path.endswith((".md", ".rst", ".txt"))
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{number}"
        if PRIVATE_KEY.search(line):
            found.append(f"{where}: private key")
        if AWS_KEY_ID.search(line) or AWS_SECRET.search(line):
            found.append(f"{where}: AWS credentials")
        for match in SECRET_KEY_LITERAL.finditer(line):
            value = match.group(1)
            if not (in_tests and (value == TEST_SECRET_KEY or len(value) <= TEST_DUMMY_MAX)):
                found.append(f"{where}: hard-coded secret key")
        if _is_config(path) and PASSWORD_LITERAL.search(line):
            found.append(f"{where}: password in configuration")
        for match in URL_PASSWORD.finditer(line):
            if not (is_doc and match.group(1).lower() in DOC_PLACEHOLDERS):
                found.append(f"{where}: password in a connection URL")
    return found


def test_the_scanner_finds_each_kind_of_secret():
    """Each rule fires on a planted sample (built by parts so this file stays clean)."""
    samples = {
        "app/keys.py": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "app/cloud.py": "KEY_ID = '" + "AKIA" + "ABCDEFGHIJKLMNOP'",
        "run.py": "app.config['SECRET" + "_KEY'] = 'hunter2-but-longer'",
        "tests/test_x.py": "SECRET" + "_KEY = 'another-value-of-some-length'",
        "config.py": "MAIL_PASS" + "WORD = 'p4ss'",
        "app/db.py": "URL = 'postgresql://cs:" + "s3cr3t@db/cs'",
        "README.md": "postgresql://cs:" + "Real-Passw0rd@db/cs",
    }
    for path, text in samples.items():
        assert findings(path, text), path
    clean = {
        "tests/conftest.py": "'SECRET" + f"_KEY': '{TEST_SECRET_KEY}',",
        "config.py": "MAIL_PASS" + "WORD = os.environ.get('MAIL_PASSWORD')",
        "README.md": "export DATABASE_URL=postgresql://cs:" + "secret@db.internal/cs",
        "app/setup.py": "password = generate_password()",
    }
    for path, text in clean.items():
        assert not findings(path, text), path


def test_no_secret_in_the_tracked_files():
    files = tracked_files()
    assert "config.py" in files and "app/__init__.py" in files  # the scan saw the project
    found = []
    for path in files:
        try:
            with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
                text = handle.read()
        except (UnicodeDecodeError, OSError):
            continue  # binary files (fonts, images)
        found += findings(path, text)
    assert not found, "\n".join(found)


def test_runtime_secrets_are_never_tracked_and_are_ignored():
    files = tracked_files()
    tracked = [path for path in files
               if any(fnmatch.fnmatch(path, pattern) for pattern in NEVER_TRACKED)]
    assert not tracked, tracked
    # Where the app writes its generated secret key and the demo accounts' passwords.
    from app.setup import ACCOUNTS_FILE

    for generated in ("instance/secret_key", f"instance/{ACCOUNTS_FILE}"):
        if shutil.which("git") and os.path.isdir(os.path.join(ROOT, ".git")):
            check = subprocess.run(["git", "check-ignore", "-q", generated], cwd=ROOT)
            assert check.returncode == 0, f"{generated} is not ignored by git"
        else:
            assert _ignored(generated, _gitignore_patterns(ROOT)), generated


def test_the_walk_without_git_skips_ignored_folders(tmp_path):
    (tmp_path / ".gitignore").write_text("instance/\n*.db\n", encoding="utf-8")
    for relative in ("config.py", "app/x.py", "instance/secret_key", "data.db",
                     ".venv/lib/site.py"):
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x", encoding="utf-8")
    assert sorted(tracked_files(str(tmp_path))) == [".gitignore", "app/x.py", "config.py"]


def test_the_configuration_takes_secrets_from_the_environment():
    from config import Config

    assert Config.SECRET_KEY is None or Config.SECRET_KEY == os.environ.get("SECRET_KEY")
    assert Config.MAIL_PASSWORD is None or Config.MAIL_PASSWORD == os.environ.get("MAIL_PASSWORD")
