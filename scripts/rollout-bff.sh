#!/usr/bin/env bash
# Rolls the BFF's ECS service out to the image behind its deploy tag and
# waits until *that* deployment has completed.
#
# `aws ecs wait services-stable` is not enough: it also succeeds after the
# deployment circuit breaker rolled the rollout back (the service is stable
# again, on the old task set), and the workflow would then publish the SPA
# against the old BFF. So the deployment id from update-service is kept and
# polled until it is PRIMARY with rolloutState COMPLETED; FAILED, or the
# deployment vanishing (replaced by the rollback), fails the run.
#
#   scripts/rollout-bff.sh CLUSTER SERVICE
# Environment: ROLLOUT_POLL_SECS (15), ROLLOUT_MAX_POLLS (80, i.e. 20 min).
set -euo pipefail
cluster=${1:?usage: rollout-bff.sh CLUSTER SERVICE}
service=${2:?usage: rollout-bff.sh CLUSTER SERVICE}
poll=${ROLLOUT_POLL_SECS:-15}
max=${ROLLOUT_MAX_POLLS:-80}

id=$(aws ecs update-service --cluster "$cluster" --service "$service" \
  --force-new-deployment \
  --query "service.deployments[?status=='PRIMARY'] | [0].id" --output text)
if [[ -z $id || $id == None ]]; then
  echo "rollout: update-service answered no PRIMARY deployment" >&2
  exit 1
fi
echo "rollout: deployment $id started"

for ((i = 1; i <= max; i++)); do
  read -r status state < <(aws ecs describe-services --cluster "$cluster" --services "$service" \
    --query "services[0].deployments[?id=='$id'] | [0].[status, rolloutState]" --output text)
  case "$status/$state" in
    PRIMARY/COMPLETED)
      echo "rollout: deployment $id completed"
      exit 0
      ;;
    */FAILED)
      echo "rollout: deployment $id FAILED (the circuit breaker rolls it back)" >&2
      exit 1
      ;;
    None/* | /*)
      echo "rollout: deployment $id is gone (rolled back or replaced)" >&2
      exit 1
      ;;
    ACTIVE/* | INACTIVE/*)
      echo "rollout: deployment $id is no longer PRIMARY ($status/$state): rolled back" >&2
      exit 1
      ;;
  esac
  echo "rollout: $status/$state, waiting ($i/$max)"
  sleep "$poll"
done
echo "rollout: deployment $id did not complete in time" >&2
exit 1
