"""CloudWatch alarms, the optional SNS topic, the login metric filters and the
dashboard (modules/observability): each alarm watches the metric
docs/deploy.md says it does and notifies the topic into and out of alarm;
the topic is encrypted with a key CloudWatch may use; the metric filters
match the log lines the BFF writes."""

import json
import re

import pytest

from conftest import ROOT, TERRAFORM, load_module


@pytest.fixture(scope="module")
def obs():
    return load_module(TERRAFORM / "modules" / "observability")


ALARMS = {
    "alb_5xx_rate": ("AWS/ApplicationELB", {"HTTPCode_ELB_5XX_Count", "RequestCount"}),
    "target_5xx_rate": ("AWS/ApplicationELB", {"HTTPCode_Target_5XX_Count", "RequestCount"}),
    "unhealthy_targets": ("AWS/ApplicationELB", {"UnHealthyHostCount"}),
    "p99_response_time": ("AWS/ApplicationELB", {"TargetResponseTime"}),
    "cpu": ("AWS/ECS", {"CPUUtilization"}),
    "memory": ("AWS/ECS", {"MemoryUtilization"}),
    "login_failures": ("${var.metric_namespace}", {
        "${aws_cloudwatch_log_metric_filter.login_failed.metric_transformation[0].name}",
        "${aws_cloudwatch_log_metric_filter.login_completed.metric_transformation[0].name}",
    }),
}


def metrics_of(alarm: dict) -> tuple[set, set]:
    """The namespaces and metric names an alarm reads, plain or through metric math."""
    if "metric_name" in alarm:
        return {alarm["namespace"]}, {alarm["metric_name"]}
    namespaces, names = set(), set()
    for query in alarm["metric_query"]:
        for metric in query.get("metric", []):
            namespaces.add(metric["namespace"])
            names.add(metric["metric_name"])
    return namespaces, names


def test_the_root_wires_the_module_to_the_bffs_load_balancer_service_and_logs(root, bff):
    mod = root.modules["observability"]
    assert mod["source"] == "./modules/observability"
    assert mod["alb_arn_suffix"] == "${module.bff.alb_arn_suffix}"
    assert mod["target_group_arn_suffix"] == "${module.bff.target_group_arn_suffix}"
    assert mod["cluster_name"] == "${module.bff.cluster_name}"
    assert mod["service_name"] == "${module.bff.service_name}"
    assert mod["log_group_name"] == "${module.bff.log_group}"
    assert bff.outputs["alb_arn_suffix"]["value"] == "${aws_lb.this.arn_suffix}"
    assert bff.outputs["target_group_arn_suffix"]["value"] == "${aws_lb_target_group.bff.arn_suffix}"
    assert root.variables["create_alarm_topic"]["default"] is True
    assert root.variables["alarm_emails"]["default"] == []


def test_every_alarm_watches_its_metric_and_notifies_in_and_out_of_alarm(obs):
    alarms = obs.all("aws_cloudwatch_metric_alarm")
    assert set(alarms) == set(ALARMS)
    for name, (namespace, names) in ALARMS.items():
        alarm = alarms[name]
        assert metrics_of(alarm) == ({namespace}, names), name
        assert alarm["alarm_actions"] == "${local.actions}", name
        assert alarm["ok_actions"] == "${local.actions}", name
        assert "docs/deploy.md#alarms-and-the-dashboard" in alarm["alarm_description"], name
        assert alarm["comparison_operator"] == "GreaterThanThreshold", name
    assert alarms["p99_response_time"]["extended_statistic"] == "p99"
    assert alarms["unhealthy_targets"]["threshold"] == 0
    # The rates divide by the requests and never by zero.
    for name in ("alb_5xx_rate", "target_5xx_rate"):
        (rate,) = [q for q in alarms[name]["metric_query"] if q.get("return_data")]
        assert rate["expression"].startswith("IF(requests > 0, 100 * FILL(errors, 0) / requests"), name
    (rate,) = [q for q in alarms["login_failures"]["metric_query"] if q.get("return_data")]
    assert "failed / (failed + completed)" in rate["expression"]
    assert "failed >= ${var.login_failure_min_count}" in rate["expression"]
    # The actions: the module's topic when it makes one, and/or one given.
    assert obs.locals["actions"] == "${compact(concat(aws_sns_topic.alarms[*].arn, [var.alarm_topic_arn]))}"


def test_the_topic_is_optional_and_encrypted_with_a_key_cloudwatch_may_use(obs):
    topic = obs.res("aws_sns_topic", "alarms")
    assert topic["count"] == "${var.create_alarm_topic ? 1 : 0}"
    assert topic["kms_master_key_id"] == "${aws_kms_key.alarms[0].arn}"
    key = obs.res("aws_kms_key", "alarms")
    assert key["count"] == "${var.create_alarm_topic ? 1 : 0}"
    assert key["enable_key_rotation"] is True
    statements = {s["sid"]: s for s in obs.data[("aws_iam_policy_document", "alarms_key")]["statement"]}
    cloudwatch = statements["CloudWatchAlarmsPublish"]
    assert cloudwatch["principals"][0]["identifiers"] == ["cloudwatch.amazonaws.com"]
    assert set(cloudwatch["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (publish,) = obs.data[("aws_iam_policy_document", "alarms_topic")]["statement"]
    assert publish["actions"] == ["sns:Publish"]
    assert publish["principals"][0]["identifiers"] == ["cloudwatch.amazonaws.com"]
    assert publish["condition"][0]["variable"] == "aws:SourceAccount"
    subscription = obs.res("aws_sns_topic_subscription", "email")
    assert subscription["protocol"] == "email"


def test_the_metric_filters_match_the_lines_the_bff_logs(obs, bff):
    login_rs = (ROOT / "bff" / "src" / "routes" / "login.rs").read_text()
    for name, message in (("login_failed", "login failed"), ("login_completed", "login completed")):
        metric_filter = obs.res("aws_cloudwatch_log_metric_filter", name)
        assert metric_filter["log_group_name"] == "${var.log_group_name}"
        # python-hcl2 keeps the escaped quotes of the HCL string.
        assert metric_filter["pattern"] == '{ $.fields.message = \\"%s\\" }' % message
        assert re.search(r'tracing::info!\((reason, )?"%s"\)' % message, login_rs), message
        transformation = metric_filter["metric_transformation"][0]
        assert transformation["value"] == "1" and transformation["default_value"] == "0"
    # The BFF writes JSON lines in the deployment, where $.fields.message is.
    assert 'TH_LOG__FORMAT = "json"' in bff.locals["container_environment"]


def test_the_dashboard_shows_every_alarm_and_the_failed_logins_by_reason(obs):
    body = obs.res("aws_cloudwatch_dashboard", "this")["dashboard_body"]
    for alarm in ALARMS:
        assert f"aws_cloudwatch_metric_alarm.{alarm}.arn" in body, alarm
    for metric in ("RequestCount", "TargetResponseTime", "UnHealthyHostCount", "CPUUtilization",
                   "MemoryUtilization", "LoginFailures", "LoginsCompleted"):
        assert metric in body, metric
    assert "stats count() as failures by fields.reason" in body


def test_deploy_md_explains_every_alarm(obs):
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    section = deploy.split("## Alarms and the dashboard", 1)[1]
    for alarm in ALARMS:
        suffix = alarm.replace("_", "-")
        assert f"`<name>-{suffix}`" in section, suffix


def test_the_dashboard_shows_the_sidecars_metrics_only_with_the_sidecar(obs, root, bff):
    assert obs.variables["prometheus_namespace"]["default"] is None
    assert root.modules["observability"]["prometheus_namespace"] == "${module.bff.metrics_namespace}"
    assert bff.outputs["metrics_namespace"]["value"] == "${var.metrics_sidecar ? var.metrics_namespace : null}"
    body = obs.res("aws_cloudwatch_dashboard", "this")["dashboard_body"]
    assert "local.prometheus_widgets" in body
    widgets = obs.locals["prometheus_widgets"]
    assert "var.prometheus_namespace == null ? [] :" in widgets
    # Each search's dimension set and word pick one metric of the sidecar's.
    dimensions = bff.locals["metrics_dimensions"]
    for title, search in obs.locals["prometheus_searches"].items():
        dims, word = search.split("} ")
        found = [name for name, labels in dimensions.items()
                 if sorted(labels) == sorted(dims.split(",")) and word in name]
        assert len(found) == 1, (title, found)
