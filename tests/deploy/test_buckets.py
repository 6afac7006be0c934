"""Every bucket is private, encrypted and versioned."""

import pytest

from conftest import TERRAFORM, block, load_module

MODULES_WITH_BUCKETS = ["spa_hosting", "log_bucket"]


def modules():
    return [load_module(TERRAFORM / "modules" / m) for m in MODULES_WITH_BUCKETS]


def bucket_ref(name: str) -> str:
    return f"${{aws_s3_bucket.{name}.id}}"


@pytest.mark.parametrize("mod", modules(), ids=MODULES_WITH_BUCKETS)
def test_every_bucket_blocks_all_public_access(mod):
    buckets = mod.all("aws_s3_bucket")
    assert buckets
    blocks = {b["bucket"]: b for b in mod.all("aws_s3_bucket_public_access_block").values()}
    for name in buckets:
        pab = blocks[bucket_ref(name)]
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            assert pab[flag] is True, f"{name}: {flag}"


@pytest.mark.parametrize("mod", modules(), ids=MODULES_WITH_BUCKETS)
def test_every_bucket_is_encrypted_and_versioned(mod):
    sse = {b["bucket"]: b for b in mod.all("aws_s3_bucket_server_side_encryption_configuration").values()}
    versioning = {b["bucket"]: b for b in mod.all("aws_s3_bucket_versioning").values()}
    for name in mod.all("aws_s3_bucket"):
        rule = block(sse[bucket_ref(name)], "rule")
        algo = block(rule, "apply_server_side_encryption_by_default")["sse_algorithm"]
        assert algo in ("aws:kms", "AES256")
        assert block(versioning[bucket_ref(name)], "versioning_configuration")["status"] == "Enabled"


@pytest.mark.parametrize("mod", modules(), ids=MODULES_WITH_BUCKETS)
def test_every_bucket_refuses_plain_http(mod):
    docs = [d for (t, _), d in mod.data.items() if t == "aws_iam_policy_document"]
    denies = [
        s
        for d in docs
        for s in d["statement"]
        if s.get("effect") == "Deny" and block(s, "condition")["variable"] == "aws:SecureTransport"
    ]
    assert len(denies) == 1


def test_spa_bucket_uses_its_kms_key_and_no_acls(spa):
    rule = block(spa.res("aws_s3_bucket_server_side_encryption_configuration", "spa"), "rule")
    assert block(rule, "apply_server_side_encryption_by_default")["kms_master_key_id"] == "${aws_kms_key.spa.arn}"
    own = block(spa.res("aws_s3_bucket_ownership_controls", "spa"), "rule")
    assert own["object_ownership"] == "BucketOwnerEnforced"
    assert spa.res("aws_kms_key", "spa")["enable_key_rotation"] is True


def test_the_log_buckets_name_is_handed_out_only_once_it_accepts_logs():
    # ALB access logs, S3 server access logs and CloudFront logging check the
    # bucket's permissions when they are created; without these the first
    # apply races the policy and fails with Access Denied.
    mod = load_module(TERRAFORM / "modules" / "log_bucket")
    for name in ("bucket", "bucket_domain_name"):
        deps = mod.outputs[name].get("depends_on", [])
        for needed in ("aws_s3_bucket_policy.this", "aws_s3_bucket_ownership_controls.this"):
            assert any(needed in str(d) for d in deps), f"output {name} lacks {needed}"


def test_every_log_consumer_takes_the_log_bucket_from_those_outputs(root):
    # A name built from local.log_bucket would skip the outputs' depends_on.
    assert root.modules["bff"]["log_bucket"] == "${module.logs.bucket}"
    assert root.modules["spa"]["log_bucket"] == "${module.logs.bucket}"
    assert root.modules["spa"]["log_bucket_domain_name"] == "${module.logs.bucket_domain_name}"
    uses = [name for name, body in root.modules.items() if name != "logs" and "local.log_bucket" in str(body)]
    assert uses == []
