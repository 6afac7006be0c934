"""The GitHub workflows: tests on every push through the README's command;
deploy on main only after they pass, with OIDC credentials, never keys."""

import pathlib

import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(doc: dict, job: str) -> list[dict]:
    return doc["jobs"][job]["steps"]


def runs(doc: dict, job: str) -> str:
    return "\n".join(s.get("run", "") for s in steps(doc, job))


def test_ci_runs_on_every_push():
    ci = load("ci.yml")
    assert "push" in ci["on"] and ci["on"]["push"] is None  # no branch filter


def test_ci_runs_exactly_the_readme_test_command():
    ci = load("ci.yml")
    test_steps = [s for s in steps(ci, "test") if "scripts/test.sh" in s.get("run", "")]
    assert [s["run"].strip() for s in test_steps] == ["scripts/test.sh"]


def test_ci_cannot_write_or_assume_roles():
    assert load("ci.yml")["permissions"] == {"contents": "read"}


def test_deploy_runs_on_main_after_ci_passed():
    deploy = load("deploy.yml")
    trigger = deploy["on"]["workflow_run"]
    assert trigger == {"workflows": ["ci"], "types": ["completed"], "branches": ["main"]}
    condition = deploy["jobs"]["deploy"]["if"]
    assert "conclusion == 'success'" in condition and "event == 'push'" in condition
    checkout = steps(deploy, "deploy")[0]
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"


def test_deploy_gets_credentials_by_oidc_only():
    deploy = load("deploy.yml")
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    (creds,) = [s for s in steps(deploy, "deploy") if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(creds["with"])
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "secrets." not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_deploy_job_has_no_environment_so_the_oidc_subject_is_the_branch():
    assert "environment" not in load("deploy.yml")["jobs"]["deploy"]


def test_deploy_builds_syncs_invalidates_pushes_and_rolls_out():
    deploy = load("deploy.yml")
    script = runs(deploy, "deploy")
    assert "trunk build --release" in script
    assert "scripts/sync-spa.sh" in script and "--distribution-id" in script
    rollout_script = (ROOT / "scripts" / "rollout-bff.sh").read_text()
    assert "aws ecs update-service" in rollout_script and "--force-new-deployment" in rollout_script
    (push,) = [s for s in steps(deploy, "deploy") if s.get("uses", "").startswith("docker/build-push-action@")]
    assert push["with"]["push"] is True
    assert "${{ vars.IMAGE_DEPLOY_TAG }}" in push["with"]["tags"]


def test_deploy_rolls_out_the_bff_before_publishing_the_spa():
    names = [s.get("name", "") for s in steps(load("deploy.yml"), "deploy")]
    assert names.index("Roll out the BFF") < names.index("Publish the SPA and invalidate CloudFront")


def test_every_workflow_is_valid_yaml_with_jobs():
    for path in pathlib.Path(WORKFLOWS).glob("*.yml"):
        assert yaml.safe_load(path.read_text())["jobs"], path.name


# The workflow's rollout step, taken from deploy.yml and run as GitHub runs it
# (bash -eo pipefail, from the checkout), against a fake `aws` on PATH that
# plays one ECS rollout: SCENARIO lists what describe-services answers for
# the deployment, poll after poll ("status:rolloutState"; None when it is
# no longer listed). Every call is recorded in $STATE/calls.
FAKE_AWS = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >> "$STATE/calls"
case "$2" in
  update-service) echo "ecs-svc/111" ;;
  describe-services)
    n=$(cat "$STATE/polls" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/polls"
    set -- $SCENARIO
    shift "$n" 2>/dev/null || set --
    echo "${1:-None}" | tr ':' '\t' ;;
  *) exit 255 ;;
esac
"""


def rollout_step() -> str:
    (step,) = [s for s in steps(load("deploy.yml"), "deploy") if s.get("name") == "Roll out the BFF"]
    return step["run"]


def rollout(tmp_path, scenario: str):
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "aws"
    fake.write_text(FAKE_AWS)
    fake.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STATE": str(tmp_path),
        "SCENARIO": scenario,
        "ECS_CLUSTER": "the-cluster",
        "ECS_SERVICE": "the-service",
        "ROLLOUT_POLL_SECS": "0",
        "ROLLOUT_MAX_POLLS": "5",
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", rollout_step()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_deploy_rolls_out_with_the_script_that_checks_its_own_deployment():
    script = runs(load("deploy.yml"), "deploy")
    assert 'scripts/rollout-bff.sh "$ECS_CLUSTER" "$ECS_SERVICE"' in script
    assert "services-stable" not in script


def test_rollout_succeeds_when_its_deployment_completes(tmp_path):
    done = rollout(tmp_path, "PRIMARY:IN_PROGRESS PRIMARY:COMPLETED")
    assert done.returncode == 0, done.stderr


def test_rollout_polls_the_deployment_that_update_service_started(tmp_path):
    done = rollout(tmp_path, "PRIMARY:IN_PROGRESS PRIMARY:COMPLETED")
    assert done.returncode == 0, done.stderr
    update, *polls = (tmp_path / "calls").read_text().splitlines()
    assert update.startswith("ecs update-service --cluster the-cluster --service the-service --force-new-deployment")
    assert len(polls) == 2
    for poll in polls:
        assert poll.startswith("ecs describe-services --cluster the-cluster --services the-service")
        assert "id=='ecs-svc/111'" in poll


def test_rollout_fails_when_the_circuit_breaker_rolled_it_back(tmp_path):
    # The service is stable again, on the old task set: services-stable
    # would pass here.
    for scenario in ("PRIMARY:IN_PROGRESS ACTIVE:FAILED", "PRIMARY:IN_PROGRESS ACTIVE:COMPLETED", "PRIMARY:FAILED"):
        result = rollout(tmp_path / scenario.replace(":", "_").replace(" ", "-"), scenario)
        assert result.returncode != 0, scenario


def test_rollout_fails_when_its_deployment_is_no_longer_listed(tmp_path):
    result = rollout(tmp_path, "PRIMARY:IN_PROGRESS None")
    assert result.returncode != 0
    assert "gone" in result.stderr


def test_rollout_fails_when_it_never_completes(tmp_path):
    result = rollout(tmp_path, " ".join(["PRIMARY:IN_PROGRESS"] * 10))
    assert result.returncode != 0
    assert "did not complete" in result.stderr
    assert (tmp_path / "polls").read_text().strip() == "5"
