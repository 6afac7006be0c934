"""Fixtures for the deployment tests: the Terraform tree parsed once with
python-hcl2, normalised so a test reads plain values.

python-hcl2 keeps HCL's quoting: a string literal comes back as '"text"', an
expression as '${expr}', block labels quoted. `plain()` strips the quotes of
literals and the bookkeeping keys, so `res("aws_lb", "this")["internal"]` is
False and `["name"]` is a str.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field

import hcl2
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"


def plain(value):
    """HCL as python-hcl2 parsed it, with literal quotes and bookkeeping removed."""
    if isinstance(value, dict):
        return {
            plain(k): plain(v)
            for k, v in value.items()
            if k not in ("__is_block__", "__comments__", "__inline_comments__")
        }
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def block(body: dict, name: str) -> dict:
    """The single nested block `name` of a resource (blocks parse as 1-element lists)."""
    found = body.get(name)
    assert isinstance(found, list) and len(found) == 1, f"expected one {name} block, got {found!r}"
    return found[0]


@dataclass
class Module:
    """Every top-level block of one folder of .tf files."""

    path: pathlib.Path
    resources: dict = field(default_factory=dict)  # (type, name) -> body
    data: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    locals: dict = field(default_factory=dict)
    modules: dict = field(default_factory=dict)
    text: str = ""

    def res(self, rtype: str, name: str) -> dict:
        key = (rtype, name)
        assert key in self.resources, f"{self.path.name}: no resource {rtype}.{name}"
        return self.resources[key]

    def all(self, rtype: str) -> dict:
        return {n: b for (t, n), b in self.resources.items() if t == rtype}


def load_module(path: pathlib.Path) -> Module:
    mod = Module(path=path)
    for tf in sorted(path.glob("*.tf")):
        mod.text += tf.read_text()
        with tf.open() as f:
            parsed = plain(hcl2.load(f))
        for kind, target in (("resource", mod.resources), ("data", mod.data)):
            for entry in parsed.get(kind, []):
                for rtype, named in entry.items():
                    for name, body in named.items():
                        target[(rtype, name)] = body
        for entry in parsed.get("variable", []):
            mod.variables.update(entry)
        for entry in parsed.get("output", []):
            mod.outputs.update(entry)
        for entry in parsed.get("locals", []):
            mod.locals.update(entry)
        for entry in parsed.get("module", []):
            mod.modules.update(entry)
    return mod


@pytest.fixture(scope="session")
def root() -> Module:
    return load_module(TERRAFORM)


@pytest.fixture(scope="session")
def spa() -> Module:
    return load_module(TERRAFORM / "modules" / "spa_hosting")


@pytest.fixture(scope="session")
def bff() -> Module:
    return load_module(TERRAFORM / "modules" / "bff_hosting")


@pytest.fixture(scope="session")
def cache() -> Module:
    return load_module(TERRAFORM / "modules" / "session_cache")


@pytest.fixture(scope="session")
def ci() -> Module:
    return load_module(TERRAFORM / "modules" / "ci_access")


@pytest.fixture(scope="session")
def logs() -> Module:
    return load_module(TERRAFORM / "modules" / "log_bucket")


@pytest.fixture(scope="session")
def all_modules(root) -> list[Module]:
    return [root] + [load_module(p) for p in sorted((TERRAFORM / "modules").iterdir()) if p.is_dir()]


def tfvars(name: str) -> dict:
    """An example tfvars file, parsed."""
    with (TERRAFORM / "envs" / f"{name}.tfvars.example").open() as f:
        return plain(hcl2.load(f))


def interpolate(template: str, values: dict) -> str:
    """Resolve ${var.x} references in a string template from `values`."""
    return re.sub(r"\$\{var\.([a-z_]+)\}", lambda m: str(values[m.group(1)]), template)
