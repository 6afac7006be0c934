"""The CI role: trusted only from one repository's one branch through
GitHub's OIDC federation, allowed only the deploy's own actions."""

from conftest import ROOT, block, interpolate, tfvars

ALLOWED_ACTIONS = {
    "s3:ListBucket",
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "ecs:UpdateService",
    "ecs:DescribeServices",
}


def trust(ci):
    (stmt,) = ci.data[("aws_iam_policy_document", "trust")]["statement"]
    return stmt


def conditions(ci) -> dict:
    return {c["variable"]: c for c in trust(ci)["condition"]}


def test_trust_is_web_identity_from_the_github_provider(ci):
    stmt = trust(ci)
    assert stmt["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    principal = block(stmt, "principals")
    assert principal["type"] == "Federated"
    assert principal["identifiers"] == ["${local.oidc_arn}"]
    assert ci.locals["oidc_host"] == "token.actions.githubusercontent.com"


def test_trust_audience_is_sts(ci):
    aud = conditions(ci)["${local.oidc_host}:aud"]
    assert aud["test"] == "StringEquals"
    assert aud["values"] == ["sts.amazonaws.com"]


def test_trust_subject_is_exactly_one_repo_and_branch(ci):
    sub = conditions(ci)["${local.oidc_host}:sub"]
    assert sub["test"] == "StringEquals"  # never StringLike with wildcards
    assert sub["values"] == ["${local.subject}"]
    assert ci.locals["subject"] == "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"


def test_trust_subject_for_the_example_is_owner_name_main(ci, root):
    values = {
        "github_repository": tfvars("prod")["github_repository"],
        "github_branch": root.variables["github_branch"]["default"],
    }
    assert interpolate(ci.locals["subject"], values) == "repo:OWNER/NAME:ref:refs/heads/main"


def test_root_passes_repo_and_branch_to_the_role(root):
    ci_module = root.modules["ci"]
    assert ci_module["github_repository"] == "${var.github_repository}"
    assert ci_module["github_branch"] == "${var.github_branch}"


def test_role_may_do_only_the_deploy(ci):
    stmts = ci.data[("aws_iam_policy_document", "deploy")]["statement"]
    actions = {a for s in stmts for a in s["actions"]}
    assert actions == ALLOWED_ACTIONS
    assert not any("*" in a for a in actions)


def test_only_ecr_login_has_a_wildcard_resource(ci):
    for stmt in ci.data[("aws_iam_policy_document", "deploy")]["statement"]:
        if stmt["actions"] == ["ecr:GetAuthorizationToken"]:
            continue
        assert "*" not in stmt["resources"], stmt["sid"]


def test_each_permission_is_on_the_one_resource(ci):
    by_sid = {s["sid"]: s for s in ci.data[("aws_iam_policy_document", "deploy")]["statement"]}
    assert by_sid["SpaSync"]["resources"] == ["${var.spa_bucket_arn}/*"]
    assert by_sid["Invalidate"]["resources"] == "${var.distribution_arns}"
    assert by_sid["EcrPush"]["resources"] == ["${var.ecr_repository_arn}"]
    assert by_sid["EcsDescribe"]["resources"] == ["${var.ecs_service_arn}"]
    assert by_sid["EcsRollOut"]["resources"] == ["${var.ecs_service_arn}"]


def test_the_role_may_roll_the_service_out_only_to_the_bffs_task_definition(ci, root):
    by_sid = {s["sid"]: s for s in ci.data[("aws_iam_policy_document", "deploy")]["statement"]}
    rollout = by_sid["EcsRollOut"]
    assert rollout["actions"] == ["ecs:UpdateService"]
    conditions = {c["variable"]: c for c in rollout["condition"]}
    family = conditions["ecs:task-definition"]
    assert family["test"] == "ArnLikeIfExists"
    assert family["values"] == ["arn:aws:ecs:*:*:task-definition/${var.ecs_task_definition_family}:*"]
    assert conditions["ecs:enable-execute-command"]["values"] == ["false"]
    assert root.modules["ci"]["ecs_task_definition_family"] == "${module.bff.task_definition_family}"


def test_the_role_passes_no_role_because_the_deploy_registers_no_task_definition(ci):
    stmts = ci.data[("aws_iam_policy_document", "deploy")]["statement"]
    assert not any(a.startswith("iam:") for s in stmts for a in s["actions"])
    deploy = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    rollout = (ROOT / "scripts" / "rollout-bff.sh").read_text()
    for text in (deploy, rollout):
        assert "register-task-definition" not in text and "task-definition " not in text
        assert "--desired-count" not in text


def test_the_trusted_branch_is_the_branch_the_deploy_runs_for_and_the_docs_say_why(root):
    # On workflow_run GitHub signs the token with the default branch's ref:
    # the trust matches only while github_branch is the default branch.
    import yaml

    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    trigger = deploy[True]["workflow_run"]
    branch = root.variables["github_branch"]["default"]
    assert trigger["branches"] == [branch]
    for env in ("dev", "prod"):
        assert tfvars(env)["github_branch"] == branch
    docs = " ".join((ROOT / "docs" / "deploy.md").read_text().split())
    assert "`workflow_run`" in docs and "**repository's default branch**" in docs
