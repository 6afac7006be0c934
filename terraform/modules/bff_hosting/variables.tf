variable "name" {
  description = "Prefix of resource names, e.g. token-handler-dev."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "az_count" {
  description = "Availability zones to spread subnets over (at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2
    error_message = "az_count must be at least 2: the ALB needs two zones."
  }
}

variable "availability_zone_suffixes" {
  description = "Zones allowed, as suffixes of the region's name; the first az_count available ones are used."
  type        = list(string)
  default     = ["a", "b", "c"]
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by all private subnets instead of one per AZ."
  type        = bool
  default     = false
}

variable "host" {
  description = "The BFF's public host name."
  type        = string
}

variable "zone_id" {
  description = "Route53 zone for the BFF's alias record."
  type        = string
}

variable "certificate_arn" {
  description = "Validated ACM certificate (in this region) for the host."
  type        = string
}

variable "log_bucket" {
  description = "Bucket for the ALB's access logs (same region)."
  type        = string
}

variable "origin_verify_header" {
  description = "Header CloudFront adds (with a random secret value) so the ALB serves only CloudFront."
  type        = string
  default     = "X-Origin-Verify"
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
  default     = true
}

variable "image_deploy_tag" {
  description = "The moving tag the service runs (CI pushes it, then forces a new deployment)."
  type        = string
}

variable "container_port" {
  description = "Port the BFF listens on inside the task."
  type        = number
  default     = 8080
}

variable "container_user" {
  description = "Numeric uid:gid the container runs as (never root)."
  type        = string
  default     = "65532:65532"

  validation {
    condition     = can(regex("^[1-9][0-9]*:[1-9][0-9]*$", var.container_user))
    error_message = "container_user must be a numeric, non-zero uid:gid."
  }
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
  description = "Initial number of tasks."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Fewest tasks."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Most tasks."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Average CPU that autoscaling aims for."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Retention of the BFF's logs (and the VPC flow logs, exec logs, WAF logs)."
  type        = number
}

variable "environment" {
  description = "Non-secret TH_* settings of the BFF."
  type        = map(string)
  default     = {}

  # These come from Secrets Manager or from session_store: never plain here.
  validation {
    condition     = length(setintersection(keys(var.environment), ["TH_OIDC__CLIENT_SECRET", "TH_COOKIES__KEYS", "TH_REDIS__URL", "TH_SESSION__STORE"])) == 0
    error_message = "environment must not set TH_OIDC__CLIENT_SECRET, TH_COOKIES__KEYS or TH_REDIS__URL (secrets) nor TH_SESSION__STORE (set session_store)."
  }
}

variable "egress_tcp_ports" {
  description = "TCP ports tasks may reach anywhere (provider, upstream APIs, AWS endpoints)."
  type        = list(number)
  default     = [443]
}

variable "session_store" {
  description = "Where the BFF keeps sessions: cookie (sealed cookies, no state) or redis (the session cache; its URL comes from redis_url_secret_arn)."
  type        = string
  default     = "cookie"

  validation {
    condition     = contains(["cookie", "redis"], var.session_store)
    error_message = "session_store must be \"cookie\" or \"redis\"."
  }
}

variable "redis_url_secret_arn" {
  description = "Secrets Manager secret with the session cache's rediss:// URL (modules/session_cache); required with session_store = \"redis\", null otherwise. Reaches the task as the secret TH_REDIS__URL."
  type        = string
  default     = null

  validation {
    condition     = (var.session_store == "redis") == (var.redis_url_secret_arn != null)
    error_message = "redis_url_secret_arn is required with session_store = \"redis\" and must be null otherwise."
  }
}

variable "metrics_sidecar" {
  description = "Run an AWS Distro for OpenTelemetry collector beside the BFF that scrapes its Prometheus metrics on loopback and writes them to CloudWatch as EMF (docs/deploy.md#prometheus-metrics-in-cloudwatch). Off by default."
  type        = bool
  default     = false

  # The sidecar sets the BFF's metrics listener to loopback; a second,
  # different value from `environment` would be silently overridden.
  validation {
    condition     = !var.metrics_sidecar || !contains(keys(var.environment), "TH_METRICS__LISTEN")
    error_message = "environment must not set TH_METRICS__LISTEN with metrics_sidecar: the sidecar sets it to 127.0.0.1:metrics_port."
  }
}

variable "metrics_sidecar_image" {
  description = "The ADOT collector image, pinned to a release (or a digest): a moving tag would change the task under a running service."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.47.0"

  validation {
    condition     = can(regex("(:v[0-9]+\\.[0-9]+\\.[0-9]+|@sha256:[0-9a-f]{64})$", var.metrics_sidecar_image))
    error_message = "metrics_sidecar_image must name a release tag (:vX.Y.Z) or a digest (@sha256:…), never latest."
  }
}

variable "metrics_port" {
  description = "Loopback port of the BFF's metrics listener with metrics_sidecar (never the container port)."
  type        = number
  default     = 9464

  validation {
    condition     = var.metrics_port != var.container_port
    error_message = "metrics_port must differ from container_port: metrics never share the public listener."
  }
}

variable "metrics_scrape_seconds" {
  description = "How often the sidecar scrapes the BFF and writes to CloudWatch (s); each write is billed as log ingestion."
  type        = number
  default     = 60
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the sidecar ships."
  type        = string
  default     = "TokenHandler/BFF"
}
