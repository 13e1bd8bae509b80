"""Known vulnerabilities in the pinned Python packages (constraints.txt): `make audit-deps`.

Usage: python scripts/audit_deps.py [requirements file, default constraints.txt]

pip-audit checks every pin against the first of its vulnerability services that answers:
OSV (api.osv.dev, or PIP_AUDIT_OSV_URL), then PyPI's JSON for each release
(pypi.org/pypi/<name>/<version>/json). Either way pip-audit runs with --strict, so a pin
it cannot check fails the run rather than being skipped.

Where neither service can be reached, as on a network that reaches only a PyPI mirror
serving each project's JSON but not each release's, this says so and checks each pin
against PyPI's project JSON instead. That lists the known vulnerabilities of the
project's newest release, so it can judge a pin only when the pin is the newest release.
A pin that is not cannot be checked here and fails the run, unless it is in UNCHECKABLE
below with the reason it cannot move; that list is printed on every run.

Exit status: 0 no known vulnerability and every pin checked (or listed); 1 a known
vulnerability, or a pin left unchecked; 2 no source of vulnerability data could be reached.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
OSV_URL = os.environ.get("PIP_AUDIT_OSV_URL", "https://api.osv.dev/v1/query")
PYPI = "https://pypi.org/pypi"
TIMEOUT = 30

# Pins the project-JSON fallback cannot check because they are not the newest release,
# each with why it stays. Keyed by exact pin: a new version drops out of this list by
# itself and is checked. Only the fallback reads this; pip-audit checks these pins too
# wherever OSV or PyPI's per-release JSON can be reached.
UNCHECKABLE = {
    "jsonschema-rs==0.60.3": "schemathesis 4.32.5 requires jsonschema-rs<0.61 (dev only: the fuzz tests)",
    "deprecated==1.3.1": "a dependency of limits (Flask-Limiter), which allows 3.x; not yet moved and tested",
    "holidays==0.86": "newer releases need python-dateutil<3, and the lock pins python-dateutil 4.0.0 (its newest, so checkable): moving one makes the other uncheckable",
}


def pins(path: Path = CONSTRAINTS) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)", line)
        if match:
            found.append((canonicalize_name(match.group(1)), match.group(3)))
        elif line and not line.startswith("-"):
            sys.exit(f"audit-deps: cannot read this line of {path.name} as name==version: {line!r}")
    if not found:
        sys.exit(f"audit-deps: no pins found in {path}")
    return found


def _request(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", "User-Agent": "qa_audit audit-deps"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # only the https URLs above
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _reachable(url: str, body: dict | None = None) -> str | None:
    """None when the URL answers 200, else what went wrong, in words."""
    try:
        status, _ = _request(url, body)
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {getattr(error, 'reason', error)}"
    return None if status == 200 else f"{url}: HTTP {status}"


def run_pip_audit(service: str, constraints: Path) -> int:
    command = [
        sys.executable, "-m", "pip_audit", "--strict", "--disable-pip", "--no-deps",
        "--progress-spinner", "off", "--requirement", str(constraints), "--vulnerability-service", service,
    ]
    print("audit-deps: " + " ".join(command[1:]), flush=True)
    return subprocess.run(command, check=False).returncode


def _check_with_project_json(name: str, version: str) -> tuple[str, str]:
    """(outcome, detail): outcome is ok, vulnerable, unchecked or error."""
    for _attempt in range(3):
        try:
            status, body = _request(f"{PYPI}/{name}/json")
            break
        except (urllib.error.URLError, OSError) as error:
            problem = str(getattr(error, "reason", error))
    else:
        return "error", f"PyPI did not answer: {problem}"
    if status != 200:
        return "error", f"PyPI answered HTTP {status}"
    project = json.loads(body)
    newest = project["info"]["version"]
    try:
        is_newest = Version(newest) == Version(version)
    except InvalidVersion:
        is_newest = newest == version
    if not is_newest:
        return "unchecked", f"not the newest release ({newest}): PyPI's project JSON lists only the newest's vulnerabilities"
    vulnerabilities = [v for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]
    if vulnerabilities:
        return "vulnerable", "; ".join(
            f"{v['id']} ({', '.join(v.get('aliases') or [])}) fixed in {', '.join(v.get('fixed_in') or []) or 'no release yet'}"
            for v in vulnerabilities
        )
    return "ok", "newest release; no known vulnerabilities"


def check_with_project_json(pinned: list[tuple[str, str]], *, note_stale: bool = True) -> int:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda pin: (pin, _check_with_project_json(*pin)), pinned))
    failed = 0
    counts: dict[str, int] = {}
    for (name, version), (outcome, detail) in results:
        pin = f"{name}=={version}"
        if outcome == "unchecked" and pin in UNCHECKABLE:
            outcome, detail = "listed", f"{detail}; listed as uncheckable here: {UNCHECKABLE[pin]}"
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "ok":
            print(f"  {outcome.upper():10} {pin}: {detail}")
        if outcome in ("vulnerable", "unchecked", "error"):
            failed += 1
    print(
        f"audit-deps (PyPI project JSON): {len(results)} pins: {counts.get('ok', 0)} checked clean, "
        f"{counts.get('vulnerable', 0)} with known vulnerabilities, {counts.get('unchecked', 0)} left unchecked, "
        f"{counts.get('listed', 0)} uncheckable and listed, {counts.get('error', 0)} not answered"
    )
    stale = sorted(set(UNCHECKABLE) - {f"{n}=={v}" for n, v in pinned})
    if stale and note_stale:
        print(f"  note: UNCHECKABLE names pins no longer in constraints.txt (remove them): {', '.join(stale)}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    constraints = Path(argv[0]) if argv else CONSTRAINTS
    pinned = pins(constraints)
    first_name, first_version = pinned[0]
    osv_problem = _reachable(OSV_URL, {"package": {"name": first_name, "ecosystem": "PyPI"}, "version": first_version})
    if osv_problem is None:
        return run_pip_audit("osv", constraints)
    print(f"audit-deps: OSV cannot be reached ({osv_problem})", flush=True)
    pypi_problem = _reachable(f"{PYPI}/{first_name}/{first_version}/json")
    if pypi_problem is None:
        return run_pip_audit("pypi", constraints)
    print(f"audit-deps: PyPI's per-release JSON cannot be reached ({pypi_problem})", flush=True)
    project_problem = _reachable(f"{PYPI}/{first_name}/json")
    if project_problem is not None:
        print(f"audit-deps: FAILED: no vulnerability data can be reached here; PyPI's project JSON neither ({project_problem})")
        return 2
    print(
        "audit-deps: neither of pip-audit's services can be reached: checking each pin against "
        "PyPI's project JSON instead (the newest release's known vulnerabilities)",
        flush=True,
    )
    return check_with_project_json(pinned, note_stale=constraints == CONSTRAINTS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
