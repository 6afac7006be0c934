output "spa_bucket" {
  description = "The SPA bucket (scripts/sync-spa.sh --bucket)."
  value       = module.spa.bucket
}

output "wasm_clients" {
  description = "subdomain => S3 folder (scripts/sync-spa.sh --folder, one per entry)."
  value       = var.wasm_clients
}

output "distribution_ids" {
  description = "subdomain => CloudFront distribution id (invalidate after a sync)."
  value       = module.spa.distribution_ids
}

output "spa_urls" {
  description = "subdomain => the SPA's URL."
  value       = module.spa.urls
}

output "bff_urls" {
  description = "subdomain => the BFF's base URL on that SPA's own origin (CloudFront forwards /bff/* and /api/*)."
  value       = { for k, u in module.spa.urls : k => "${u}bff/" }
}

output "bff_origin_url" {
  description = "The BFF's load balancer; it answers 403 to anything that does not come through CloudFront."
  value       = "https://${local.bff_host}"
}

output "ecr_repository_url" {
  description = "Where the image is pushed."
  value       = module.bff.ecr_repository_url
}

output "image_deploy_tag" {
  description = "The tag the ECS service runs; CI pushes it together with the git sha."
  value       = local.deploy_tag
}

output "ecs_cluster" {
  description = "ECS cluster name."
  value       = module.bff.cluster_name
}

output "ecs_service" {
  description = "ECS service name."
  value       = module.bff.service_name
}

output "ci_role_arn" {
  description = "Set as the GitHub variable AWS_ROLE_ARN."
  value       = module.ci.role_arn
}

output "client_secret_arn" {
  description = "Put the OIDC client secret here (docs/deploy.md, step 6)."
  value       = module.bff.client_secret_arn
}

output "cookie_keys_arn" {
  description = "Put the cookie key ring here (docs/deploy.md, step 6)."
  value       = module.bff.cookie_keys_arn
}

output "bff_log_group" {
  description = "The BFF's CloudWatch log group."
  value       = module.bff.log_group
}

output "redis_url_secret_arn" {
  description = "The secret with the session cache's URL (TH_REDIS__URL), session_store = \"redis\" only; null with the cookie store. Its value holds the AUTH token: read it only when you must."
  value       = one(module.session_cache[*].url_secret_arn)
}

output "alarm_topic_arn" {
  description = "The SNS topic the CloudWatch alarms notify (null without create_alarm_topic)."
  value       = module.observability.alarm_topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the BFF."
  value       = module.observability.dashboard_name
}
