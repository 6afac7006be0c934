variable "project" {
  description = "Short name used as a prefix of every resource name."
  type        = string
  default     = "token-handler"
}

variable "environment" {
  description = "Environment name (dev, prod, …); part of every name and the deploy tag of the image."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: lowercase letters, digits and dashes, 2-16 characters."
  }
}

variable "region" {
  description = "AWS region for everything except the CloudFront certificate (always us-east-1)."
  type        = string
  default     = "eu-west-1"
}

variable "hosted_zone_name" {
  description = "An existing public Route53 hosted zone, e.g. example.com."
  type        = string
}

variable "domain_name" {
  description = "Domain under the zone that this environment's hosts live in, e.g. dev.example.com, or example.com itself."
  type        = string
}

variable "wasm_clients" {
  description = "SPA clients: subdomain => S3 folder. Each gets its own CloudFront distribution with one alias, <subdomain>.<domain_name>, served from s3://<bucket>/<folder>/."
  type        = map(string)
  default     = { app = "app" }

  validation {
    # _releases holds scripts/sync-spa.sh's release records: never a served folder.
    condition     = length(var.wasm_clients) > 0 && alltrue([for k, v in var.wasm_clients : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", k)) && can(regex("^[A-Za-z0-9._-]+$", v)) && !contains([".", "..", "_releases"], v)])
    error_message = "wasm_clients: at least one entry; keys are DNS labels, values are single folder names other than ., .. and _releases."
  }
}

variable "primary_client" {
  description = "The wasm_clients key whose URL is the BFF's redirect URI (the BFF has one); defaults to the first key in sort order."
  type        = string
  default     = null
}

variable "bff_subdomain" {
  description = "Subdomain of the BFF's load balancer, <bff_subdomain>.<domain_name>. Browsers never call it directly: each SPA distribution forwards /bff/* and /api/* there."
  type        = string
  default     = "bff"
}

variable "spa_price_class" {
  description = "CloudFront price class of the SPA distributions."
  type        = string
  default     = "PriceClass_100"
}

variable "vpc_cidr" {
  description = "CIDR block of the BFF's VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Number of availability zones (at least 2: the ALB needs two)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2
    error_message = "az_count must be at least 2."
  }
}

variable "availability_zone_suffixes" {
  description = "Zones the VPC may use, as suffixes of the region name (eu-west-1 + a); the first az_count available ones are used."
  type        = list(string)
  default     = ["a", "b", "c"]
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper, dev) instead of one per AZ (prod)."
  type        = bool
  default     = false
}

variable "image_deploy_tag" {
  description = "The moving image tag the ECS service runs; CI pushes <git sha> and this tag, then forces a new deployment. Defaults to the environment name."
  type        = string
  default     = null
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 512
}

variable "desired_count" {
  description = "Initial number of BFF tasks; autoscaling moves it between min_count and max_count."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Fewest BFF tasks."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Most BFF tasks."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Average service CPU that autoscaling aims for."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Retention of the BFF's CloudWatch logs, per environment (e.g. 14 in dev, 365 in prod)."
  type        = number
  default     = 365
}

variable "create_alarm_topic" {
  description = "Make an SNS topic (KMS-encrypted) that the CloudWatch alarms notify."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion (turn off only to destroy a dev environment)."
  type        = bool
  default     = true
}

variable "oidc_issuer" {
  description = "The OpenID provider's issuer URL (exactly as in its metadata)."
  type        = string
}

variable "oidc_client_id" {
  description = "The BFF's client id at the provider."
  type        = string
}

variable "bff_extra_environment" {
  description = "More TH_* settings for the BFF (non-secret), e.g. { TH_LOG__FILTER = \"info\" }."
  type        = map(string)
  default     = {}
}

variable "bff_egress_tcp_ports" {
  description = "TCP ports BFF tasks may connect out to (the provider, upstream APIs, AWS endpoints)."
  type        = list(number)
  default     = [443]
}

variable "github_repository" {
  description = "The GitHub repository, OWNER/NAME, whose workflow may deploy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/NAME."
  }
}

variable "github_branch" {
  description = "The only branch whose workflow runs may assume the deploy role. Must be the repository's default branch: the deploy runs on workflow_run, and GitHub signs those tokens with the default branch's ref."
  type        = string
  default     = "main"
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC identity provider (only one may exist per account; set false in the second environment of the same account)."
  type        = bool
  default     = true
}

variable "session_store" {
  description = "Where the BFF keeps sessions: \"cookie\" (sealed cookies; nothing on the server) or \"redis\" (an ElastiCache replication group, modules/session_cache; the browser holds only a sealed session key)."
  type        = string
  default     = "cookie"

  validation {
    condition     = contains(["cookie", "redis"], var.session_store)
    error_message = "session_store must be \"cookie\" or \"redis\"."
  }
}

variable "session_cache_engine" {
  description = "Engine of the session cache (session_store = \"redis\"): valkey (Redis OSS compatible, about 20% cheaper) or redis."
  type        = string
  default     = "valkey"

  validation {
    condition     = contains(["valkey", "redis"], var.session_cache_engine)
    error_message = "session_cache_engine must be \"valkey\" or \"redis\"."
  }
}

variable "session_cache_node_type" {
  description = "Node type of the session cache (session_store = \"redis\"); a session takes a few hundred bytes."
  type        = string
  default     = "cache.t4g.micro"

  validation {
    condition     = startswith(var.session_cache_node_type, "cache.")
    error_message = "session_cache_node_type must be an ElastiCache node type, e.g. cache.t4g.micro."
  }
}

variable "session_cache_nodes" {
  description = "Nodes of the session cache (session_store = \"redis\"): a primary and replicas in other zones, at least 2 for automatic failover."
  type        = number
  default     = 2

  validation {
    condition     = var.session_cache_nodes >= 2 && var.session_cache_nodes <= 6 && floor(var.session_cache_nodes) == var.session_cache_nodes
    error_message = "session_cache_nodes must be a whole number from 2 to 6."
  }
}

variable "session_cache_snapshot_retention_days" {
  description = "Days a daily snapshot of the session cache is kept (session_store = \"redis\"); 0 turns snapshots off. Sessions last hours, so 1 is plenty."
  type        = number
  default     = 1

  validation {
    condition     = var.session_cache_snapshot_retention_days >= 0 && var.session_cache_snapshot_retention_days <= 35
    error_message = "session_cache_snapshot_retention_days must be 0 to 35."
  }
}

variable "bff_metrics_sidecar" {
  description = "Ship the BFF's Prometheus metrics to CloudWatch (namespace TokenHandler/BFF) with an ADOT collector beside it in each task; costs CloudWatch custom metrics and log ingestion (docs/deploy.md#prometheus-metrics-in-cloudwatch)."
  type        = bool
  default     = false
}
