"""BFF hosting: private Fargate tasks that run non-root on a read-only root
filesystem, secrets from Secrets Manager, an HTTPS-only ALB, encrypted exec
logging, per-environment log retention, CPU autoscaling, safe rollouts."""

import re

from conftest import block, load_module, tfvars


def task_json(bff) -> str:
    return bff.res("aws_ecs_task_definition", "bff")["container_definitions"]


def container_field(bff, name: str) -> str:
    """The right-hand side of `name = …` in the container definition."""
    m = re.search(rf"[{{ ]{name} = ([^,}}]+)", task_json(bff))
    assert m, f"container definition has no {name}"
    return m.group(1).strip()


def test_tasks_get_no_public_ip_and_run_in_private_subnets(bff):
    net = block(bff.res("aws_ecs_service", "bff"), "network_configuration")
    assert net["assign_public_ip"] is False
    assert net["subnets"] == "${[for s in aws_subnet.private : s.id]}"
    for subnet in (bff.res("aws_subnet", "private"), bff.res("aws_subnet", "public")):
        assert subnet["map_public_ip_on_launch"] is False


def test_private_subnets_leave_through_nat_only(bff):
    route = bff.res("aws_route", "private_nat")
    assert "nat_gateway_id" in route and "gateway_id" not in route
    assert bff.res("aws_route", "public_internet")["gateway_id"] == "${aws_internet_gateway.this.id}"


def test_vpc_spans_at_least_two_zones(bff, root):
    assert "var.az_count >= 2" in bff.text
    assert root.variables["az_count"]["default"] >= 2
    assert bff.res("aws_subnet", "private")["for_each"] == "${local.private_net}"


def test_root_filesystem_is_read_only(bff):
    assert container_field(bff, "readonlyRootFilesystem") == "true"
    assert container_field(bff, "privileged") == "false"
    assert 'drop = ["ALL"]' in task_json(bff)


def test_container_runs_as_numeric_non_root_user(bff):
    assert container_field(bff, "user") == "var.container_user"
    var = bff.variables["container_user"]
    uid, gid = var["default"].split(":")
    assert int(uid) > 0 and int(gid) > 0
    # The validation rejects root and names: it demands non-zero numbers.
    assert "^[1-9][0-9]*:[1-9][0-9]*$" in str(var["validation"])


def test_secrets_come_from_secrets_manager_not_plain_environment(bff, root):
    assert container_field(bff, "secrets") == "local.container_secrets"
    secrets = bff.locals["container_secrets"]
    for env, secret in (("TH_OIDC__CLIENT_SECRET", "client_secret"), ("TH_COOKIES__KEYS", "cookie_keys")):
        assert f'{{name = "{env}", valueFrom = aws_secretsmanager_secret.{secret}.arn}}' in secrets
        assert bff.res("aws_secretsmanager_secret", secret)["kms_key_id"] == "${aws_kms_key.bff.arn}"
    assert "CLIENT_SECRET" not in str(root.modules["bff"]["environment"])
    assert "COOKIES__KEYS" not in str(root.modules["bff"]["environment"])


def test_only_the_execution_role_reads_the_secrets(bff):
    stmts = bff.data[("aws_iam_policy_document", "execution")]["statement"]
    (read,) = [s for s in stmts if s["sid"] == "ReadSecrets"]
    assert read["actions"] == ["secretsmanager:GetSecretValue"]
    # The two secrets, and the session cache's URL with session_store = "redis".
    assert read["resources"] == (
        "${concat([aws_secretsmanager_secret.client_secret.arn, aws_secretsmanager_secret.cookie_keys.arn],"
        " local.redis ? [var.redis_url_secret_arn] : [])}"
    )
    task_actions = str(bff.data[("aws_iam_policy_document", "task")])
    assert "secretsmanager" not in task_actions


def test_container_health_check_is_the_binary_itself(bff):
    assert '"/usr/local/bin/bff", "healthcheck"' in task_json(bff)
    assert "/healthz" in task_json(bff)


def test_alb_listens_on_https_only(bff):
    listeners = [body for (rtype, _), body in bff.resources.items() if rtype == "aws_lb_listener"]
    assert [l["port"] for l in listeners] == [443]
    ingress = [body for (rtype, _), body in bff.resources.items() if rtype == "aws_vpc_security_group_ingress_rule"]
    from_cloudfront = [r for r in ingress if "cloudfront" in str(r.get("prefix_list_id", ""))]
    assert [(r["from_port"], r["to_port"]) for r in from_cloudfront] == [(443, 443)]


SEPARATE_RULES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule")


def cloudfront_prefix_list_rules(mod) -> dict[str, int]:
    """How many rules of each security group name CloudFront's origin-facing
    prefix list, over separate rule resources and inline ingress/egress
    blocks. A rule that can repeat (count, for_each, a dynamic block) counts
    as two: every copy names the list again."""
    refs = [
        f"data.aws_ec2_managed_prefix_list.{name}."
        for (rtype, name), body in mod.data.items()
        if rtype == "aws_ec2_managed_prefix_list" and "cloudfront.origin-facing" in str(body)
    ]

    def weight(rule: dict, repeated: bool) -> int:
        named = str(rule.get("prefix_list_id", "")) + str(rule.get("prefix_list_ids", ""))
        n = sum(named.count(ref) for ref in refs)
        return max(n, 2) if n and repeated else n

    per_group: dict[str, int] = {}
    for (rtype, name), body in mod.resources.items():
        if rtype in SEPARATE_RULES:
            found = [(str(body.get("security_group_id")), weight(body, "count" in body or "for_each" in body))]
        elif rtype == "aws_security_group":
            group = f"${{aws_security_group.{name}.id}}"
            inline = [weight(r, False) for kind in ("ingress", "egress") for r in body.get(kind, [])]
            dynamic = [
                weight(content, True)
                for d in body.get("dynamic", [])
                for kind, spec in d.items()
                if kind in ("ingress", "egress")
                for content in spec.get("content", [])
            ]
            found = [(group, w) for w in inline + dynamic]
        else:
            continue
        for group, n in found:
            if n:
                per_group[group] = per_group.get(group, 0) + n
    return per_group


def test_no_security_group_references_the_cloudfront_prefix_list_twice(all_modules, bff):
    # The origin-facing list weighs ~55 rules against a quota of 60 per group:
    # two references make `apply` fail (RulesPerSecurityGroupLimitExceeded).
    for mod in all_modules:
        for group, count in cloudfront_prefix_list_rules(mod).items():
            assert count <= 1, f"{mod.path.name}: {group} references the CloudFront prefix list {count} times"
    assert cloudfront_prefix_list_rules(bff) == {"${aws_security_group.alb.id}": 1}


def test_the_prefix_list_count_sees_inline_separate_and_repeated_rules(tmp_path):
    (tmp_path / "sg.tf").write_text(
        """
data "aws_ec2_managed_prefix_list" "cf" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}
resource "aws_security_group" "inline" {
  ingress {
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [data.aws_ec2_managed_prefix_list.cf.id]
  }
}
resource "aws_vpc_security_group_ingress_rule" "http" {
  security_group_id = aws_security_group.inline.id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cf.id
}
resource "aws_security_group" "dynamic" {
  dynamic "ingress" {
    for_each = [80, 443]
    content {
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      prefix_list_ids = [data.aws_ec2_managed_prefix_list.cf.id]
    }
  }
}
resource "aws_security_group_rule" "each" {
  for_each          = toset(["80", "443"])
  type              = "ingress"
  security_group_id = aws_security_group.legacy.id
  protocol          = "tcp"
  from_port         = each.value
  to_port           = each.value
  prefix_list_ids   = [data.aws_ec2_managed_prefix_list.cf.id]
}
"""
    )
    assert cloudfront_prefix_list_rules(load_module(tmp_path)) == {
        "${aws_security_group.inline.id}": 2,
        "${aws_security_group.dynamic.id}": 2,
        "${aws_security_group.legacy.id}": 2,
    }


def test_alb_serves_tls12_or_better_and_forwards_to_the_bff(bff):
    https = bff.res("aws_lb_listener", "https")
    assert https["protocol"] == "HTTPS" and https["port"] == 443
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    rule = bff.res("aws_lb_listener_rule", "from_cloudfront")
    assert rule["listener_arn"] == "${aws_lb_listener.https.arn}"
    assert block(rule, "action") == {"type": "forward", "target_group_arn": "${aws_lb_target_group.bff.arn}"}
    lb = bff.res("aws_lb", "this")
    assert lb["drop_invalid_header_fields"] is True
    assert block(lb, "access_logs")["enabled"] is True


def test_target_group_health_checks_healthz(bff):
    tg = bff.res("aws_lb_target_group", "bff")
    hc = block(tg, "health_check")
    assert hc["path"] == "/healthz"
    assert hc["matcher"] == "200"
    assert tg["target_type"] == "ip"


def test_tasks_accept_traffic_only_from_the_alb(bff):
    ingress = bff.all("aws_vpc_security_group_ingress_rule")
    to_tasks = [r for r in ingress.values() if r["security_group_id"] == "${aws_security_group.tasks.id}"]
    assert len(to_tasks) == 1
    assert to_tasks[0]["referenced_security_group_id"] == "${aws_security_group.alb.id}"
    assert "cidr_ipv4" not in to_tasks[0]


def test_exec_sessions_are_encrypted_and_logged_encrypted(bff):
    cluster = bff.res("aws_ecs_cluster", "this")
    exec_cfg = block(block(cluster, "configuration"), "execute_command_configuration")
    assert exec_cfg["kms_key_id"] == "${aws_kms_key.bff.arn}"
    assert exec_cfg["logging"] == "OVERRIDE"
    log = block(exec_cfg, "log_configuration")
    assert log["cloud_watch_encryption_enabled"] is True
    assert bff.res("aws_cloudwatch_log_group", "exec")["kms_key_id"] == "${aws_kms_key.bff.arn}"


def test_log_retention_is_set_per_environment(bff):
    group = bff.res("aws_cloudwatch_log_group", "bff")
    assert group["retention_in_days"] == "${var.log_retention_days}"
    assert group["kms_key_id"] == "${aws_kms_key.bff.arn}"
    dev, prod = tfvars("dev"), tfvars("prod")
    assert dev["log_retention_days"] < prod["log_retention_days"]
    assert prod["log_retention_days"] >= 365


def test_rollout_has_circuit_breaker_with_rollback(bff):
    svc = bff.res("aws_ecs_service", "bff")
    cb = block(svc, "deployment_circuit_breaker")
    assert cb["enable"] is True and cb["rollback"] is True
    assert svc["deployment_minimum_healthy_percent"] == 100
    assert svc["launch_type"] == "FARGATE"


def test_service_scales_on_cpu(bff):
    policy = bff.res("aws_appautoscaling_policy", "cpu")
    assert policy["policy_type"] == "TargetTrackingScaling"
    cfg = block(policy, "target_tracking_scaling_policy_configuration")
    assert block(cfg, "predefined_metric_specification")["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"
    assert bff.res("aws_appautoscaling_target", "bff")["scalable_dimension"] == "ecs:service:DesiredCount"
    # Autoscaling owns desired_count after the first apply.
    assert block(bff.res("aws_ecs_service", "bff"), "lifecycle")["ignore_changes"] == ["desired_count"]


def test_image_tags_are_immutable_except_the_deploy_tag(bff):
    repo = bff.res("aws_ecr_repository", "bff")
    assert repo["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert block(repo, "image_tag_mutability_exclusion_filter")["filter"] == "${var.image_deploy_tag}"
    assert block(repo, "image_scanning_configuration")["scan_on_push"] is True
    assert 'image = "${aws_ecr_repository.bff.repository_url}:${var.image_deploy_tag}"' in task_json(bff)


def test_alb_serves_only_requests_that_came_through_cloudfront(bff):
    https = bff.res("aws_lb_listener", "https")
    default = block(https, "default_action")
    assert default["type"] == "fixed-response"
    assert block(default, "fixed_response")["status_code"] == "403"
    rule = bff.res("aws_lb_listener_rule", "from_cloudfront")
    header = block(block(rule, "condition"), "http_header")
    assert header["http_header_name"] == "${var.origin_verify_header}"
    assert header["values"] == ["${random_password.origin_verify.result}"]
    assert bff.res("random_password", "origin_verify")["length"] >= 32


def test_alb_admits_only_cloudfront_addresses(bff):
    prefix = bff.data[("aws_ec2_managed_prefix_list", "cloudfront")]
    assert prefix["name"] == "com.amazonaws.global.cloudfront.origin-facing"
    ingress = bff.all("aws_vpc_security_group_ingress_rule")
    to_alb = [r for r in ingress.values() if r["security_group_id"] == "${aws_security_group.alb.id}"]
    assert to_alb
    for rule in to_alb:
        assert rule["prefix_list_id"] == "${data.aws_ec2_managed_prefix_list.cloudfront.id}"
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule


def test_waf_counts_instead_of_blocking_large_bodies_and_cookie_headers(bff):
    acl = bff.res("aws_wafv2_web_acl", "bff")
    (common,) = [r for r in acl["rule"] if r["name"] == "common"]
    group = block(block(common, "statement"), "managed_rule_group_statement")
    assert group["name"] == "AWSManagedRulesCommonRuleSet"
    overrides = {o["name"]: o["action_to_use"][0] for o in group["rule_action_override"]}
    assert set(overrides) == {"SizeRestrictions_BODY", "SizeRestrictions_Cookie_HEADER"}
    assert all("count" in action for action in overrides.values()), overrides


def test_waf_logs_redact_the_cookies_and_the_origin_verify_secret(bff):
    logging = bff.res("aws_wafv2_web_acl_logging_configuration", "bff")
    redacted = [block(f, "single_header")["name"] for f in logging["redacted_fields"]]
    assert "cookie" in redacted
    # WAF matches header names in lower case only.
    assert "${lower(var.origin_verify_header)}" in redacted
    assert bff.variables["origin_verify_header"]["default"].lower() == "x-origin-verify"
