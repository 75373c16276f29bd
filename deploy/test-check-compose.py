"""Shows that deploy/check-compose.py fails on what it is meant to catch (make lint-deploy): each
case copies the files it reads into a temporary folder, breaks one thing, and expects the check to
fail naming it; the unbroken copy must pass.

Usage: python3 deploy/test-check-compose.py  (needs PyYAML, as the check does)
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent
CHECK = REPO / "deploy" / "check-compose.py"
FILES = ["compose.yaml", "Dockerfile", ".env.example", "README.md", "deploy/Caddyfile"]


def run(edit):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        for name in FILES:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / name, root / name)
        if edit:
            name, old, new = edit
            text = (root / name).read_text()
            if old not in text:
                sys.exit(f"test-check-compose: {name} no longer contains {old!r}: update this case")
            (root / name).write_text(text.replace(old, new, 1))
        result = subprocess.run([sys.executable, str(CHECK)], env={**os.environ, "KVM_CHECK_ROOT": tmp},
                                capture_output=True, text=True)
        return result.returncode, result.stdout + result.stderr


CASES = [
    ("the same instance id twice", ("compose.yaml", "KVM_INSTANCE_ID: kvm-2", "KVM_INSTANCE_ID: kvm-1"),
     "an instance id each, different"),
    ("a health check other than the image's", ("compose.yaml", '"/app/kv-manager", "health"]', '"/bin/true"]'),
     "the healthcheck runs the image's"),
    ("a variable .env.example does not document", ("compose.yaml", "KVM_INSTANCE_ID: kvm-1",
                                                   "KVM_INSTANCE_ID: ${KVM_UNDOCUMENTED_NAME}"),
     "KVM_UNDOCUMENTED_NAME (used by compose.yaml) is not documented"),
    ("a proxy upstream that is not an instance", ("deploy/Caddyfile", "kvm-2:3000", "kvm-3:3000"),
     "reverse_proxy to kvm-1:3000 and kvm-2:3000"),
    ("a published database port", ("compose.yaml", "services:\n  postgres:\n",
                                   "services:\n  postgres:\n    ports: [\"5432:5432\"]\n"),
     "postgres: no published port"),
]

failures = []
code, output = run(None)
if code != 0:
    failures.append(f"the repository's own files fail the check:\n{output}")
for title, edit, expected in CASES:
    code, output = run(edit)
    if code == 0 or expected not in output:
        failures.append(f"{title}: expected a failure naming {expected!r}, got exit {code}:\n{output}")
if failures:
    print("test-check-compose: FAILED", file=sys.stderr)
    for failure in failures:
        print(f"  - {failure}", file=sys.stderr)
    sys.exit(1)
print(f"test-check-compose: ok (the check passes the repository and catches {len(CASES)} broken copies)")
