"""The root: the outputs a user needs, the wiring between modules, and that
every checkov skip carries its reason next to the resource."""

import re

import pytest

from conftest import TERRAFORM, tfvars


@pytest.mark.parametrize(
    "name",
    [
        "spa_bucket",
        "distribution_ids",
        "spa_urls",
        "bff_urls",
        "bff_origin_url",
        "ecr_repository_url",
        "ci_role_arn",
        "wasm_clients",
    ],
)
def test_root_outputs_what_a_user_needs(root, name):
    assert name in root.outputs
    assert root.outputs[name]["description"]


def test_cloudfront_certificate_comes_from_us_east_1(root):
    assert root.modules["spa_certificate"]["providers"] == {"aws": "${aws.us_east_1}"}


def test_spa_distributions_forward_to_the_bffs_load_balancer(root):
    spa = root.modules["spa"]
    assert spa["bff_origin_domain"] == "${module.bff.origin_domain}"
    assert spa["origin_verify_header"] == "${module.bff.origin_verify_header}"
    assert spa["origin_verify_value"] == "${module.bff.origin_verify_value}"


def test_bff_redirect_uri_is_the_primary_spa_url(root):
    env = root.modules["bff"]["environment"]
    assert "TH_OIDC__REDIRECT_URI" in env and "local.spa_hosts[local.primary_client]" in env


def test_bff_trusts_the_host_and_hops_that_cloudfront_and_the_alb_set(root):
    env = root.modules["bff"]["environment"]
    assert '"x-forwarded-host"' in env
    assert re.search(r'TH_FORWARDED__TRUSTED_HOPS\s*=\s*"2"', env), env
    assert "TH_FORWARDED__PRIVATE_HEADERS" in env and "module.bff.origin_verify_header" in env
    # Each app origin is one of the SPA hosts, over https.
    assert 'TH_CORS__ALLOWED_ORIGINS' in env and '"https://${h}"' in env


def test_examples_define_wasm_clients(root):
    for env in ("dev", "prod"):
        clients = tfvars(env)["wasm_clients"]
        assert clients and all(isinstance(v, str) for v in clients.values())
    assert root.variables["wasm_clients"]["type"] == "${map(string)}"


def test_no_wasm_client_serves_the_sync_scripts_release_records(root):
    (validation,) = root.variables["wasm_clients"]["validation"]
    assert '!contains([".", "..", "_releases"], v)' in validation["condition"]
    assert "_releases" in (TERRAFORM.parent / "scripts" / "sync-spa.sh").read_text()


def test_every_variable_and_output_is_documented(all_modules):
    for mod in all_modules:
        for kind in (mod.variables, mod.outputs):
            for name, body in kind.items():
                assert body.get("description"), f"{mod.path.name}: {name} has no description"


SKIP = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z]+_\d+)(?::(.*))?")


def test_every_checkov_skip_has_a_reason_inside_its_resource():
    skips = 0
    for tf in TERRAFORM.rglob("*.tf"):
        lines = tf.read_text().splitlines()
        for i, line in enumerate(lines):
            m = SKIP.search(line)
            if not m:
                continue
            skips += 1
            reason = (m.group(2) or "").strip()
            assert len(reason) >= 30, f"{tf}:{i + 1}: {m.group(1)} needs a written reason"
            # Inside a block: the nearest non-skip line above opens a resource or data block.
            above = next(l for l in reversed(lines[:i]) if not SKIP.search(l))
            assert re.match(r'^(resource|data) "', above), f"{tf}:{i + 1}: skip not at the top of a block"
    assert skips > 0


def required_terraform_lower_bound() -> tuple[int, int]:
    """The highest lower bound (>= or ~>) in versions.tf's required_version."""
    text = (TERRAFORM / "versions.tf").read_text()
    (constraint,) = re.findall(r'required_version\s*=\s*"([^"]*)"', text)
    bounds = [(int(a), int(b)) for a, b in re.findall(r"(?:>=|~>)\s*(\d+)\.(\d+)", constraint)]
    assert bounds, f"required_version {constraint!r} has no lower bound"
    return max(bounds)


def test_the_required_terraform_supports_the_backends_lock_file():
    # use_lockfile (the S3 backend's native lock) exists from Terraform 1.11.
    docs = TERRAFORM.parent / "docs" / "deploy.md"
    places = [p for p in TERRAFORM.rglob("*") if p.is_file() and ".terraform" not in p.parts] + [docs]
    uses_lockfile = [p.name for p in places if "use_lockfile" in p.read_text()]
    if uses_lockfile:
        assert required_terraform_lower_bound() >= (1, 11), f"use_lockfile in {uses_lockfile} needs Terraform >= 1.11"


def test_the_docs_name_the_required_terraform():
    major, minor = required_terraform_lower_bound()
    assert f"Terraform ≥ {major}.{minor}" in (TERRAFORM.parent / "docs" / "deploy.md").read_text()
