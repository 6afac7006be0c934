"""The optional ADOT collector beside the BFF (bff_hosting/metrics_sidecar.tf):
off by default; on, a non-essential, locked-down container that scrapes the
BFF's loopback metrics listener and writes EMF to its own encrypted log
group, with a task role that may write there and nowhere else."""

import re

import hcl2

from conftest import ROOT, plain

SWITCH = "var.metrics_sidecar"


def when(expr: str) -> tuple[str, str]:
    """The (on, off) branches of `${var.metrics_sidecar ? ON : OFF}`."""
    m = re.fullmatch(rf"\$\{{{re.escape(SWITCH)} \? (.*) : (.*)\}}", expr, re.S)
    assert m, f"not switched by {SWITCH}: {expr[:120]}"
    return m.group(1), m.group(2)


def hcl_value(text: str):
    """An HCL expression's literal structure, as python-hcl2 parses it."""
    return plain(hcl2.loads(f"x = {text}"))["x"]


def sidecar_containers(bff) -> list:
    on, off = when(bff.locals["metrics_sidecar_containers"])
    assert off == "[]"
    return hcl_value(on)


def test_sidecar_is_off_by_default(bff, root):
    assert bff.variables["metrics_sidecar"]["default"] is False
    assert root.variables["bff_metrics_sidecar"]["default"] is False
    assert root.modules["bff"]["metrics_sidecar"] == "${var.bff_metrics_sidecar}"
    # Off: no extra container, log group, policy, nor metrics listener.
    assert bff.res("aws_ecs_task_definition", "bff")["container_definitions"].endswith(
        "], local.metrics_sidecar_containers))}"
    )
    for kind, name in (
        ("aws_cloudwatch_log_group", "metrics"),
        ("aws_iam_role_policy", "metrics_sidecar"),
    ):
        assert bff.res(kind, name)["count"] == "${var.metrics_sidecar ? 1 : 0}"
    assert bff.data[("aws_iam_policy_document", "metrics_sidecar")]["count"] == "${var.metrics_sidecar ? 1 : 0}"


def test_sidecar_on_is_one_non_essential_locked_down_container(bff):
    (adot,) = sidecar_containers(bff)
    assert adot["name"] == "adot-collector"
    assert adot["essential"] is False
    assert adot["readonlyRootFilesystem"] is True
    assert adot["privileged"] is False
    assert adot["user"] == "${var.container_user}"
    assert adot["linuxParameters"] == {"capabilities": {"drop": ["ALL"]}}
    assert "portMappings" not in adot
    assert adot["environment"] == [
        {"name": "AOT_CONFIG_CONTENT", "value": "${yamlencode(local.metrics_sidecar_config)}"}
    ]


def test_sidecar_image_is_pinned(bff):
    var = bff.variables["metrics_sidecar_image"]
    (rule,) = var["validation"]
    # HCL's escapes ("\\.") read as Python's regex escapes ("\.").
    pattern = re.search(r'regex\("(.+?)", var\.metrics_sidecar_image\)', rule["condition"]).group(1)
    pattern = pattern.replace("\\\\", "\\")
    assert re.search(pattern, var["default"])
    assert var["default"].startswith("public.ecr.aws/aws-observability/aws-otel-collector:v")
    for moving in ("public.ecr.aws/aws-observability/aws-otel-collector:latest", "x/adot"):
        assert not re.search(pattern, moving)


def test_bff_metrics_listen_on_loopback_with_the_sidecar_only(bff, root):
    env = bff.locals["container_environment"]
    assert 'var.metrics_sidecar ? {TH_METRICS__LISTEN = "127.0.0.1:${var.metrics_port}"} : {}' in env
    assert env.count("TH_METRICS__LISTEN") == 1
    assert "TH_METRICS__LISTEN" not in str(root.modules["bff"]["environment"])
    port = bff.variables["metrics_port"]
    assert port["default"] == 9464
    assert "var.metrics_port != var.container_port" in str(port["validation"])
    # A listen address from `environment` would be overridden: refused.
    assert 'contains(keys(var.environment), "TH_METRICS__LISTEN")' in str(
        bff.variables["metrics_sidecar"]["validation"]
    )


def test_collector_scrapes_loopback_and_writes_emf_to_its_log_group(bff):
    cfg = bff.locals["metrics_sidecar_config"]
    (scrape,) = cfg["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert scrape["static_configs"] == [{"targets": ["127.0.0.1:${var.metrics_port}"]}]
    emf = cfg["exporters"]["awsemf"]
    assert emf["log_group_name"] == "${local.metrics_log_group}"
    assert bff.res("aws_cloudwatch_log_group", "metrics")["name"] == "${local.metrics_log_group}"
    assert emf["dimension_rollup_option"] == "NoDimensionRollup"
    assert cfg["service"]["pipelines"]["metrics"] == {
        "receivers": ["prometheus"],
        "processors": ["resourcedetection"],
        "exporters": ["awsemf"],
    }
    assert cfg["extensions"]["health_check"]["endpoint"].startswith("127.0.0.1:")


def test_every_contract_metric_is_declared_with_its_labels(bff):
    """Dimensions are the contract's labels: bounded, and none forgotten."""
    contract = (ROOT / "contract" / "src" / "metrics.rs").read_text()
    declared = {
        name: labels
        for name, labels in re.findall(r'= "(th_[a-z_]+)", (?:Counter|Gauge|Histogram), \[([^\]]*)\]', contract)
    }
    assert len(declared) > 20
    want = {name: re.findall(r'"([a-z_]+)"', labels) for name, labels in declared.items()}
    assert bff.locals["metrics_dimensions"] == want


def test_task_role_may_only_write_the_metrics_log_group(bff):
    doc = bff.data[("aws_iam_policy_document", "metrics_sidecar")]
    (stmt,) = doc["statement"]
    assert sorted(stmt["actions"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert stmt["resources"] == ["${aws_cloudwatch_log_group.metrics[0].arn}:*"]
    assert "effect" not in stmt or stmt["effect"] == "Allow"
    policy = bff.res("aws_iam_role_policy", "metrics_sidecar")
    assert policy["role"] == "${aws_iam_role.task.id}"
    assert policy["policy"] == "${data.aws_iam_policy_document.metrics_sidecar[0].json}"
    # Neither base policy names the metrics group.
    for base in ("task", "execution"):
        assert "log_group.metrics" not in str(bff.data[("aws_iam_policy_document", base)])


def test_metrics_log_group_is_encrypted_with_retention(bff):
    group = bff.res("aws_cloudwatch_log_group", "metrics")
    assert group["kms_key_id"] == "${aws_kms_key.bff.arn}"
    assert group["retention_in_days"] == "${var.log_retention_days}"
