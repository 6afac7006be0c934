# One root for every environment: pick one with the tfvars and backend files
# in envs/ (docs/deploy.md). Modules:
#   dns_tls      ACM certificates validated through Route53
#   log_bucket   access logs of CloudFront, the ALB and the SPA bucket
#   spa_hosting  S3 + CloudFront (OAC, COEP/COOP, CSP, SPA routing)
#   bff_hosting  VPC, ALB + WAF, ECS Fargate, ECR, secrets, logs, autoscaling
#   session_cache  ElastiCache for server-side sessions (session_store = "redis" only)
#   observability  CloudWatch alarms (optional SNS topic), login metric filters, dashboard
#   ci_access    GitHub OIDC federation and the deploy role

data "aws_caller_identity" "current" {}

data "aws_route53_zone" "this" {
  name         = var.hosted_zone_name
  private_zone = false
}

locals {
  name       = "${var.project}-${var.environment}"
  deploy_tag = coalesce(var.image_deploy_tag, var.environment)
  spa_hosts  = { for sub, folder in var.wasm_clients : sub => "${sub}.${var.domain_name}" }
  bff_host   = "${var.bff_subdomain}.${var.domain_name}"

  # The BFF has one redirect URI: the primary client's URL.
  primary_client = coalesce(var.primary_client, keys(var.wasm_clients)[0])

  # Bucket names are global: the account id keeps them unique.
  spa_bucket = "${local.name}-spa-${data.aws_caller_identity.current.account_id}"
  log_bucket = "${local.name}-logs-${data.aws_caller_identity.current.account_id}"

  tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

module "spa_certificate" {
  source    = "./modules/dns_tls"
  providers = { aws = aws.us_east_1 }

  domain_names = values(local.spa_hosts)
  zone_id      = data.aws_route53_zone.this.zone_id
}

module "bff_certificate" {
  source = "./modules/dns_tls"

  domain_names = [local.bff_host]
  zone_id      = data.aws_route53_zone.this.zone_id
}

module "logs" {
  source = "./modules/log_bucket"

  name           = local.log_bucket
  retention_days = var.log_retention_days
}

module "spa" {
  source = "./modules/spa_hosting"

  name                   = local.name
  bucket_name            = local.spa_bucket
  wasm_clients           = var.wasm_clients
  hosts                  = local.spa_hosts
  zone_id                = data.aws_route53_zone.this.zone_id
  certificate_arn        = module.spa_certificate.certificate_arn
  bff_origin_domain      = module.bff.origin_domain
  origin_verify_header   = module.bff.origin_verify_header
  origin_verify_value    = module.bff.origin_verify_value
  log_bucket             = module.logs.bucket
  log_bucket_domain_name = module.logs.bucket_domain_name
  price_class            = var.spa_price_class
}

module "bff" {
  source = "./modules/bff_hosting"

  name                       = local.name
  vpc_cidr                   = var.vpc_cidr
  az_count                   = var.az_count
  availability_zone_suffixes = var.availability_zone_suffixes
  single_nat_gateway         = var.single_nat_gateway
  host                       = local.bff_host
  zone_id                    = data.aws_route53_zone.this.zone_id
  certificate_arn            = module.bff_certificate.certificate_arn
  log_bucket                 = module.logs.bucket
  alb_deletion_protection    = var.alb_deletion_protection
  image_deploy_tag           = local.deploy_tag
  task_cpu                   = var.task_cpu
  task_memory                = var.task_memory
  desired_count              = var.desired_count
  min_count                  = var.min_count
  max_count                  = var.max_count
  cpu_target_percent         = var.cpu_target_percent
  log_retention_days         = var.log_retention_days
  egress_tcp_ports           = var.bff_egress_tcp_ports
  session_store              = var.session_store
  redis_url_secret_arn       = one(module.session_cache[*].url_secret_arn)
  metrics_sidecar            = var.bff_metrics_sidecar

  # The BFF's non-secret settings; the client secret, the cookie keys and
  # the session cache's URL come from Secrets Manager (see the task
  # definition), TH_SESSION__STORE from session_store.
  environment = merge(
    {
      TH_OIDC__ISSUER                   = var.oidc_issuer
      TH_OIDC__CLIENT_ID                = var.oidc_client_id
      TH_OIDC__REDIRECT_URI             = "https://${local.spa_hosts[local.primary_client]}/"
      TH_OIDC__POST_LOGOUT_REDIRECT_URI = "https://${local.spa_hosts[local.primary_client]}/"
      # Every other app host: a login started there comes back there.
      TH_OIDC__EXTRA_REDIRECT_URIS = jsonencode([for k, h in local.spa_hosts : "https://${h}/" if k != local.primary_client])
      TH_CORS__ALLOWED_ORIGINS          = jsonencode([for h in values(local.spa_hosts) : "https://${h}"])
      # CloudFront's function sets X-Forwarded-Host from the viewer's Host
      # (the ALB is reachable only with CloudFront's secret header), and
      # CloudFront and the ALB each append to X-Forwarded-For.
      TH_FORWARDED__HOST_HEADER     = "x-forwarded-host"
      TH_FORWARDED__TRUSTED_HOPS    = "2"
      TH_FORWARDED__PRIVATE_HEADERS = jsonencode([lower(module.bff.origin_verify_header)])
    },
    var.bff_extra_environment,
  )
}

# Only with session_store = "redis": the cache in the BFF's private
# subnets, and the secret with its URL that module.bff hands to the task
# (redis_url_secret_arn above, null with the cookie store). The ARN comes
# from the secret's version, so the task definition waits for the cache.
# The two modules name each other's outputs, never a resource that depends
# back: Terraform orders them by resource, not by module.
module "session_cache" {
  source = "./modules/session_cache"
  count  = var.session_store == "redis" ? 1 : 0

  name                     = local.name
  vpc_id                   = module.bff.vpc_id
  subnet_ids               = module.bff.private_subnet_ids
  client_security_group_id = module.bff.task_security_group_id
  kms_key_arn              = module.bff.kms_key_arn
  engine                   = var.session_cache_engine
  node_type                = var.session_cache_node_type
  num_cache_clusters       = var.session_cache_nodes
  snapshot_retention_days  = var.session_cache_snapshot_retention_days
}

# Alarms on the load balancer, the service and the failed logins (metric
# filters on the BFF's JSON logs), and a dashboard of the same
# (docs/deploy.md#alarms-and-the-dashboard).
module "observability" {
  source = "./modules/observability"

  name                    = local.name
  alb_arn_suffix          = module.bff.alb_arn_suffix
  target_group_arn_suffix = module.bff.target_group_arn_suffix
  cluster_name            = module.bff.cluster_name
  service_name            = module.bff.service_name
  log_group_name          = module.bff.log_group
  prometheus_namespace    = module.bff.metrics_namespace
  create_alarm_topic      = var.create_alarm_topic
  alarm_emails            = var.alarm_emails
}

module "ci" {
  source = "./modules/ci_access"

  name                 = local.name
  github_repository    = var.github_repository
  github_branch        = var.github_branch
  create_oidc_provider = var.create_github_oidc_provider
  spa_bucket_arn       = module.spa.bucket_arn
  spa_kms_key_arn      = module.spa.kms_key_arn
  distribution_arns    = values(module.spa.distribution_arns)
  ecr_repository_arn   = module.bff.ecr_repository_arn
  ecs_service_arn      = module.bff.service_arn
  # The only task definition family the CI role may roll the service out to.
  ecs_task_definition_family = module.bff.task_definition_family
}
