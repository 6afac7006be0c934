"""The session cache (session_store = "redis"): an ElastiCache replication
group made only behind the variable, encrypted in transit and at rest with
the BFF's key, AUTH required, in the BFF's private subnets, reachable on 6379
from the BFF tasks only; its URL reaches the container as a Secrets Manager
secret that the execution role, and only it, may read."""

import re

from conftest import TERRAFORM, tfvars

REDIS = '${var.session_store == "redis" ? 1 : 0}'


def port(cache, value) -> int:
    """A port as written in the module: a number or ${local.port}."""
    if value == "${local.port}":
        value = cache.locals["port"]
    return int(value)


def test_the_cache_exists_only_behind_session_store(root, bff, cache, all_modules):
    var = root.variables["session_store"]
    assert var["default"] == "cookie"
    (validation,) = var["validation"]
    assert validation["condition"] == '${contains(["cookie", "redis"], var.session_store)}'
    assert root.modules["session_cache"]["count"] == REDIS
    # Nothing else makes a cache, so "cookie" makes none.
    for mod in all_modules:
        if mod.path != cache.path:
            assert not [t for t, _ in mod.resources if t.startswith("aws_elasticache")], mod.path.name
    assert [n for t, n in cache.resources if t == "aws_elasticache_replication_group"] == ["this"]
    # The BFF is told, and changes its task only with "redis".
    assert root.modules["bff"]["session_store"] == "${var.session_store}"
    assert root.modules["bff"]["redis_url_secret_arn"] == "${one(module.session_cache[*].url_secret_arn)}"
    assert bff.variables["session_store"]["default"] == "cookie"
    assert bff.variables["redis_url_secret_arn"]["default"] is None
    assert bff.locals["redis"] == '${var.session_store == "redis"}'


def test_cache_is_encrypted_in_transit_and_at_rest_with_the_bffs_key(root, bff, cache):
    rg = cache.res("aws_elasticache_replication_group", "this")
    assert rg["transit_encryption_enabled"] is True
    assert rg["transit_encryption_mode"] == "required"
    assert rg["at_rest_encryption_enabled"] is True
    assert rg["kms_key_id"] == "${var.kms_key_arn}"
    assert cache.res("aws_secretsmanager_secret", "url")["kms_key_id"] == "${var.kms_key_arn}"
    # The key is the BFF's own, the one its execution role may decrypt with.
    assert root.modules["session_cache"]["kms_key_arn"] == "${module.bff.kms_key_arn}"
    assert bff.outputs["kms_key_arn"]["value"] == "${aws_kms_key.bff.arn}"


def test_cache_requires_an_auth_token(cache):
    rg = cache.res("aws_elasticache_replication_group", "this")
    assert rg["auth_token"] == "${random_password.auth_token.result}"
    assert rg["auth_token_update_strategy"] in ("ROTATE", "SET")
    token = cache.res("random_password", "auth_token")
    # Long, and URL-safe: it goes into rediss://:<token>@host unescaped.
    assert token["length"] >= 32
    assert token["special"] is False


def test_cache_runs_in_the_bffs_private_subnets_across_zones(root, bff, cache):
    rg = cache.res("aws_elasticache_replication_group", "this")
    assert rg["subnet_group_name"] == "${aws_elasticache_subnet_group.this.name}"
    assert cache.res("aws_elasticache_subnet_group", "this")["subnet_ids"] == "${var.subnet_ids}"
    assert root.modules["session_cache"]["subnet_ids"] == "${module.bff.private_subnet_ids}"
    assert bff.outputs["private_subnet_ids"]["value"] == "${[for s in aws_subnet.private : s.id]}"
    assert root.modules["session_cache"]["vpc_id"] == "${module.bff.vpc_id}"
    # A replica in another zone takes over from a failed primary.
    assert rg["automatic_failover_enabled"] is True and rg["multi_az_enabled"] is True
    assert rg["num_cache_clusters"] == "${var.num_cache_clusters}"
    assert "var.num_cache_clusters >= 2" in str(cache.variables["num_cache_clusters"]["validation"])
    assert root.variables["session_cache_nodes"]["default"] >= 2
    assert "var.session_cache_nodes >= 2" in str(root.variables["session_cache_nodes"]["validation"])


def test_cache_admits_only_the_bff_tasks_on_6379(root, bff, cache):
    sg = "${aws_security_group.cache.id}"
    assert cache.res("aws_elasticache_replication_group", "this")["security_group_ids"] == [sg]
    group = cache.res("aws_security_group", "cache")
    assert not {"ingress", "egress", "dynamic"} & set(group), "no inline rules"
    assert not cache.all("aws_security_group_rule")

    ingress = [r for r in cache.all("aws_vpc_security_group_ingress_rule").values()]
    (rule,) = [r for r in ingress if r["security_group_id"] == sg]
    assert len(ingress) == 1
    assert rule["referenced_security_group_id"] == "${var.client_security_group_id}"
    assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)
    assert rule["ip_protocol"] == "tcp"
    assert port(cache, rule["from_port"]) == port(cache, rule["to_port"]) == 6379
    # The nodes open no connection themselves.
    egress = cache.all("aws_vpc_security_group_egress_rule").values()
    assert not [r for r in egress if r["security_group_id"] == sg]
    # The client group is the BFF tasks'.
    assert root.modules["session_cache"]["client_security_group_id"] == "${module.bff.task_security_group_id}"
    assert bff.outputs["task_security_group_id"]["value"] == "${aws_security_group.tasks.id}"


def test_the_tasks_may_reach_the_cache_on_6379_only(cache):
    egress = cache.all("aws_vpc_security_group_egress_rule")
    (rule,) = egress.values()
    assert rule["security_group_id"] == "${var.client_security_group_id}"
    assert rule["referenced_security_group_id"] == "${aws_security_group.cache.id}"
    assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)
    assert port(cache, rule["from_port"]) == port(cache, rule["to_port"]) == 6379


def test_the_url_is_a_tls_url_with_the_token_in_a_secret(cache):
    version = cache.res("aws_secretsmanager_secret_version", "url")
    assert version["secret_id"] == "${aws_secretsmanager_secret.url.id}"
    url = version["secret_string"]
    assert url.startswith("rediss://:${random_password.auth_token.result}@")
    assert "${aws_elasticache_replication_group.this.primary_endpoint_address}:" in url
    assert port(cache, url.rsplit(":", 1)[1]) == 6379
    # Whoever names the secret (the task) waits for its value, i.e. for the cache.
    assert cache.outputs["url_secret_arn"]["value"] == "${aws_secretsmanager_secret_version.url.arn}"


def test_the_url_reaches_the_container_only_as_a_secret(root, bff):
    secrets = bff.locals["container_secrets"]
    assert 'local.redis ? [{name = "TH_REDIS__URL", valueFrom = var.redis_url_secret_arn}] : []' in secrets
    assert re.search(r"[{ ]secrets = local\.container_secrets[,}]", bff.res("aws_ecs_task_definition", "bff")["container_definitions"])
    env = bff.locals["container_environment"]
    assert "REDIS" not in env.replace('local.redis ? {TH_SESSION__STORE = "redis"} : {}', "")
    assert 'local.redis ? {TH_SESSION__STORE = "redis"} : {}' in env
    assert "REDIS" not in root.modules["bff"]["environment"].upper()
    # Nor through the extra settings: the module refuses them there.
    (validation,) = bff.variables["environment"]["validation"]
    assert '"TH_REDIS__URL"' in validation["condition"] and '"TH_SESSION__STORE"' in validation["condition"]


def test_the_execution_role_may_read_the_url_secret(bff):
    stmts = bff.data[("aws_iam_policy_document", "execution")]["statement"]
    (read,) = [s for s in stmts if s["sid"] == "ReadSecrets"]
    assert read["actions"] == ["secretsmanager:GetSecretValue"]
    assert read["resources"].endswith(", local.redis ? [var.redis_url_secret_arn] : [])}")
    (decrypt,) = [s for s in stmts if s["sid"] == "DecryptSecretsAndImage"]
    assert decrypt["actions"] == ["kms:Decrypt"] and decrypt["resources"] == ["${aws_kms_key.bff.arn}"]
    assert "redis" not in str(bff.data[("aws_iam_policy_document", "task")]).lower()


def test_no_output_shows_the_token_or_the_url(root, cache):
    for name, out in cache.outputs.items():
        value = str(out["value"])
        assert "random_password" not in value and "secret_string" not in value, name
        assert "primary_endpoint" not in value or out.get("sensitive") is True, name
    for name, out in root.outputs.items():
        if "session_cache" in str(out["value"]):
            assert out["value"] == "${one(module.session_cache[*].url_secret_arn)}", name


def test_examples_and_docs_show_how_to_turn_it_on(root):
    for env in ("dev", "prod"):
        assert "session_store" not in tfvars(env), "the examples keep the cookie store"
        text = (TERRAFORM / "envs" / f"{env}.tfvars.example").read_text()
        assert re.search(r'^# session_store = "redis"$', text, re.M), env
    docs = (TERRAFORM.parent / "docs" / "deploy.md").read_text()
    assert 'session_store = "redis"' in docs and "modules/session_cache" in docs
