"""Checks compose.yaml's structure (make lint-deploy): the services, their images or build, the
.env file, the start order on health, the health checks, the published port and the volumes, and
that .env.example documents every variable compose.yaml uses. Also that the names it shares with
the Dockerfile (the health probe, the port, /data) and deploy/Caddyfile (the upstreams) agree.

Usage: python3 deploy/check-compose.py  (from anywhere; needs PyYAML)
"""

import os
import pathlib
import re
import sys

import yaml

# The repository; KVM_CHECK_ROOT points elsewhere (deploy/test-check-compose.py checks broken copies).
ROOT = pathlib.Path(os.environ.get("KVM_CHECK_ROOT") or pathlib.Path(__file__).resolve().parent.parent)
errors = []


def check(condition, message):
    if not condition and message not in errors:
        errors.append(message)
    return condition


compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
dockerfile = (ROOT / "Dockerfile").read_text()
final_stage = dockerfile[dockerfile.rindex("\nFROM ") :]
health_cmd = re.search(r"^HEALTHCHECK .*CMD (\[.*\])$", final_stage, re.M)
expose = re.search(r"^EXPOSE (\d+)$", final_stage, re.M)
check(health_cmd and expose, "Dockerfile: the final stage needs HEALTHCHECK ... CMD [...] and EXPOSE")
image_health = yaml.safe_load(health_cmd.group(1)) if health_cmd else []
port = expose.group(1) if expose else "3000"

services = compose.get("services") or {}
check(set(services) == {"postgres", "kvm-1", "kvm-2", "proxy"},
      f"services: expected postgres, kvm-1, kvm-2 and proxy, found {sorted(services)}")


def depends_healthy(service, name, needs):
    deps = service.get("depends_on") or {}
    for need in needs:
        check(isinstance(deps, dict) and (deps.get(need) or {}).get("condition") == "service_healthy",
              f"{name}: depends_on {need} with condition service_healthy")


def healthcheck(service, name):
    test = (service.get("healthcheck") or {}).get("test")
    check(isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"),
          f"{name}: a healthcheck with a CMD or CMD-SHELL test")
    return test or []


def volume_targets(service):
    return {str(v).split(":")[1] for v in service.get("volumes") or [] if ":" in str(v)}


postgres = services.get("postgres", {})
check(str(postgres.get("image", "")).startswith("postgres:"), "postgres: image postgres:<version>")
check("build" not in postgres, "postgres: an image, not a build")
env = postgres.get("environment") or {}
check(str(env.get("POSTGRES_PASSWORD", "")).startswith("${POSTGRES_PASSWORD:?"),
      "postgres: POSTGRES_PASSWORD from .env, required (${POSTGRES_PASSWORD:?...})")
check("pg_isready" in " ".join(healthcheck(postgres, "postgres")), "postgres: the healthcheck runs pg_isready")
check("/var/lib/postgresql/data" in volume_targets(postgres), "postgres: a volume at /var/lib/postgresql/data")
check(not postgres.get("ports"), "postgres: no published port (reached on the compose network only)")

instance_ids = []
for name in ("kvm-1", "kvm-2"):
    kvm = services.get(name, {})
    build = kvm.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    check(context == "." and (ROOT / "Dockerfile").is_file(), f"{name}: build: . (the repository's Dockerfile)")
    check(kvm.get("image") == services.get("kvm-1", {}).get("image") and kvm.get("image"),
          f"{name}: the same image name as kvm-1")
    env_file = kvm.get("env_file")
    env_files = [env_file] if isinstance(env_file, str) else [e if isinstance(e, str) else e.get("path") for e in env_file or []]
    check(".env" in env_files, f"{name}: env_file .env (secrets and settings)")
    env = kvm.get("environment") or {}
    check(isinstance(env, dict), f"{name}: environment as a mapping")
    url = str(env.get("KVM_DATABASE_URL", ""))
    check(url.startswith("postgres://") and "@postgres:5432/" in url and "${POSTGRES_PASSWORD:?" in url,
          f"{name}: KVM_DATABASE_URL on the postgres service, its password from .env")
    instance_ids.append(env.get("KVM_INSTANCE_ID"))
    check("KVM_ADDR" not in env, f"{name}: KVM_ADDR left to the image (0.0.0.0:{port})")
    depends_healthy(kvm, name, ["postgres"])
    check(healthcheck(kvm, name)[1:] == image_health, f"{name}: the healthcheck runs the image's {image_health}")
    check("/data" in volume_targets(kvm), f"{name}: a volume at /data (the image's data folder)")
    check(not kvm.get("ports"), f"{name}: no published port (reached through the proxy)")
check(all(instance_ids) and len(set(instance_ids)) == 2, f"kvm-1, kvm-2: an instance id each, different: {instance_ids}")

proxy = services.get("proxy", {})
check(str(proxy.get("image", "")).startswith("caddy:"), "proxy: image caddy:<version>")
ports = [str(p) for p in proxy.get("ports") or []]
check(len(ports) == 1 and ports[0].endswith(":80"), f"proxy: one published port, to 80: {ports}")
depends_healthy(proxy, "proxy", ["kvm-1", "kvm-2"])
healthcheck(proxy, "proxy")
configs = proxy.get("configs") or []
caddy_source = next((c.get("source") for c in configs if c.get("target") == "/etc/caddy/Caddyfile"), None)
caddy_file = ((compose.get("configs") or {}).get(caddy_source) or {}).get("file")
if check(caddy_file and (ROOT / caddy_file).is_file(), "proxy: /etc/caddy/Caddyfile from a config file in the repository"):
    caddyfile = (ROOT / caddy_file).read_text()
    upstreams = re.search(r"^\s*reverse_proxy (.+?) \{", caddyfile, re.M)
    check(upstreams and set(upstreams.group(1).split()) == {f"kvm-1:{port}", f"kvm-2:{port}"},
          f"{caddy_file}: reverse_proxy to kvm-1:{port} and kvm-2:{port}")
    check("health_uri /health" in caddyfile, f"{caddy_file}: active health checks on /health")

declared = set(compose.get("volumes") or {})
for name, service in services.items():
    for volume in service.get("volumes") or []:
        source = str(volume).split(":")[0]
        if not source.startswith((".", "/")):
            check(source in declared, f"{name}: volume {source} is declared under volumes:")

# Every variable compose.yaml uses is documented in .env.example; required ones are set there.
text = (ROOT / "compose.yaml").read_text()
example = (ROOT / ".env.example").read_text()
documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.M))
set_there = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))
for var, modifier in re.findall(r"\$\{([A-Z][A-Z0-9_]*)(:?[-?]?)", text):
    check(var in documented, f".env.example: {var} (used by compose.yaml) is not documented")
    if modifier == ":?":
        check(var in set_there, f".env.example: {var} is required by compose.yaml: give it a value there")
# And names nothing else: each of its variables is used by compose.yaml or is a documented setting.
readme = (ROOT / "README.md").read_text()
for var in sorted(documented):
    check(f"${{{var}" in text or f"`{var}`" in readme,
          f".env.example: {var} is neither used by compose.yaml nor a setting the README documents")

if errors:
    print("compose.yaml check failed:", file=sys.stderr)
    for error in errors:
        print(f"  - {error}", file=sys.stderr)
    sys.exit(1)
print(f"compose.yaml: ok ({len(services)} services, {len(documented)} variables documented in .env.example)")
